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

/// Admin endpoints over this service's dead-lettered outbox rows: list them, send one again.
struct DeadLetterController: Sendable {
    let source: String
    let client: PostgresClient

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/admin/dead-letters") { _, context in
            try context.requireAdmin()
            let items = try await client.all(
                """
                SELECT event_id, event_type, destination, attempts, last_error, created_at, dead_at FROM outbox
                WHERE source = \(source) AND dead_at IS NOT NULL ORDER BY dead_at DESC LIMIT 200
                """, logger: context.logger
            ) { row in
                DeadLetter(
                    eventId: try row.get("event_id"), eventType: try row.get("event_type"), destination: try row.get("destination"),
                    attempts: Int(try row.get("attempts", as: Int32.self)), lastError: try row.get("last_error"), createdAt: try row.get("created_at"),
                    deadAt: try row.get("dead_at"))
            }
            return JSONResponse(Page(items: items, nextCursor: nil))
        }
        router.post("v1/admin/dead-letters/{eventId}/retry") { _, context in
            try context.requireAdmin()
            guard let eventID = context.parameters.get("eventId", as: UUID.self) else { throw Problem.notFound("dead letter") }
            let retried = try await client.all(
                """
                UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now()
                WHERE source = \(source) AND event_id = \(eventID) AND dead_at IS NOT NULL RETURNING destination
                """, logger: context.logger
            ) { try $0.get("destination", as: String.self) }
            guard !retried.isEmpty else { throw Problem.notFound("dead letter") }
            return JSONResponse(["status": "queued"], status: .accepted)
        }
    }
}
