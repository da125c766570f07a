import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Single sign-on's side of `agents` and `staff_tokens` (tier-queue owns both): a person the
/// OpenID provider signed in is found by issuer and subject, else linked by verified email, else
/// created; their role and levels follow the provider's groups at every sign-in; and a session token
/// is minted for the console. All of it in one transaction.
struct StaffSignInStore: Sendable {
    let tokens: StaffTokenStore

    /// What a sign-in comes to.
    enum Outcome: Sendable, Equatable {
        case signedIn(StaffSignInResponse)
        /// In no mapped group: refused; `revoked` session tokens of theirs were revoked.
        case noRole(personID: UUID?, revoked: Int)
        /// Unknown to the help desk, and not to be created (creation is off, or the provider did not vouch for the email).
        case notStaff(String)
        /// Deactivated by an administrator: the provider's word does not bring them back.
        case deactivated
        /// The email's person is linked to another account at the provider.
        case linkedElsewhere
    }

    /// Links, creates or updates the person of `input` and mints their session token, or refuses
    /// them (revoking their session tokens when their groups give no role).
    /// What it changes of a person is in the audit trail, named by that person and `via` (the console's
    /// request): linked to the provider, created, given the role and levels of their groups, or their
    /// sessions revoked.
    func signIn(_ input: StaffSignInRequest, via request: AuditActor, on client: PostgresClient, now: Date, logger: Logger) async throws -> Outcome {
        let by = { (person: UUID) in
            AuditActor(personID: person, actor: "single sign-on", requestID: request.requestID, clientAddress: request.clientAddress)
        }
        return try await client.transaction(logger: logger) { connection in
            var found = try await connection.first(
                """
                SELECT id, name, email, active, oidc_subject FROM agents
                WHERE oidc_issuer = \(input.issuer) AND oidc_subject = \(input.subject) FOR UPDATE
                """, logger: logger, Person.init(row:))
            if found == nil, let email = input.email?.trimmingCharacters(in: .whitespaces).lowercased(), input.emailVerified, input.role != nil {
                // The first sign-in: the staff person with that address, when the provider vouches for it.
                found = try await connection.first(
                    "SELECT id, name, email, active, oidc_subject FROM agents WHERE email = \(email) FOR UPDATE", logger: logger, Person.init(row:))
                if let person = found {
                    guard person.subject == nil else { return .linkedElsewhere }
                    try await AuditTrail.set("agent.linked", .agent, id: "\(person.id)", by: by(person.id), on: connection, now: now, logger: logger) {
                        try await connection.execute(
                            "UPDATE agents SET oidc_issuer = \(input.issuer), oidc_subject = \(input.subject) WHERE id = \(person.id)", logger: logger)
                    }
                }
            }
            guard let role = input.role else {
                guard let person = found else { return .noRole(personID: nil, revoked: 0) }
                let before = try await AuditTrail.snapshot(.agentCredentials, id: "\(person.id)", on: connection, logger: logger)
                let revoked = try await tokens.revokeSessions(personID: person.id, on: connection, now: now, logger: logger)
                if revoked > 0 {
                    try await AuditTrail.record(
                        "agent.sessions_revoked", .agentCredentials, id: "\(person.id)", before: before, by: by(person.id), on: connection, now: now,
                        logger: logger)
                }
                return .noRole(personID: person.id, revoked: revoked)
            }
            let tiers = input.tiers.map(Int16.init)
            let person: Person
            if let existing = found {
                guard existing.active else { return .deactivated }
                // The role, levels and name the provider gives, recorded when they change.
                let before = try await AuditTrail.snapshot(.agent, id: "\(existing.id)", on: connection, logger: logger)
                let changed = try await connection.first(
                    """
                    UPDATE agents SET role = \(role.rawValue), tiers = \(tiers), name = COALESCE(\(input.name), name)
                    WHERE id = \(existing.id) AND (role, tiers, name) IS DISTINCT FROM (\(role.rawValue), \(tiers), COALESCE(\(input.name), name))
                    RETURNING id, name, email, active, oidc_subject
                    """, logger: logger, Person.init(row:))
                if changed != nil {
                    try await AuditTrail.record(
                        "agent.updated", .agent, id: "\(existing.id)", before: before, by: by(existing.id), on: connection, now: now, logger: logger)
                }
                person = changed ?? existing
            } else {
                guard let email = input.email?.trimmingCharacters(in: .whitespaces).lowercased(), input.emailVerified else {
                    return .notStaff("the provider did not vouch for your email address, so no staff person can be found or made for you")
                }
                guard input.createStaff else { return .notStaff("you are not on the help desk's staff; ask an administrator to add \(email)") }
                let id = UUID()
                do {
                    person = try await connection.first(
                        """
                        INSERT INTO agents (id, name, email, role, tiers, skills, wip_limit, oidc_issuer, oidc_subject, created_at)
                        VALUES (\(id), \(input.name ?? email), \(email), \(role.rawValue), \(tiers), \([String]()), 5, \(input.issuer), \(input.subject), \(now))
                        RETURNING id, name, email, active, oidc_subject
                        """, logger: logger, Person.init(row:))!
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                    // The address is taken by someone the provider did not vouch for as this account.
                    return .linkedElsewhere
                }
                try await AuditTrail.record(
                    "agent.created", .agent, id: "\(person.id)", before: nil, by: by(person.id), on: connection, now: now, logger: logger)
            }
            let token = try await tokens.issue(
                personID: person.id, kind: .session, name: "single sign-on", scope: role.widestScope, expiresAt: input.sessionExpiresAt,
                on: connection, now: now, logger: logger)
            return .signedIn(
                StaffSignInResponse(id: person.id, name: person.name, email: person.email, role: role, tiers: input.tiers.sorted(), token: token))
        }
    }

    /// The columns a sign-in reads of a person.
    struct Person: Sendable {
        var id: UUID
        var name: String
        var email: String
        var active: Bool
        var subject: String?

        init(row: PostgresRandomAccessRow) throws {
            id = try row.get("id")
            name = try row.get("name")
            email = try row.get("email")
            active = try row.get("active")
            subject = try row.get("oidc_subject", as: String?.self)
        }
    }
}
