import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// A service's dead-lettered outbox rows (`dead_at` set): read a page at a time, or put one back in line.
public struct DeadLetterStore: Sendable {
    /// The service whose rows these are (`outbox.source`); another service's rows are never read or changed.
    public let source: String

    public init(source: String) { self.source = source }

    /// Dead letters newest first (by `dead_at`, then the row's key), a page at a time after `cursor`.
    public func list(limit: Int, after cursor: DeadLetterCursor?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<DeadLetter> {
        let rows = try await executor.all(
            """
            SELECT event_id, event_type, destination, attempts, last_error, created_at, dead_at FROM outbox
            WHERE source = \(source) AND dead_at IS NOT NULL
              AND (\(cursor?.deadAtMicroseconds)::bigint IS NULL
                OR (dead_at, event_id, destination)
                  < (timestamptz 'epoch' + \(cursor?.deadAtMicroseconds) * interval '1 microsecond', \(cursor?.eventId), \(cursor?.destination)))
            ORDER BY dead_at DESC, event_id DESC, destination DESC LIMIT \(limit + 1)
            """, logger: logger, DeadLetter.init(row:))
        return Page(fetched: rows, limit: limit) { DeadLetterCursor(after: $0).encoded }
    }

    /// Puts a dead letter back in line (attempts reset, due now); false when this service has no such dead letter.
    public func retry(eventID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        let retried = try await executor.all(
            """
            UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now()
            WHERE source = \(source) AND event_id = \(eventID) AND dead_at IS NOT NULL RETURNING destination
            """, logger: logger
        ) { try $0.get("destination", as: String.self) }
        return !retried.isEmpty
    }
}

/// Where a page of dead letters ends: the last row's `dead_at` (microseconds) and key, opaque to clients.
public struct DeadLetterCursor: Sendable, Equatable {
    public var deadAtMicroseconds: Int64
    public var eventId: UUID
    public var destination: String

    public init(deadAtMicroseconds: Int64, eventId: UUID, destination: String) {
        self.deadAtMicroseconds = deadAtMicroseconds
        self.eventId = eventId
        self.destination = destination
    }

    /// The cursor that continues after `letter`.
    public init(after letter: DeadLetter) {
        self.init(deadAtMicroseconds: letter.deadAt.epochMicroseconds, eventId: letter.eventId, destination: letter.destination)
    }

    /// The destination travels base64url-encoded, so no name can break the `|`-separated parts.
    public var encoded: String {
        Cursor.encode(["\(deadAtMicroseconds)", eventId.uuidString, Secrets.base64URL(Data(destination.utf8))])
    }

    /// Parses a cursor; nil for anything this service did not hand out.
    public init?(encoded: String) {
        // Microseconds since 1970, within the years PostgreSQL and Foundation both hold.
        guard let parts = Cursor.decode(encoded, count: 3), let micros = Int64(parts[0]), (0...253_402_300_799_000_000).contains(micros),
            let eventId = UUID(uuidString: parts[1]), let data = Secrets.fromBase64URL(parts[2]), let destination = String(data: data, encoding: .utf8)
        else { return nil }
        self.init(deadAtMicroseconds: micros, eventId: eventId, destination: destination)
    }
}

extension DeadLetter {
    /// A row of `DeadLetterStore.list`.
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            eventId: try row.get("event_id"), eventType: try row.get("event_type"), destination: try row.get("destination"),
            attempts: Int(try row.get("attempts", as: Int32.self)), lastError: try row.get("last_error"), createdAt: try row.get("created_at"),
            deadAt: try row.get("dead_at"))
    }
}
