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
    /// What resolving a ticket costs per level, for the report (`TIERDESK_LEVEL_COSTS`).
    public let costs: LevelCosts
    /// How often the SLA watcher looks for due clocks (`TIERDESK_SLA_CHECK_MS`, default 1000), and
    /// push assignment for waiting tickets.
    public let slaCheckInterval: Duration
    /// Levels that push tickets to agents instead of waiting for claims (`TIERDESK_PUSH_ASSIGNMENT`,
    /// `1:least-loaded,2:round-robin`; empty by default: agents pull).
    public let push: [Tier: PushStrategy]

    public init(reader: ConfigReader) throws(ConfigurationError) {
        let text = reader.string(forKey: "tierdesk.tiers", default: "1,2,3")
        guard let tiers = Tier.parseList(text), tiers.isSubset(of: Set(Tier.agentTiers)) else {
            throw ConfigurationError(key: "tierdesk.tiers", problem: "must list levels 1, 2 or 3 separated by commas, not '\(text)'")
        }
        self.tiers = tiers
        let costText = reader.string(forKey: "tierdesk.level.costs", default: "0:2,1:25,2:60,3:120,4:300")
        guard let costs = LevelCosts(parsing: costText) else {
            throw ConfigurationError(key: "tierdesk.level.costs", problem: "must be level:cost pairs such as 0:2,1:25,2:60, not '\(costText)'")
        }
        self.costs = costs
        let interval = reader.int(forKey: "tierdesk.sla.check.ms", default: 1000)
        guard (50...60_000).contains(interval) else {
            throw ConfigurationError(key: "tierdesk.sla.check.ms", problem: "must be between 50 and 60000 milliseconds, not \(interval)")
        }
        slaCheckInterval = .milliseconds(interval)
        let pushText = reader.string(forKey: "tierdesk.push.assignment", default: "")
        guard let push = PushStrategy.parse(pushText) else {
            throw ConfigurationError(
                key: "tierdesk.push.assignment", problem: "must be level:strategy pairs (round-robin or least-loaded) such as 1:least-loaded, not '\(pushText)'"
            )
        }
        self.push = push
    }

    public init(tiers: Set<Tier>, costs: LevelCosts = .standard, slaCheckInterval: Duration = .seconds(1), push: [Tier: PushStrategy] = [:]) {
        self.tiers = tiers
        self.costs = costs
        self.slaCheckInterval = slaCheckInterval
        self.push = push
    }
}

/// What tier-queue's controllers need; only `buildApplication` creates it.
public struct TierQueueDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let configuration: TierQueueConfiguration
    public let agents: AgentStore
    public let vendorBridge: any VendorBridgeClient
    public let intake: any IntakeClient
    public let triage: any TriageClient
    let work: TicketWork

    public init(
        runtime: ServiceRuntime, configuration: TierQueueConfiguration, vendorBridge: any VendorBridgeClient, intake: any IntakeClient,
        triage: any TriageClient
    ) {
        self.runtime = runtime
        self.configuration = configuration
        self.agents = AgentStore()
        self.vendorBridge = vendorBridge
        self.intake = intake
        self.triage = triage
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
        intake: HTTPIntakeClient(baseURL: configuration.peers.baseURL(for: "intake")!, internalToken: configuration.internalToken),
        triage: HTTPTriageClient(baseURL: configuration.peers.baseURL(for: "triage")!, internalToken: configuration.internalToken))
    return runtime.makeApplication(router: buildRouter(deps), services: backgroundServices(deps))
}

/// The SLA watcher (every replica; each clock is taken by one) and the report's metrics.
public func backgroundServices(_ deps: TierQueueDependencies) -> [PeriodicTask] {
    let runtime = deps.runtime
    let watcher = PeriodicTask(name: "sla-watcher", interval: deps.configuration.slaCheckInterval, logger: runtime.logger) {
        while try await deps.work.sla.tick(client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger) == 100 {}
    }
    let reports = PeriodicTask(name: "report-metrics", interval: .seconds(300), logger: runtime.logger) {
        try await ReportController(deps: deps).publishMetrics(logger: runtime.logger)
    }
    // Push assignment for the levels this instance serves that are configured to push.
    let pushed = deps.configuration.push.filter { deps.configuration.tiers.contains($0.key) }
    guard !pushed.isEmpty else { return [watcher, reports] }
    let assigner = PushAssigner(tickets: runtime.tickets)
    let push = PeriodicTask(name: "push-assignment", interval: deps.configuration.slaCheckInterval, logger: runtime.logger) {
        for (tier, strategy) in pushed.sorted(by: { $0.key < $1.key }) {
            _ = try await assigner.assign(tier: tier, strategy: strategy, client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
        }
    }
    return [watcher, reports, push]
}

public func buildRouter(_ deps: TierQueueDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: TierQueue.openAPI)
    AgentController(deps: deps).addRoutes(to: router)
    QueueController(deps: deps).addRoutes(to: router)
    TicketWorkController(deps: deps).addRoutes(to: router)
    SLAController(deps: deps).addRoutes(to: router)
    WorkPolicyController(deps: deps).addRoutes(to: router)
    ReportController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: TierQueue.serviceName, handler: TierQueueEventHandler(deps: deps))
    return router
}

/// Puts triaged tickets in the queue of their level, a batch at a time: one statement reads and
/// locks the batch's tickets, one writes them back with their `ticket.queued` events, and their SLA
/// clocks start. A requester's reply that reopened or resumed a ticket (from intake), and a vendor
/// case that returned the ticket or went back to the vendor (from vendor-bridge), re-arm its clock.
struct TierQueueEventHandler: EventHandler {
    let deps: TierQueueDependencies
    var consumes: Set<EventType> { [.ticketTriaged, .ticketReopened, .ticketCommented, .vendorUpdated, .vendorMessageSent] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await handle(batch: [event], on: connection, logger: logger)
    }

    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        let now = deps.runtime.clock.now()
        try await queue(events.uniqueTicketIDs(of: .ticketTriaged), on: connection, now: now, logger: logger)
        let resumed = [EventType.ticketReopened, .ticketCommented, .vendorUpdated, .vendorMessageSent].flatMap { events.uniqueTicketIDs(of: $0) }
        try await deps.work.sla.refresh(Array(Set(resumed)), on: connection, now: now, logger: logger)
    }

    func queue(_ ids: [UUID], on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        let store = deps.runtime.tickets
        let sla = deps.work.sla
        let settings = try await sla.store.settings(on: connection, logger: logger)
        let tickets = try await store.lock(ids, on: connection, logger: logger)
        var clocks: [(UUID, Date?, cycle: Int)] = []
        let changes = try ids.compactMap { id -> TicketChange? in
            guard let ticket = tickets[id], ticket.status == .triaged else { return nil }
            let tier = ticket.tier ?? .firstLine
            // A ticket just queued has run since it was submitted, never paused: its clock needs no trail.
            let state = SLAKeeper.startedState(of: ticket, settings: settings, now: now)
            clocks.append((id, state.nextCheck(now: now, row: nil), cycle: state.cycle))
            let draft = EventDraft(TicketQueued(tier: tier.rawValue), actor: "system:tier-queue")
            return try TicketChange(ticket, to: .queued, event: draft) { ticket in
                ticket.requeue(tier: tier, now: ticket.createdAt)
                ticket.firstResponseDueAt = state.firstResponseDueAt
                ticket.resolutionDueAt = state.resolutionDueAt
            }
        }
        _ = try await store.save(changes, on: connection, now: now, logger: logger)
        try await sla.store.schedule(clocks, on: connection, logger: logger)
    }
}
