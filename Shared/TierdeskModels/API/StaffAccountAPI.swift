import Foundation

/// `POST /v1/sign-in` (anyone): a local account's email and password, the authenticator app's code
/// once the account has TOTP, and a new password when the password is a temporary one an
/// administrator set (it signs in once, together with the new one).
public struct SignInRequest: Sendable, Codable, Equatable {
    public var email: String
    public var password: String
    public var code: String?
    public var newPassword: String?

    public init(email: String, password: String, code: String? = nil, newPassword: String? = nil) {
        self.email = email
        self.password = password
        self.code = code
        self.newPassword = newPassword
    }

    /// Only shapes: whether the email is known or the password right is the sign-in's answer.
    public func validate() throws(Problem) {
        var v = Validation()
        v.text(email, field: "email", maxLength: 254)
        if password.isEmpty { v.fail("password", "is required") }
        if password.count > 1000 { v.fail("password", "must be at most 1000 characters") }
        if let code, code.count > 20 { v.fail("code", "must be the 6 digits the app shows") }
        if let newPassword, newPassword.count > 1000 { v.fail("newPassword", "must be at most 1000 characters") }
        try v.check()
    }
}

/// `PUT /v1/me/password`: the person's own new password; `currentPassword` is required when they have one.
public struct ChangePasswordRequest: Sendable, Codable, Equatable {
    public var currentPassword: String?
    public var newPassword: String

    public init(currentPassword: String? = nil, newPassword: String) {
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }
}

/// `POST /v1/me/totp`: a secret being enrolled, as text to type into an authenticator app and as
/// the `otpauth://` URI it reads. It protects nothing until `POST /v1/me/totp/confirm` gets a valid code.
public struct TOTPEnrolment: Sendable, Codable, Equatable {
    /// The secret in base32, as apps take it typed in.
    public var secret: String
    public var uri: String

    public init(secret: String, uri: String) {
        self.secret = secret
        self.uri = uri
    }
}

/// `POST /v1/me/totp/confirm`: a code of the secret being enrolled.
public struct ConfirmTOTPRequest: Sendable, Codable, Equatable {
    public var code: String

    public init(code: String) { self.code = code }
}

/// `POST /v1/staff/{id}/password` (admin): the temporary password, shown once. It signs in once,
/// together with the new password its holder chooses, until `expiresAt`.
public struct TemporaryPassword: Sendable, Codable, Equatable {
    public var personId: UUID
    public var temporaryPassword: String
    public var expiresAt: Date

    public init(personId: UUID, temporaryPassword: String, expiresAt: Date) {
        self.personId = personId
        self.temporaryPassword = temporaryPassword
        self.expiresAt = expiresAt
    }
}

/// A person's local account as they and the administrators see it: never a hash or a secret.
public struct StaffAccountStatus: Sendable, Codable, Equatable {
    public var personId: UUID
    public var hasPassword: Bool
    /// The password is a temporary one an administrator set.
    public var temporaryPassword: Bool
    public var totpEnabled: Bool
    /// Wrong passwords or codes since the last success or lockout.
    public var failures: Int
    /// Until when the account is locked; nil when it is not.
    public var lockedUntil: Date?

    public init(personId: UUID, hasPassword: Bool, temporaryPassword: Bool, totpEnabled: Bool, failures: Int, lockedUntil: Date?) {
        self.personId = personId
        self.hasPassword = hasPassword
        self.temporaryPassword = temporaryPassword
        self.totpEnabled = totpEnabled
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}

/// The answer to a sign-in: a session token (shown once) good until `expiresAt`, the session's
/// absolute end, and the person it signs in.
public struct SignInResponse: Sendable, Codable, Equatable {
    public var token: String
    public var expiresAt: Date
    public var person: Agent

    public init(token: String, expiresAt: Date, person: Agent) {
        self.token = token
        self.expiresAt = expiresAt
        self.person = person
    }
}

/// `POST /v1/me/tokens`: a personal API token for a script, of a scope the person's role allows
/// (agents and team leads: read or work; administrators: read or admin; auditors: read), with an
/// expiry (required, at most `TIERDESK_PERSONAL_TOKEN_MAX_DAYS` away).
public struct CreatePersonalTokenRequest: Sendable, Codable, Equatable {
    public var name: String
    public var scope: TokenScope
    public var expiresAt: Date

    public init(name: String, scope: TokenScope, expiresAt: Date) {
        self.name = name
        self.scope = scope
        self.expiresAt = expiresAt
    }
}

/// A personal token just made: `token` is shown in this answer only.
public struct PersonalToken: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var scope: TokenScope
    public var expiresAt: Date
    public var token: String

    public init(id: UUID, name: String, scope: TokenScope, expiresAt: Date, token: String) {
        self.id = id
        self.name = name
        self.scope = scope
        self.expiresAt = expiresAt
        self.token = token
    }
}

/// A live session or personal token as its owner and the administrators list it: never the token
/// or its hash.
public struct StaffTokenSummary: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case personal, session
    }

    public var id: UUID
    public var kind: Kind
    public var name: String
    public var scope: TokenScope
    public var createdAt: Date
    /// nil: it does not expire (a first token an administrator issued).
    public var expiresAt: Date?
    /// The token this list was asked with.
    public var current: Bool

    public init(id: UUID, kind: Kind, name: String, scope: TokenScope, createdAt: Date, expiresAt: Date?, current: Bool) {
        self.id = id
        self.kind = kind
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.current = current
    }
}
