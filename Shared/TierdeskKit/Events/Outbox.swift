import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// Writes hand-offs into `outbox` inside the caller's transaction, so an event exists exactly when
/// the change that caused it committed.
public struct Outbox: Sendable {
    /// The NOTIFY channel dispatchers LISTEN on; the payload is the source service.
    public static let channel = "tierdesk_outbox"
    /// Whether to NOTIFY on commit. Off, dispatchers still deliver on their poll.
    public let notify: Bool

    public init(notify: Bool) { self.notify = notify }

    /// Queues `event` for each destination (`triage`, `tier-queue:2`, `vendor-bridge`, …).
    public func enqueue(_ event: EventEnvelope, to destinations: [String], source: String, on connection: PostgresConnection, now: Date, logger: Logger)
        async throws
    {
        let payload = try JSONCoding.string(event)
        try await connection.execute(
            """
            INSERT INTO outbox (event_id, destination, source, event_type, payload, next_attempt_at, created_at)
            SELECT \(event.id), destination, \(source), \(event.type.rawValue), \(payload)::jsonb, \(now), \(now)
            FROM unnest(\(destinations)::text[]) AS destination
            """, logger: logger)
        if notify {
            // PostgreSQL folds identical notifications of one transaction into one.
            try await connection.execute("SELECT pg_notify(\(Self.channel), \(source))", logger: logger)
        }
    }
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
