import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// tier-queue's own settings beside the shared ones.
public struct TierQueueConfiguration: Sendable {
    /// The levels this instance serves (`TIERDESK_TIERS`, default `1,2,3`).
    public let tiers: Set<Tier>

    public init(reader: ConfigReader) throws(ConfigurationError) {
        let text = reader.string(forKey: "tierdesk.tiers", default: "1,2,3")
        guard let tiers = Tier.parseList(text), tiers.isSubset(of: Set(Tier.agentTiers)) else {
            throw ConfigurationError(key: "tierdesk.tiers", problem: "must list levels 1, 2 or 3 separated by commas, not '\(text)'")
        }
        self.tiers = tiers
    }

    public init(tiers: Set<Tier>) { self.tiers = tiers }
}

/// What tier-queue's controllers need; only `buildApplication` creates it.
public struct TierQueueDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let configuration: TierQueueConfiguration
    public let agents: AgentStore
    public let vendorBridge: any VendorBridgeClient
    public let intake: any IntakeClient
    let work: TicketWork

    public init(runtime: ServiceRuntime, configuration: TierQueueConfiguration, vendorBridge: any VendorBridgeClient, intake: any IntakeClient) {
        self.runtime = runtime
        self.configuration = configuration
        self.agents = AgentStore()
        self.vendorBridge = vendorBridge
        self.intake = intake
        work = TicketWork(tickets: runtime.tickets, client: runtime.postgres, vendorBridge: vendorBridge)
    }
}

public enum TierQueue {
    public static let serviceName = "tier-queue"
    public static let defaultPort = 8082

    public static let openAPI = OpenAPIDocument.text(in: .module)
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: TierQueue.defaultPort)
    let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
    let deps = TierQueueDependencies(
        runtime: runtime, configuration: try TierQueueConfiguration(reader: reader),
        vendorBridge: HTTPVendorBridgeClient(baseURL: configuration.peers.baseURL(for: "vendor-bridge")!, internalToken: configuration.internalToken),
        intake: HTTPIntakeClient(baseURL: configuration.peers.baseURL(for: "intake")!, internalToken: configuration.internalToken))
    return runtime.makeApplication(router: buildRouter(deps))
}

public func buildRouter(_ deps: TierQueueDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: TierQueue.openAPI)
    AgentController(deps: deps).addRoutes(to: router)
    QueueController(deps: deps).addRoutes(to: router)
    TicketWorkController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: TierQueue.serviceName, handler: TierQueueEventHandler(deps: deps))
    return router
}

/// Puts triaged tickets in the queue of their level, a batch at a time: one statement reads and
/// locks the batch's tickets, one writes them back with their `ticket.queued` events.
struct TierQueueEventHandler: EventHandler {
    let deps: TierQueueDependencies
    var consumes: Set<EventType> { [.ticketTriaged] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await handle(batch: [event], on: connection, logger: logger)
    }

    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        let ids = events.uniqueTicketIDs(of: .ticketTriaged)
        guard !ids.isEmpty else { return }
        let store = deps.runtime.tickets
        let tickets = try await store.lock(ids, on: connection, logger: logger)
        let changes = try ids.compactMap { id -> TicketChange? in
            guard let ticket = tickets[id], ticket.status == .triaged else { return nil }
            let tier = ticket.tier ?? .firstLine
            let draft = EventDraft(type: .ticketQueued, actor: "system:tier-queue", data: ["tier": .optional(tier.rawValue)])
            return try TicketChange(ticket, to: .queued, event: draft) { ticket in ticket.requeue(tier: tier, now: ticket.createdAt) }
        }
        _ = try await store.save(changes, on: connection, now: deps.runtime.clock.now(), logger: logger)
    }
}
