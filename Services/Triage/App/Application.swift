import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// What triage's controllers and event handler need; only `buildApplication` creates it.
public struct TriageDependencies: Sendable {
    public let runtime: ServiceRuntime

    public init(runtime: ServiceRuntime) { self.runtime = runtime }
}

public enum Triage {
    public static let serviceName = "triage"
    public static let defaultPort = 8081

    public static let openAPI = OpenAPIDocument.text(in: .module)
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(reader: reader, serviceName: Triage.serviceName, defaultPort: Triage.defaultPort)
    let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
    return runtime.makeApplication(router: buildRouter(TriageDependencies(runtime: runtime)))
}

public func buildRouter(_ deps: TriageDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: Triage.openAPI)
    deps.runtime.addEventReceiver(to: router, consumer: Triage.serviceName, handler: TriageEventHandler(deps: deps))
    return router
}

/// Classifies each new ticket: priority from impact × urgency, the level it starts at, and the
/// hand-off to that level's queue. A batch is decided at once: its tickets are read and locked in
/// one statement and written back with their events and hand-offs in another.
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
        let tickets = try await store.lock(ids, on: connection, logger: logger)
        let changes = try ids.compactMap { id -> TicketChange? in
            guard let ticket = tickets[id], let routing = Routing.route(for: ticket) else { return nil }  // already past triage: nothing to do
            let draft = EventDraft(
                type: .ticketTriaged, actor: "system:triage",
                data: ["tier": .optional(routing.tier.rawValue), "priority": .string(routing.priority.rawValue), "rule": .null])
            return try TicketChange(ticket, to: .triaged, event: draft, handOff: ["tier-queue:\(routing.tier.rawValue)"]) { ticket in
                ticket.tier = routing.tier
                ticket.priority = routing.priority
            }
        }
        _ = try await store.save(changes, on: connection, now: deps.runtime.clock.now(), logger: logger)
        logger.debug("tickets triaged", metadata: ["count": "\(changes.count)"])
    }
}

/// Where a new ticket goes. Pure, so its rules are unit-tested.
public enum Routing {
    public struct Decision: Sendable, Equatable {
        public var tier: Tier
        public var priority: Priority

        public init(tier: Tier, priority: Priority) {
            self.tier = tier
            self.priority = priority
        }
    }

    /// Level 1 at the ITIL priority, for a ticket still `new`; nil for any other.
    public static func route(for ticket: Ticket?) -> Decision? {
        guard let ticket, ticket.status == .new else { return nil }
        return Decision(tier: .firstLine, priority: Priority(impact: ticket.impact, urgency: ticket.urgency))
    }
}
