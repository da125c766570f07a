import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// A local account's credentials as tier-queue reads them: the bcrypt hash and TOTP secrets opened
/// from their sealed columns, and the lockout's counters.
public struct StaffCredentials: Sendable, Equatable {
    public var personID: UUID
    /// The bcrypt hash; nil: no password.
    public var passwordHash: String?
    public var temporary: Bool
    public var passwordExpiresAt: Date?
    /// The confirmed TOTP secret; nil: no second factor.
    public var totpSecret: String?
    /// A secret being enrolled.
    public var pendingSecret: String?
    public var lastStep: Int64?
    public var failures: Int
    public var lockouts: Int
    public var lockedUntil: Date?

    /// Whether the account is locked at `now`.
    public func locked(at now: Date) -> Bool { lockedUntil.map { $0 > now } ?? false }
}

/// The only writer of `staff_credentials`. The bcrypt hashes and TOTP secrets are sealed (AES-GCM)
/// under tier-queue's `staff-credentials` key before they reach SQL and opened after they leave it.
public struct StaffCredentialStore: Sendable {
    /// nil where the service was built without its keys (a test's bare runtime): local accounts then answer 503.
    let sealingKey: SealingKey?
    let settings: LocalAccountSettings

    public init(key: SealingKey?, settings: LocalAccountSettings) {
        sealingKey = key
        self.settings = settings
    }

    var key: SealingKey {
        get throws {
            guard let sealingKey else { throw Problem.unavailable("local accounts need TIERDESK_SECRET, which this instance was not given", retryAfter: 60) }
            return sealingKey
        }
    }

    static let columns = """
        person_id, password_sealed, password_temporary, password_expires_at, totp_sealed, totp_pending_sealed, totp_last_step,
        failures, lockouts, locked_until
        """

    /// A person's credentials; nil when they have never had any.
    public func find(_ personID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> StaffCredentials? {
        try await executor.first(
            "SELECT \(unescaped: Self.columns) FROM staff_credentials WHERE person_id = \(personID)", logger: logger, credentials(row:))
    }

    func credentials(row: PostgresRandomAccessRow) throws -> StaffCredentials {
        let key = try self.key
        func open(_ column: String) throws -> String? { try row.get(column, as: Data?.self).map(key.open) }
        return StaffCredentials(
            personID: try row.get("person_id"), passwordHash: try open("password_sealed"), temporary: try row.get("password_temporary"),
            passwordExpiresAt: try row.get("password_expires_at"), totpSecret: try open("totp_sealed"), pendingSecret: try open("totp_pending_sealed"),
            lastStep: try row.get("totp_last_step"), failures: Int(try row.get("failures", as: Int32.self)),
            lockouts: Int(try row.get("lockouts", as: Int32.self)), lockedUntil: try row.get("locked_until"))
    }

    /// Counts a wrong password or code; the `maxFailures`-th in a row locks the account for
    /// `lockout(after:)` its earlier lockouts, and starts the count again. The lock's end, when it locked.
    @discardableResult
    public func recordFailure(_ personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Date? {
        let max = Int32(settings.maxFailures)
        return try await executor.first(
            """
            UPDATE staff_credentials SET
                locked_until = CASE WHEN failures + 1 >= \(max)
                    THEN \(now)::timestamptz + make_interval(secs => LEAST(\(settings.lockoutMax), \(settings.lockoutBase) * power(2, LEAST(lockouts, 40))))
                    ELSE locked_until END,
                lockouts = CASE WHEN failures + 1 >= \(max) THEN lockouts + 1 ELSE lockouts END,
                failures = CASE WHEN failures + 1 >= \(max) THEN 0 ELSE failures + 1 END,
                updated_at = \(now)
            WHERE person_id = \(personID) RETURNING CASE WHEN failures = 0 THEN locked_until END AS locked
            """, logger: logger
        ) { try $0.get("locked", as: Date?.self) } ?? nil
    }

    /// A sign-in succeeded: the counters start again, and the code's step (when a code was given) is
    /// spent. False when a concurrent sign-in spent that step first (the code then counts as used).
    public func recordSuccess(_ personID: UUID, step: Int64?, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        try await executor.first(
            """
            UPDATE staff_credentials SET failures = 0, lockouts = 0, locked_until = NULL,
                totp_last_step = COALESCE(\(step), totp_last_step), updated_at = \(now)
            WHERE person_id = \(personID) AND (\(step)::bigint IS NULL OR totp_last_step IS NULL OR totp_last_step < \(step))
            RETURNING person_id
            """, logger: logger
        ) { try $0.get("person_id", as: UUID.self) } != nil
    }

    /// Sets a person's password (its bcrypt hash): their own, or a temporary one that works until
    /// `expiresAt`. The lockout is lifted with it.
    public func setPassword(
        _ personID: UUID, hash: String, temporary: Bool, expiresAt: Date?, on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws {
        try await executor.execute(
            """
            INSERT INTO staff_credentials (person_id, password_sealed, password_temporary, password_expires_at, password_set_at, updated_at)
            VALUES (\(personID), \(try key.seal(hash)), \(temporary), \(expiresAt), \(now), \(now))
            ON CONFLICT (person_id) DO UPDATE SET password_sealed = EXCLUDED.password_sealed, password_temporary = EXCLUDED.password_temporary,
                password_expires_at = EXCLUDED.password_expires_at, password_set_at = EXCLUDED.password_set_at,
                failures = 0, lockouts = 0, locked_until = NULL, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// Removes a person's second factor (confirmed or being enrolled); they sign in with the password alone.
    public func resetTOTP(_ personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            """
            UPDATE staff_credentials SET totp_sealed = NULL, totp_pending_sealed = NULL, totp_last_step = NULL, updated_at = \(now)
            WHERE person_id = \(personID)
            """, logger: logger)
    }

    /// Lifts a lockout and clears the count of failures.
    public func unlock(_ personID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            "UPDATE staff_credentials SET failures = 0, lockouts = 0, locked_until = NULL, updated_at = \(now) WHERE person_id = \(personID)",
            logger: logger)
    }

    /// Keeps `secret` as the one being enrolled (in place of any earlier one) until a code confirms it.
    public func startEnrolment(_ personID: UUID, secret: String, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            """
            INSERT INTO staff_credentials (person_id, totp_pending_sealed, updated_at) VALUES (\(personID), \(try key.seal(secret)), \(now))
            ON CONFLICT (person_id) DO UPDATE SET totp_pending_sealed = EXCLUDED.totp_pending_sealed, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// Makes the secret being enrolled the person's second factor, its code's `step` spent; false
    /// when the secret being enrolled is no longer `secret` (another enrolment replaced it).
    public func confirmEnrolment(_ personID: UUID, secret: String, step: Int64, on executor: some DatabaseExecutor, now: Date, logger: Logger)
        async throws -> Bool
    {
        guard let current = try await find(personID, on: executor, logger: logger), current.pendingSecret == secret else { return false }
        return try await executor.first(
            """
            UPDATE staff_credentials SET totp_sealed = totp_pending_sealed, totp_pending_sealed = NULL, totp_last_step = \(step), updated_at = \(now)
            WHERE person_id = \(personID) AND totp_pending_sealed IS NOT NULL RETURNING person_id
            """, logger: logger
        ) { try $0.get("person_id", as: UUID.self) } != nil
    }
}
