import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// One row per event a consumer has applied; inserted in the same transaction as the effect, so
/// a repeated delivery is recognised and does nothing.
public struct Inbox: Sendable {
    public let consumer: String

    public init(consumer: String) { self.consumer = consumer }

    /// A batch into the inbox, prepared once per connection.
    struct Accept: HotStatement {
        static let sql = """
            INSERT INTO inbox (consumer, event_id, event_type, received_at)
            SELECT $1, id, type, $4 FROM unnest($2::uuid[], $3::text[]) AS e(id, type)
            ON CONFLICT DO NOTHING RETURNING event_id
            """
        let bindings: PostgresBindings
    }

    /// Records a batch of events in one statement; answers the ids this consumer sees for the
    /// first time (a repeat is left out).
    public func accept(_ events: [EventEnvelope], on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Set<UUID> {
        Set(
            try await connection.all(
                Accept(bindings: try PostgresBindings(consumer, events.map(\.id), events.map(\.type.rawValue), now)), logger: logger
            ) { try $0.get("event_id", as: UUID.self) })
    }
}
