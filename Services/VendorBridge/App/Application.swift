import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// What vendor-bridge's controllers need; only `buildApplication` creates it.
public struct VendorBridgeDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let vendors: VendorStore
    public let cases: VendorCaseStore

    public init(runtime: ServiceRuntime) {
        self.runtime = runtime
        vendors = VendorStore(secret: runtime.configuration.secret)
        cases = VendorCaseStore()
    }
}

public enum VendorBridge {
    public static let serviceName = "vendor-bridge"
    public static let defaultPort = 8083

    public static let openAPI = OpenAPIDocument.text(in: .module)
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(reader: reader, serviceName: VendorBridge.serviceName, defaultPort: VendorBridge.defaultPort)
    let runtime = try ServiceRuntime(configuration: configuration)
    return runtime.makeApplication(router: buildRouter(VendorBridgeDependencies(runtime: runtime)))
}

public func buildRouter(_ deps: VendorBridgeDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: VendorBridge.openAPI)
    VendorController(deps: deps).addRoutes(to: router)
    VendorCaseController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: VendorBridge.serviceName, handler: VendorBridgeEventHandler(deps: deps))
    return router
}

/// Opens a vendor case when a ticket is escalated to Level 4.
struct VendorBridgeEventHandler: EventHandler {
    let deps: VendorBridgeDependencies

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.type == .ticketEscalated, event.data["toTier"]?.intValue == Tier.vendor.rawValue, let ticketID = event.ticketId,
            let vendorID = event.data["vendorId"]?.stringValue.flatMap(UUID.init(uuidString:))
        else { return }
        guard let ticket = try await deps.runtime.tickets.find(ticketID, on: connection, logger: logger) else {
            throw Problem(type: Problem.typeBase + "unknown-ticket", title: "Unprocessable event", status: 422, detail: "no ticket \(ticketID)")
        }
        let now = Date()
        let caseID = try await deps.cases.open(
            ticket: ticket, vendorID: vendorID, reason: event.data["reason"]?.stringValue ?? "", on: connection, now: now, logger: logger)
        let opened = EventDraft(
            type: .vendorCaseOpened, actor: "system:vendor-bridge", isPublic: false,
            data: ["caseId": .string(caseID.uuidString.lowercased()), "vendorId": .string(vendorID.uuidString.lowercased())])
        try await deps.runtime.tickets.record(opened, ticketID: ticketID, on: connection, now: now, logger: logger)
        logger.info("vendor case opened", metadata: ["ticket.id": "\(ticketID)", "case.id": "\(caseID)", "vendor.id": "\(vendorID)"])
    }
}
