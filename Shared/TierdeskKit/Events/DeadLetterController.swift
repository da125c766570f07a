import Foundation
import Hummingbird
import PostgresNIO
import TierdeskModels

/// A hand-off that exhausted its attempts, kept for an operator.
public struct DeadLetter: Sendable, Codable, Equatable {
    public init(eventId: UUID, eventType: String, destination: String, attempts: Int, lastError: String?, createdAt: Date, deadAt: Date) {
        self.eventId = eventId
        self.eventType = eventType
        self.destination = destination
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.deadAt = deadAt
    }

    public var eventId: UUID
    public var eventType: String
    public var destination: String
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var deadAt: Date
}

/// Admin endpoints over this service's dead-lettered outbox rows: list them a page at a time, send one again.
struct DeadLetterController: Sendable {
    let store: DeadLetterStore
    let client: PostgresClient
    let clock: any WallClock
    /// This service's outbox rows of one event, as the audit trail records a replay.
    let deadLetter: AuditObject

    init(source: String, client: PostgresClient, clock: any WallClock) {
        store = DeadLetterStore(source: source)
        self.client = client
        self.clock = clock
        deadLetter = AuditObject(
            type: "dead_letter", table: "outbox", match: "t.source = '\(source.replacingOccurrences(of: "'", with: "''"))' AND t.event_id = {id}::uuid",
            columns: ["event_id", "event_type", "destination", "source", "ticket_id", "attempts", "last_error", "next_attempt_at", "dead_at"])
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/admin/dead-letters") { request, context in
            try context.requireAdmin()
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, DeadLetterCursor.init(encoded:))
            return JSONResponse(try await store.list(limit: limit, after: cursor, on: client, logger: context.logger))
        }
        router.post("v1/admin/dead-letters/{eventId}/retry") { _, context in
            try context.requireAdmin()
            guard let eventID = context.parameters.get("eventId", as: UUID.self) else { throw Problem.notFound("dead letter") }
            let actor = try AuditActor(context)
            let retried = try await client.transaction(logger: context.logger) { connection in
                try await AuditTrail.change(
                    "dead_letter.replayed", deadLetter, id: "\(eventID)", by: actor, on: connection, now: clock.now(), logger: context.logger
                ) { try await store.retry(eventID: eventID, on: connection, logger: context.logger) }
            }
            guard retried else { throw Problem.notFound("dead letter") }
            return JSONResponse(["status": "queued"], status: .accepted)
        }
    }
}
