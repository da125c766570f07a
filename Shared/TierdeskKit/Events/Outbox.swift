import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// One row per event a consumer has applied; inserted in the same transaction as the effect, so
/// a repeated delivery is recognised and does nothing.
public struct Inbox: Sendable {
    public let consumer: String

    public init(consumer: String) { self.consumer = consumer }

    /// True the first time this consumer sees the event; false for a repeat.
    public func accept(_ event: EventEnvelope, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Bool {
        let inserted = try await connection.first(
            """
            INSERT INTO inbox (consumer, event_id, event_type, received_at) VALUES (\(consumer), \(event.id), \(event.type.rawValue), \(now))
            ON CONFLICT DO NOTHING RETURNING event_id
            """, logger: logger
        ) { try $0.get("event_id", as: UUID.self) }
        return inserted != nil
    }
}
