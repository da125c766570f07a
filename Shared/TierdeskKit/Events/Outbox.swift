import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// One row per event a consumer has applied; inserted in the same transaction as the effect, so
/// a repeated delivery is recognised and does nothing.
public struct Inbox: Sendable {
    public let consumer: String

    public init(consumer: String) { self.consumer = consumer }

    /// Records a batch of events in one statement; answers the ids this consumer sees for the
    /// first time (a repeat is left out).
    public func accept(_ events: [EventEnvelope], on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Set<UUID> {
        Set(
            try await connection.all(
                """
                INSERT INTO inbox (consumer, event_id, event_type, received_at)
                SELECT \(consumer), id, type, \(now) FROM unnest(\(events.map(\.id))::uuid[], \(events.map(\.type.rawValue))::text[]) AS e(id, type)
                ON CONFLICT DO NOTHING RETURNING event_id
                """, logger: logger
            ) { try $0.get("event_id", as: UUID.self) })
    }
}
