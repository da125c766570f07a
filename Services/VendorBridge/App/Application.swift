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
    /// Where webhooks may point (`TIERDESK_WEBHOOK_ALLOWED_HOSTS` widens it).
    public let webhookTargets: WebhookTargetPolicy
    let updates: VendorUpdates

    /// Throws when the server secret (which seals vendors' signing secrets) is not configured.
    public init(runtime: ServiceRuntime, webhookTargets: WebhookTargetPolicy = WebhookTargetPolicy()) throws(ConfigurationError) {
        guard let secret = runtime.configuration.secret else {
            throw ConfigurationError(key: "tierdesk.secret", problem: "is required by \(VendorBridge.serviceName)")
        }
        self.runtime = runtime
        self.webhookTargets = webhookTargets
        vendors = VendorStore(secret: secret)
        cases = VendorCaseStore()
        updates = VendorUpdates(cases: cases, tickets: runtime.tickets)
    }
}

public enum VendorBridge {
    public static let serviceName = "vendor-bridge"
    public static let defaultPort = 8083

    public static let openAPI = OpenAPIDocument.text(in: .module)
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(
        reader: reader, serviceName: VendorBridge.serviceName, defaultPort: VendorBridge.defaultPort, needsSecret: true)
    let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
    let webhookTargets = WebhookTargetPolicy(parsing: reader.string(forKey: "tierdesk.webhook.allowed.hosts", default: ""))
    return runtime.makeApplication(router: buildRouter(try VendorBridgeDependencies(runtime: runtime, webhookTargets: webhookTargets)))
}

public func buildRouter(_ deps: VendorBridgeDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: VendorBridge.openAPI)
    VendorController(deps: deps).addRoutes(to: router)
    VendorCaseController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: VendorBridge.serviceName, handler: VendorBridgeEventHandler(deps: deps))
    return router
}

/// Opens a vendor case when a ticket is escalated to Level 4, and only for a ticket that really
/// waits on that vendor at level 4: the internal token alone cannot open a case.
struct VendorBridgeEventHandler: EventHandler {
    let deps: VendorBridgeDependencies
    var consumes: Set<EventType> { [.ticketEscalated] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.data["toTier"]?.intValue == Tier.vendor.rawValue else { return }  // an escalation between levels 1-3
        guard let ticketID = event.ticketId, let vendorID = event.data["vendorId"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
            throw VendorBridgeError.eventRefused("a level 4 escalation names its ticket and vendorId")
        }
        guard let ticket = try await deps.runtime.tickets.find(ticketID, on: connection, logger: logger) else {
            throw VendorBridgeError.eventRefused("no ticket \(ticketID)")
        }
        guard ticket.status == .pendingVendor, ticket.tier == .vendor, ticket.vendorId == vendorID else {
            throw VendorBridgeError.eventRefused(
                "ticket \(ticketID) is not waiting on vendor \(vendorID) at level 4 (it is \(ticket.status.rawValue) at level \(ticket.tier?.rawValue ?? 0))")
        }
        let now = deps.runtime.clock.now()
        let caseID = try await deps.cases.open(
            ticket: ticket, vendorID: vendorID, reason: event.data["reason"]?.stringValue ?? "", on: connection, now: now, logger: logger)
        let opened = EventDraft(
            type: .vendorCaseOpened, actor: "system:vendor-bridge", isPublic: false,
            data: ["caseId": .string(caseID.uuidString.lowercased()), "vendorId": .string(vendorID.uuidString.lowercased())])
        try await deps.runtime.tickets.record(opened, ticketID: ticketID, on: connection, now: now, logger: logger)
        logger.info("vendor case opened", metadata: ["ticket.id": "\(ticketID)", "case.id": "\(caseID)", "vendor.id": "\(vendorID)"])
    }
}
