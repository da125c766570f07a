import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Listing and revoking a person's tokens and sessions. A list never carries a token or its hash.
extension StaffTokenStore {
    /// The person's live tokens (not revoked, not past their end), newest first; at most 200, the
    /// most a person holds in practice (sessions end within hours, personal tokens are few). The one
    /// whose hash is `current` is marked.
    public func live(of personID: UUID, current: Data?, now: Date, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<
        StaffTokenSummary
    > {
        let items = try await executor.all(
            """
            SELECT id, kind, name, scope, created_at, expires_at, token_hash = \(current ?? Data()) AS current FROM staff_tokens
            WHERE person_id = \(personID) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
            ORDER BY created_at DESC, id LIMIT 200
            """, logger: logger
        ) { row in
            StaffTokenSummary(
                id: try row.get("id"), kind: try row.get("kind"), name: try row.get("name"), scope: try row.get("scope"), createdAt: try row.get("created_at"),
                expiresAt: try row.get("expires_at"), current: try row.get("current"))
        }
        return Page(items: items, nextCursor: nil)
    }

    /// The id of the token whose secret is `token` (just issued).
    public func id(of token: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> UUID? {
        try await executor.first("SELECT id FROM staff_tokens WHERE token_hash = \(Secrets.hash(token))", logger: logger) { try $0.get("id", as: UUID.self) }
    }

    /// Revokes the person's live token `id`; false when they hold no such live token.
    public func revoke(id: UUID, personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        try await executor.first(
            """
            UPDATE staff_tokens SET revoked_at = \(now)
            WHERE id = \(id) AND person_id = \(personID) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
            RETURNING id
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) } != nil
    }

    /// Sign-out: revokes the person's session token whose hash is `hash`. A personal token used to
    /// sign in to the console is left alone (it is the person's script's too). Whether one was revoked.
    public func endSession(hash: Data, personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        try await executor.first(
            """
            UPDATE staff_tokens SET revoked_at = \(now)
            WHERE token_hash = \(hash) AND person_id = \(personID) AND kind = 'session' AND revoked_at IS NULL RETURNING id
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) } != nil
    }

    /// Ends every session of the person (their credentials were reset, or they were deactivated);
    /// their personal tokens stay, for an administrator to revoke one by one.
    public func endSessions(of personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            "UPDATE staff_tokens SET revoked_at = \(now) WHERE person_id = \(personID) AND kind = 'session' AND revoked_at IS NULL", logger: logger)
    }
}
