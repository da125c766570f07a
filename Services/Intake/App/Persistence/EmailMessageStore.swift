import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `email_messages`: the Message-IDs of the mail that formed each ticket, so
/// replies thread onto it and a repeated message is recognised, and why a message was automatic
/// (`automatic`, null for a person's mail): no mail is ever sent in answer to automatic mail.
public struct EmailMessageStore: Sendable {
    public init() {}

    /// The ticket the first of `messageIDs` that is known belongs to (the oldest), or nil.
    public func ticketID(messageIDs: [String], on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        guard !messageIDs.isEmpty else { return nil }
        return try await connection.first(
            "SELECT ticket_id FROM email_messages WHERE message_id = ANY(\(messageIDs)::text[]) ORDER BY received_at LIMIT 1", logger: logger
        ) { try $0.get("ticket_id", as: UUID.self) }
    }

    /// Records that `messageID` belongs to `ticket` (a second record of the same id is ignored);
    /// `automatic` says why it was automatic mail, when it was.
    public func remember(_ messageID: String, ticket: UUID, automatic: String? = nil, on connection: PostgresConnection, now: Date, logger: Logger)
        async throws
    {
        try await connection.execute(
            """
            INSERT INTO email_messages (message_id, ticket_id, received_at, automatic) VALUES (\(messageID), \(ticket), \(now), \(automatic))
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    /// Serialises the processing of one Message-ID for the rest of the caller's transaction.
    public func lock(_ messageID: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("email:" + messageID), 0))", logger: logger)
    }
}
