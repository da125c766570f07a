import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// The outbox's settings. Hand-offs are written by `TicketStore.record` in the same statement as the
/// event that causes them, inside the caller's transaction, so an event exists exactly when the
/// change that caused it committed.
public struct Outbox: Sendable {
    /// The NOTIFY channel dispatchers LISTEN on; the payload is the source service.
    public static let channel = "tierdesk_outbox"
    /// Whether to NOTIFY on commit. Off, dispatchers still deliver on their poll.
    public let notify: Bool

    public init(notify: Bool) { self.notify = notify }
}

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
