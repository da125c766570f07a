import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `staff_tokens`: every credential of a staff person. A token is shown once,
/// when it is issued, and rests only as its SHA-256; revoking one or deactivating its person stops
/// it on every replica within the authenticator's cache lifetime (5 s).
public struct StaffTokenStore: Sendable {
    public enum Kind: String, Sendable {
        /// Made by a person (or for them) for scripts: named, scoped, usually with an expiry.
        case personal
        /// Minted by a sign-in for the console's session; it ends with the session.
        case session
    }

    public init() {}

    /// Issues a token of `kind` to the person, in the caller's transaction; the token, shown once.
    public func issue(
        personID: UUID, kind: Kind, name: String, scope: TokenScope, expiresAt: Date?, on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws -> String {
        let token = Secrets.newToken(.agent)
        try await executor.execute(
            """
            INSERT INTO staff_tokens (id, person_id, kind, name, scope, token_hash, created_at, expires_at)
            VALUES (\(UUID()), \(personID), \(kind.rawValue), \(name), \(scope.rawValue), \(Secrets.hash(token)), \(now), \(expiresAt))
            """, logger: logger)
        return token
    }

    /// Revokes every live session token of the person (single sign-on refused them: their console
    /// sessions end; their personal tokens stay); how many it revoked.
    @discardableResult
    public func revokeSessions(personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Int {
        try await executor.all(
            """
            UPDATE staff_tokens SET revoked_at = \(now)
            WHERE person_id = \(personID) AND kind = 'session' AND revoked_at IS NULL RETURNING id
            """, logger: logger
        ) { _ in () }.count
    }

    /// Revokes every live token of the person (new credentials, or a person who must sign in again).
    public func revokeAll(personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            "UPDATE staff_tokens SET revoked_at = \(now) WHERE person_id = \(personID) AND revoked_at IS NULL", logger: logger)
    }
}
