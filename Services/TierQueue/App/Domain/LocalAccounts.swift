import Configuration
import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import NIOPosix
import TierdeskKit
import TierdeskModels

/// Local accounts' settings: the bcrypt cost, the lockout, the life of a signed-in session's token
/// and of a personal token, and how often one address may try to sign in.
public struct LocalAccountSettings: Sendable, Equatable {
    /// bcrypt's cost, log2 of its rounds (`TIERDESK_PASSWORD_BCRYPT_COST`, default 12).
    public var bcryptCost: Int
    /// Wrong passwords or codes in a row that lock an account (`TIERDESK_SIGN_IN_MAX_FAILURES`, default 5).
    public var maxFailures: Int
    /// The first lockout's length; each further one doubles it up to `lockoutMax`
    /// (`TIERDESK_SIGN_IN_LOCKOUT_SECONDS`, default 60; `TIERDESK_SIGN_IN_LOCKOUT_MAX_SECONDS`, default 3600).
    public var lockoutBase: TimeInterval
    public var lockoutMax: TimeInterval
    /// A session token's life from sign-in: its absolute end (`TIERDESK_STAFF_SESSION_MAX_HOURS`, default 12).
    public var sessionLifetime: TimeInterval
    /// The longest expiry a personal token may have (`TIERDESK_PERSONAL_TOKEN_MAX_DAYS`, default 365).
    public var personalTokenMaxDays: Int
    /// Sign-in attempts a minute per client address, per replica (`TIERDESK_SIGN_IN_RATE_PER_MINUTE`, default 10).
    public var signInPerMinute: Int

    public init(
        bcryptCost: Int = 12, maxFailures: Int = 5, lockoutBase: TimeInterval = 60, lockoutMax: TimeInterval = 3600, sessionLifetime: TimeInterval = 12 * 3600,
        personalTokenMaxDays: Int = 365, signInPerMinute: Int = 10
    ) {
        self.bcryptCost = bcryptCost
        self.maxFailures = maxFailures
        self.lockoutBase = lockoutBase
        self.lockoutMax = lockoutMax
        self.sessionLifetime = sessionLifetime
        self.personalTokenMaxDays = personalTokenMaxDays
        self.signInPerMinute = signInPerMinute
    }

    public init(reader: ConfigReader) throws(ConfigurationError) {
        bcryptCost = try TierdeskConfiguration.int(reader, "tierdesk.password.bcrypt.cost", default: 12, range: 4...16)
        maxFailures = try TierdeskConfiguration.int(reader, "tierdesk.sign.in.max.failures", default: 5, range: 1...100)
        lockoutBase = Double(try TierdeskConfiguration.int(reader, "tierdesk.sign.in.lockout.seconds", default: 60, range: 1...86_400))
        lockoutMax = Double(try TierdeskConfiguration.int(reader, "tierdesk.sign.in.lockout.max.seconds", default: 3600, range: 1...604_800))
        guard lockoutMax >= lockoutBase else {
            throw ConfigurationError(key: "tierdesk.sign.in.lockout.max.seconds", problem: "must be at least TIERDESK_SIGN_IN_LOCKOUT_SECONDS")
        }
        sessionLifetime = Double(try TierdeskConfiguration.int(reader, "tierdesk.staff.session.max.hours", default: 12, range: 1...720)) * 3600
        personalTokenMaxDays = try TierdeskConfiguration.int(reader, "tierdesk.personal.token.max.days", default: 365, range: 1...3650)
        signInPerMinute = try TierdeskConfiguration.int(reader, "tierdesk.sign.in.rate.per.minute", default: 10, range: 1...1_000_000)
    }

    /// What `init(reader:)` reads.
    public static let settings = [
        ConfigSetting("tierdesk.password.bcrypt.cost", "bcrypt cost of local accounts' password hashes, 4-16 (default 12)"),
        ConfigSetting("tierdesk.sign.in.max.failures", "wrong passwords or codes in a row that lock a local account (default 5)"),
        ConfigSetting("tierdesk.sign.in.lockout.seconds", "the first lockout's length; each next one doubles (default 60)"),
        ConfigSetting("tierdesk.sign.in.lockout.max.seconds", "the longest lockout (default 3600)"),
        ConfigSetting("tierdesk.staff.session.max.hours", "a signed-in session token's life from sign-in, its absolute end (default 12)"),
        ConfigSetting("tierdesk.personal.token.max.days", "the longest expiry a personal API token may have (default 365)"),
        ConfigSetting("tierdesk.sign.in.rate.per.minute", "sign-in attempts a minute per client address, per replica (default 10)"),
    ]

    /// How long the account is locked after its `lockouts`-th lockout (0 for the first): the base,
    /// doubled for each earlier one, never longer than the cap.
    public func lockout(after lockouts: Int) -> TimeInterval {
        min(lockoutMax, lockoutBase * pow(2, Double(min(lockouts, 40))))
    }
}

/// Passwords: what a new one must be, and bcrypt, run on NIO's thread pool so a hash (about a
/// quarter of a second at cost 12) never blocks the event loop.
public enum Passwords {
    /// Why `password` cannot be a password (nil: it can). bcrypt reads 72 bytes at most, so a longer
    /// one is refused rather than cut silently.
    public static func problem(_ password: String) -> String? {
        if password.count < 12 { return "must be at least 12 characters" }
        if password.utf8.count > 72 { return "must be at most 72 bytes" }
        if password.utf8.contains(0) { return "must not contain NUL" }
        return nil
    }

    /// The bcrypt hash of `password` at `cost`.
    public static func hash(_ password: String, cost: Int) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    /// Whether `password` matches the bcrypt `hash`.
    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Spends the time a check of `password` takes at `cost` (a hash, which costs what a
    /// verification does), so an unknown email or a locked account answers no sooner than a known one.
    public static func spendTime(_ password: String, cost: Int) async throws {
        _ = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    /// A temporary password an administrator hands over: 20 characters of an alphabet without
    /// look-alikes (about 110 bits).
    public static func temporary() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// Time-based one-time codes (RFC 6238: six digits, SHA-1, 30 s steps), as authenticator apps make
/// them. A code is accepted for the step before, the step of and the step after `now`, and only for
/// a step later than the last one accepted, so a code is never accepted twice.
public enum OneTimeCodes {
    public static let step: TimeInterval = 30

    /// A new shared secret: 32 characters of the base32 alphabet (160 random bits). The key is the
    /// text's bytes (as HummingbirdOTP uses it); apps are given its base32 form.
    public static func newSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// The `otpauth://` URI an authenticator app reads (as a QR code or pasted).
    public static func uri(secret: String, account: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "Tierdesk:\(account)", issuer: "Tierdesk")
    }

    /// The secret as an app takes it typed in: the base32 text in the URI.
    public static func typedSecret(secret: String) -> String {
        let uri = TOTP(secret: secret).createAuthenticatorURL(label: "x")
        return URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
    }

    /// The code for the step holding `date`.
    public static func code(secret: String, at date: Date) -> String {
        let value = TOTP(secret: secret).compute(date: date)
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Whether `code` is six ASCII digits (spaces aside), as apps show them.
    public static func isWellFormed(_ code: String) -> Bool {
        let digits = code.filter { !$0.isWhitespace }
        return digits.count == 6 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The step `code` belongs to, when it is the code of the step before, of or after `now` and that
    /// step is later than `lastUsed`; nil otherwise (wrong, too old, or already used).
    public static func acceptedStep(_ code: String, secret: String, now: Date, lastUsed: Int64?) -> Int64? {
        guard isWellFormed(code) else { return nil }
        let code = code.filter { !$0.isWhitespace }
        let current = Int64((now.timeIntervalSince1970 / step).rounded(.down))
        for candidate in [current - 1, current, current + 1] where candidate > (lastUsed ?? .min) {
            let expected = Self.code(secret: secret, at: Date(timeIntervalSince1970: Double(candidate) * step))
            if Secrets.equal(expected, code) { return candidate }
        }
        return nil
    }
}
