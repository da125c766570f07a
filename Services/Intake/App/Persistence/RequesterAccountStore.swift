import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `requester_sign_in_links` and `requester_sessions` (migration 0022): a
/// requester signs in with a single-use link mailed to them and then reads all their tickets.
/// Only SHA-256 hashes of the link's key and of the session's token rest in the database.
public struct RequesterAccountStore: Sendable {
    /// How long a sign-in link is good for.
    public static let linkLifetime: TimeInterval = 15 * 60
    /// How long a signed-in requester's session is good for.
    public static let sessionLifetime: TimeInterval = 7 * 86_400
    /// Unused, unexpired links one requester may hold at once: more requests mail nothing.
    public static let maxOpenLinks = 3

    public init() {}

    /// A new link's key for the requester with this email, with their id, stored address and name;
    /// nil when nobody with that email has filed a ticket, or they already hold `maxOpenLinks` open links.
    public func issueLink(email: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> (
        key: String, requesterID: UUID, email: String, name: String?
    )? {
        let normalized = RequesterStore.normalize(email)
        guard
            let (requesterID, stored, name, open) = try await connection.first(
                """
                SELECT r.id, r.email, r.name, (SELECT count(*) FROM requester_sign_in_links l
                                               WHERE l.requester_id = r.id AND l.used_at IS NULL AND l.expires_at > \(now)) AS open
                FROM requesters r WHERE r.email_normalized = \(normalized) FOR UPDATE
                """, logger: logger,
                {
                    (
                        try $0.get("id", as: UUID.self), try $0.get("email", as: String.self), try $0.get("name", as: String?.self),
                        try $0.get("open", as: Int64.self)
                    )
                })
        else { return nil }
        guard open < Self.maxOpenLinks else { return nil }
        let key = Secrets.base64URL(Secrets.randomBytes(32))
        try await connection.execute(
            """
            INSERT INTO requester_sign_in_links (key_hash, requester_id, created_at, expires_at)
            VALUES (\(Secrets.hash(key)), \(requesterID), \(now), \(now.addingTimeInterval(Self.linkLifetime)))
            """, logger: logger)
        return (key, requesterID, stored, name)
    }

    /// Redeems a link's key, once and before it expires: the address is verified and a session
    /// starts. Nil for a key that is unknown, used or expired.
    public func redeem(key: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> RequesterSession? {
        guard
            let requesterID = try await connection.first(
                """
                UPDATE requester_sign_in_links SET used_at = \(now)
                WHERE key_hash = \(Secrets.hash(key)) AND used_at IS NULL AND expires_at > \(now) RETURNING requester_id
                """, logger: logger, { try $0.get("requester_id", as: UUID.self) })
        else { return nil }
        let email = try await connection.first(
            "UPDATE requesters SET email_verified_at = COALESCE(email_verified_at, \(now)) WHERE id = \(requesterID) RETURNING email", logger: logger
        ) { try $0.get("email", as: String.self) }
        let token = Secrets.newToken(.requesterSession)
        let expires = now.addingTimeInterval(Self.sessionLifetime)
        try await connection.execute(
            """
            INSERT INTO requester_sessions (token_hash, requester_id, created_at, expires_at)
            VALUES (\(Secrets.hash(token)), \(requesterID), \(now), \(expires))
            """, logger: logger)
        return RequesterSession(token: token, requesterId: requesterID, email: email ?? "", expiresAt: expires)
    }

    /// Ends the session of `token` (signing out).
    public func end(token: String, on executor: some DatabaseExecutor, logger: Logger) async throws {
        try await executor.execute("DELETE FROM requester_sessions WHERE token_hash = \(Secrets.hash(token))", logger: logger)
    }

    /// Whether `requesterID` filed `ticketID`.
    public func owns(_ requesterID: UUID, ticket ticketID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first("SELECT 1 AS one FROM tickets WHERE id = \(ticketID) AND requester_id = \(requesterID)", logger: logger) { _ in true }
            ?? false
    }

    /// A requester's tickets, newest first, a page at a time.
    public func tickets(
        of requesterID: UUID, limit: Int, after cursor: (Date, UUID)?, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> Page<RequesterTicketSummary> {
        let (before, beforeID) = cursor ?? (.distantFuture, UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        let rows = try await executor.all(
            """
            SELECT t.id, t.reference_number, t.status, t.subject, t.created_at, t.updated_at, s.rating
            FROM tickets t LEFT JOIN satisfaction_answers s ON s.ticket_id = t.id
            WHERE t.requester_id = \(requesterID) AND (t.created_at, t.id) < (\(before), \(beforeID))
            ORDER BY t.created_at DESC, t.id DESC LIMIT \(limit + 1)
            """, logger: logger
        ) { row in
            RequesterTicketSummary(
                id: try row.get("id"), reference: Ticket.reference(number: try row.get("reference_number")), status: try row.get("status"),
                subject: try row.get("subject"), createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"),
                satisfaction: try row.get("rating", as: Int16?.self).map(Int.init))
        }
        return Page(fetched: rows, limit: limit) { Cursor.encode(at: $0.createdAt, id: $0.id) }
    }

    /// Removes expired links and sessions, a small batch at a time; returns how many went.
    public func pruneExpired(on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Int {
        var removed = 0
        for table in ["requester_sign_in_links", "requester_sessions"] {
            let key = table == "requester_sessions" ? "token_hash" : "key_hash"
            let rows = try await executor.all(
                PostgresQuery(
                    unsafeSQL: """
                        DELETE FROM \(table) WHERE \(key) IN (SELECT \(key) FROM \(table) WHERE expires_at < $1 LIMIT 1000) RETURNING 1 AS one
                        """, binds: try PostgresBindings(now)), logger: logger
            ) { _ in 1 }
            removed += rows.count
        }
        return removed
    }
}
