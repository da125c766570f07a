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
