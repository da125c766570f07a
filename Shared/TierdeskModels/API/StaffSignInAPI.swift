import Foundation

/// `POST /internal/v1/staff-sign-ins` (the console, internal token): a person the OpenID provider
/// signed in, from an ID token the console verified. tier-queue finds them by `issuer` and
/// `subject`, else (first sign-in) by `email` when `emailVerified`, else creates them when
/// `createStaff`; sets their role and levels from `role` and `tiers`; and mints a session token
/// good until `sessionExpiresAt`. Without a `role` (in no mapped group) they are refused, and every
/// session token they hold is revoked.
public struct StaffSignInRequest: Sendable, Codable, Equatable {
    public var issuer: String
    public var subject: String
    public var email: String?
    public var emailVerified: Bool
    public var name: String?
    /// What the person's groups give; nil when they give none.
    public var role: StaffRole?
    /// The levels of an agent or team lead (1-3); empty for the others.
    public var tiers: [Int]
    public var createStaff: Bool
    public var sessionExpiresAt: Date

    public init(
        issuer: String, subject: String, email: String?, emailVerified: Bool, name: String?, role: StaffRole?, tiers: [Int], createStaff: Bool,
        sessionExpiresAt: Date
    ) {
        self.issuer = issuer
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.role = role
        self.tiers = tiers
        self.createStaff = createStaff
        self.sessionExpiresAt = sessionExpiresAt
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(issuer, field: "issuer", maxLength: 500)
        v.text(subject, field: "subject", maxLength: 255)
        if let email { v.email(email, field: "email") }
        v.text(name, field: "name", required: false, maxLength: 200)
        if let role {
            if role == .agent || role == .lead {
                if tiers.isEmpty { v.fail("tiers", "an agent or team lead needs at least one level") }
            } else if !tiers.isEmpty {
                v.fail("tiers", "only agents and team leads have levels")
            }
        }
        if tiers.contains(where: { !(1...3).contains($0) }) { v.fail("tiers", "levels are 1, 2 or 3") }
        try v.check()
    }
}

/// The answer to a staff sign-in: the person as now stored, and the session token (shown this once).
public struct StaffSignInResponse: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var email: String
    public var role: StaffRole
    public var tiers: [Int]
    public var token: String

    public init(id: UUID, name: String, email: String, role: StaffRole, tiers: [Int], token: String) {
        self.id = id
        self.name = name
        self.email = email
        self.role = role
        self.tiers = tiers
        self.token = token
    }
}
