import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Triage's settings (`TIERDESK_CLASSIFIER_THRESHOLD_PERCENT`, `TIERDESK_RECURRING_COUNT`/`_DAYS`,
/// `TIERDESK_STORM_COUNT`/`_MINUTES`/`_FACTOR`, `TIERDESK_REQUESTER_PRIORITY_CAP`).
public struct TriageSettings: Sendable {
    /// The confidence below which the classifier's proposal is shown but not used (default 0.7).
    public var threshold: Double
    /// The classifier retrains when its newest model is older than this (default a day).
    public var retrainAfter: TimeInterval
    public var problems: ProblemThresholds
    /// The highest priority a requester's own impact and urgency reach (1-5 for P1-P5; default P3).
    public var requesterCap: Priority

    public init(
        threshold: Double = 0.7, retrainAfter: TimeInterval = 86_400, problems: ProblemThresholds = ProblemThresholds(), requesterCap: Priority = .p3
    ) {
        self.requesterCap = requesterCap
        self.threshold = threshold
        self.retrainAfter = retrainAfter
        self.problems = problems
    }

    public init(reader: ConfigReader) throws(ConfigurationError) {
        let percent = try TierdeskConfiguration.int(reader, "tierdesk.classifier.threshold.percent", default: 70, range: 0...100)
        self.init(
            threshold: Double(percent) / 100,
            problems: ProblemThresholds(
                recurringCount: try TierdeskConfiguration.int(reader, "tierdesk.recurring.count", default: 3, range: 2...100),
                recurringDays: try TierdeskConfiguration.int(reader, "tierdesk.recurring.days", default: 30, range: 1...365),
                stormCount: try TierdeskConfiguration.int(reader, "tierdesk.storm.count", default: 10, range: 2...10_000),
                stormMinutes: try TierdeskConfiguration.int(reader, "tierdesk.storm.minutes", default: 60, range: 1...1440),
                stormFactor: Double(try TierdeskConfiguration.int(reader, "tierdesk.storm.factor", default: 5, range: 1...1000))),
            requesterCap: Priority(rank: try TierdeskConfiguration.int(reader, "tierdesk.requester.priority.cap", default: 3, range: 1...5)) ?? .p3)
    }
}

/// What triage's controllers and event handler need; only `buildApplication` creates it.
public struct TriageDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let settings: TriageSettings
    let policies = PolicyStore()
    let policy: PolicyCache
    let training: ClassifierTraining
    let problems: ProblemStore

    public init(runtime: ServiceRuntime, settings: TriageSettings = TriageSettings()) {
        self.runtime = runtime
        self.settings = settings
        policy = PolicyCache(threshold: settings.threshold, requesterCap: settings.requesterCap, clock: runtime.clock)
        training = ClassifierTraining(store: policies, client: runtime.postgres, clock: runtime.clock, threshold: settings.threshold)
        problems = ProblemStore(tickets: runtime.tickets, thresholds: settings.problems, clock: runtime.clock)
    }
}

public enum Triage {
    public static let serviceName = "triage"
    public static let defaultPort = 8081

    public static let openAPI = OpenAPIDocument.text(in: .module)

    /// The demo's resolved tickets (`tierdesk seed-demo` loads them; the classifier learns from them).
    public static func demoHistory() throws -> [DemoTicket] {
        guard let url = Bundle.module.url(forResource: "history", withExtension: "jsonl", subdirectory: "Demo") else { return [] }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            try JSONCoding.decoder.decode(DemoTicket.self, from: Data(line.utf8))
        }
    }
}

/// One resolved ticket of the demo history.
public struct DemoTicket: Sendable, Codable {
    public var subject: String
    public var description: String
    public var category: String
    public var impact: Impact
    public var urgency: Urgency
    public var channel: TierdeskModels.Channel
    public var resolution: String
    public var daysAgo: Int
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(reader: reader, serviceName: Triage.serviceName, defaultPort: Triage.defaultPort)
    let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
    let deps = TriageDependencies(runtime: runtime, settings: try TriageSettings(reader: reader))
    let retrain = PeriodicTask(name: "classifier", interval: .seconds(3600), logger: runtime.logger) {
        try await deps.training.trainIfOlder(than: deps.settings.retrainAfter, logger: runtime.logger)
    }
    return runtime.makeApplication(router: buildRouter(deps), services: [retrain])
}

public func buildRouter(_ deps: TriageDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: Triage.openAPI)
    RuleController(deps: deps).addRoutes(to: router)
    PolicyController(deps: deps).addRoutes(to: router)
    ProblemController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: Triage.serviceName, handler: TriageEventHandler(deps: deps))
    return router
}

/// Decides each new ticket (`TriageEngine`) and hands it on: to its level's queue, to vendor-bridge
/// (level 4, waiting on the vendor), or closed as not an IT matter with the reason the requester
/// reads. A batch is decided at once: its tickets are read and locked in one statement, decided in
/// memory against the cached policy, checked against problems, and written back in one statement.
struct TriageEventHandler: EventHandler {
    let deps: TriageDependencies
    var consumes: Set<EventType> { [.ticketCreated] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await handle(batch: [event], on: connection, logger: logger)
    }

    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        let ids = events.uniqueTicketIDs(of: .ticketCreated)
        guard !ids.isEmpty else { return }
        let store = deps.runtime.tickets
        let now = deps.runtime.clock.now()
        let facts = Dictionary(
            events.compactMap { event in event.ticketId.map { ($0, SubmissionFacts(data: event.data)) } }, uniquingKeysWith: { first, _ in first })
        let tickets = try await store.lock(ids, on: connection, logger: logger)
        let policy = try await deps.policy.current(on: connection, logger: logger)
        var decisions: [UUID: TriageDecision] = [:]
        for id in ids {
            guard let ticket = tickets[id], ticket.status == .new else { continue }  // already past triage: nothing to do
            decisions[id] = TriageEngine.decide(TriageInput(ticket: ticket, facts: facts[id] ?? SubmissionFacts()), policy: policy)
        }
        let linked = try await deps.problems.review(&decisions, tickets: tickets, on: connection, now: now, logger: logger)
        let order = ids.filter { decisions[$0] != nil }
        let triaged = try await store.save(
            try order.map { id in try Self.triaged(tickets[id]!, decisions[id]!) }, on: connection, now: now, logger: logger)
        try await store.setCategorySources(
            order.compactMap { id in decisions[id]!.categorySource.map { (id, $0.rawValue) } }, on: connection, logger: logger)
        // Level 4 and rejections take a second step from `triaged`.
        let onward = try triaged.compactMap { ticket in try Self.onward(ticket, decisions[ticket.id]!) }
        _ = try await store.save(onward, on: connection, now: now, logger: logger)
        for (id, drafts) in linked {
            for draft in drafts { try await store.record(draft.event, ticketID: id, handOff: draft.handOff, on: connection, now: now, logger: logger) }
        }
        logger.debug("tickets triaged", metadata: ["count": "\(order.count)"])
    }

    /// `new → triaged` with the decision, handed to its level's queue when it has one.
    static func triaged(_ ticket: Ticket, _ decision: TriageDecision) throws -> TicketChange {
        let rule: JSONValue =
            decision.explanation.rules.last(where: \.matched).map { ["id": .string($0.ruleId.uuidString.lowercased()), "name": .string($0.name)] } ?? .null
        let data: JSONValue = [
            "tier": .optional(decision.tier), "priority": .string(decision.priority.rawValue), "category": .optional(decision.category),
            "internal": ["rule": rule, "explanation": try JSONValue(encoding: decision.explanation)],
        ]
        let handOff = decision.tier.map { (1...3).contains($0) ? ["tier-queue:\($0)"] : [] } ?? []
        return try TicketChange(ticket, to: .triaged, event: EventDraft(type: .ticketTriaged, actor: "system:triage", data: data), handOff: handOff) {
            $0.tier = decision.tier.flatMap(Tier.init(rawValue:))
            $0.priority = decision.priority
            $0.impact = decision.impact
            $0.urgency = decision.urgency
            $0.category = decision.category
            $0.requiredSkills = decision.skills
        }
    }

    /// A vendor rule's ticket waits on the vendor (vendor-bridge opens the case); a rejected one is closed.
    static func onward(_ ticket: Ticket, _ decision: TriageDecision) throws -> TicketChange? {
        let rule = decision.explanation.rules.last(where: \.matched)?.name ?? "a triage rule"
        if let reason = decision.reject {
            let event = EventDraft(type: .ticketClosed, actor: "system:triage", data: ["reason": .string(reason), "rejected": true])
            return try TicketChange(ticket, to: .closed, event: event)
        }
        guard let vendorId = decision.vendorId else { return nil }
        let event = EventDraft(
            type: .ticketEscalated, actor: "system:triage",
            data: ["toTier": .optional(Tier.vendor.rawValue), "vendorId": .string(vendorId.uuidString.lowercased()), "reason": .string("triage rule: \(rule)")])
        return try TicketChange(ticket, to: .pendingVendor, event: event, handOff: ["vendor-bridge"]) { $0.vendorId = vendorId }
    }
}
