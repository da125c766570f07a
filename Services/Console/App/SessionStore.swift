import Crypto
import Foundation
import Logging
import PostgresNIO
import TierdeskKit

/// The keys the console derives from its secret, one per purpose, so that no key serves two jobs.
enum ConsoleKeys {
    static let sealPurpose = "tierdesk console session seal"
    static let csrfPurpose = "tierdesk console anonymous csrf"
    static let flashPurpose = "tierdesk console flash"

    /// The key for `purpose` (HKDF-SHA256 of the console's secret). The one place keys are derived:
    /// it can become TierdeskKit's shared purpose-key derivation without touching its callers.
    static func key(_ purpose: String, secret: String) -> Data {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data(purpose.utf8), outputByteCount: 32)
            .withUnsafeBytes { Data($0) }
    }
}

/// A session as the console finds it: who it is and the API token it acts with (opened from its
/// sealed column), and the secret its forms' CSRF tokens are derived from.
struct StoredSession: Sendable {
    var role: Session.Role
    var token: String
    var csrfSecret: Data
    /// The ticket a requester's session opens; nil for staff.
    var ticketID: UUID?
    /// The provider's ID token, when single sign-on began the session.
    var idToken: String? = nil

    /// The `_csrf` value of this session's forms: an HMAC under the session's own secret, so a token
    /// from one session is worthless in another.
    var formToken: String {
        Secrets.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data("console-form".utf8), using: SymmetricKey(data: csrfSecret))))
    }
}

/// How long a session lives: `idle` after its last request, `absolute` after sign-in at most.
struct SessionLifetime: Sendable {
    var idle: TimeInterval
    var absolute: TimeInterval
}

/// `console_sessions`, of which the console is the only writer. The cookie's random id is never
/// stored (its SHA-256 is the key) and the API token rests sealed with AES-GCM, bound to that hash.
struct SessionStore: Sendable {
    let client: PostgresClient
    /// The AES-256 key the tokens are sealed with (`ConsoleKeys.sealPurpose`).
    let sealKey: Data

    /// What the ID token's seal authenticates besides the row's hash: neither sealed column opens in the other's place.
    static let idTokenBinding = Data("id_token".utf8)

    /// A request within this long of the last one does not write `last_seen_at` again: the idle
    /// expiry moves in steps of 30 s, and a page's polls do not each cost a write.
    static let touchInterval: TimeInterval = 30

    /// Stores a new session and returns its id (the cookie's value, 256 random bits).
    func create(
        role: Session.Role, token: String, idToken: String? = nil, ticketID: UUID?, lifetime: SessionLifetime, now: Date, logger: Logger
    ) async throws -> String {
        let id = Secrets.base64URL(Secrets.randomBytes(32))
        let idHash = Secrets.hash(id)
        let sealed = try seal(token, idHash: idHash)
        let sealedIDToken = try idToken.map { try seal($0, idHash: idHash + Self.idTokenBinding) }
        let csrfSecret = Secrets.randomBytes(32)
        let idle = now.addingTimeInterval(min(lifetime.idle, lifetime.absolute))
        let absolute = now.addingTimeInterval(lifetime.absolute)
        try await client.query(
            """
            INSERT INTO console_sessions (
                id_hash, role, sealed_token, sealed_id_token, csrf_secret, ticket_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
            VALUES (\(idHash), \(role.rawValue), \(sealed), \(sealedIDToken), \(csrfSecret), \(ticketID), \(now), \(now), \(idle), \(absolute))
            """, logger: logger)
        return id
    }

    /// The live session of `id` (nil when there is none, or it is past either expiry), its idle
    /// expiry moved on by `idle` (never past its absolute one).
    func find(id: String, idle: TimeInterval, now: Date, logger: Logger) async throws -> StoredSession? {
        let idHash = Secrets.hash(id)
        let touchBefore = now.addingTimeInterval(-Self.touchInterval)
        let idleUntil = now.addingTimeInterval(idle)
        let rows = try await client.query(
            """
            WITH found AS (
                SELECT id_hash, role, sealed_token, sealed_id_token, csrf_secret, ticket_id, last_seen_at FROM console_sessions
                WHERE id_hash = \(idHash) AND idle_expires_at > \(now) AND absolute_expires_at > \(now)),
            touched AS (
                UPDATE console_sessions s SET last_seen_at = \(now), idle_expires_at = LEAST(\(idleUntil), s.absolute_expires_at)
                FROM found WHERE s.id_hash = found.id_hash AND found.last_seen_at < \(touchBefore))
            SELECT role, sealed_token, sealed_id_token, csrf_secret, ticket_id FROM found
            """, logger: logger)
        for try await (role, sealed, sealedIDToken, csrfSecret, ticketID) in rows.decode((String, Data, Data?, Data, UUID?).self) {
            guard let role = Session.Role(rawValue: role) else { return nil }
            do {
                return StoredSession(
                    role: role, token: try open(sealed, idHash: idHash), csrfSecret: csrfSecret, ticketID: ticketID,
                    idToken: try sealedIDToken.map { try open($0, idHash: idHash + Self.idTokenBinding) })
            } catch {
                // Sealed under another key (the console's secret changed) or copied from another row: no session.
                logger.warning("a console session's token does not open", metadata: ["error": "\(String(reflecting: error))"])
                return nil
            }
        }
        return nil
    }

    /// Ends the session of `id` (sign-out, or a new sign-in in its place): its cookie opens nothing after.
    func delete(id: String, logger: Logger) async throws {
        try await client.query("DELETE FROM console_sessions WHERE id_hash = \(Secrets.hash(id))", logger: logger)
    }

    /// Removes up to 1,000 sessions past their expiry; how many it removed.
    @discardableResult
    func prune(now: Date, logger: Logger) async throws -> Int {
        let rows = try await client.query(
            """
            DELETE FROM console_sessions WHERE id_hash IN (
                SELECT id_hash FROM console_sessions WHERE idle_expires_at <= \(now) LIMIT 1000) RETURNING 1 AS one
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// The token sealed for the row of `idHash` (AES-GCM, the hash as authenticated data: a sealed
    /// token copied into another row does not open).
    func seal(_ token: String, idHash: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(token.utf8), using: SymmetricKey(data: sealKey), authenticating: idHash).combined else {
            throw CryptoKitError.incorrectParameterSize
        }
        return combined
    }

    func open(_ sealed: Data, idHash: Data) throws -> String {
        String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: SymmetricKey(data: sealKey), authenticating: idHash), as: UTF8.self)
    }
}
