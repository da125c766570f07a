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
/// hand-off to that level's queue.
struct TriageEventHandler: EventHandler {
    let deps: TriageDependencies
    var consumes: Set<EventType> { [.ticketCreated] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.type == .ticketCreated, let ticketID = event.ticketId else { return }
        let now = deps.runtime.clock.now()
        let routing = Routing.route(for: try await deps.runtime.tickets.find(ticketID, on: connection, logger: logger))
        guard let routing else { return }  // already past triage: nothing to do
        let draft = EventDraft(
            type: .ticketTriaged, actor: "system:triage",
            data: ["tier": .optional(routing.tier.rawValue), "priority": .string(routing.priority.rawValue), "rule": .null])
        _ = try await deps.runtime.tickets.update(
            ticketID, to: .triaged, event: draft, handOff: ["tier-queue:\(routing.tier.rawValue)"], on: connection, now: now, logger: logger
        ) { ticket in
            ticket.tier = routing.tier
            ticket.priority = routing.priority
        }
        logger.debug("ticket triaged", metadata: ["ticket.id": "\(ticketID)", "tier": "\(routing.tier.rawValue)"])
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
