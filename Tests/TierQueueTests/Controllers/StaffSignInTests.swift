import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// Issue 26, item 1: tier-queue's side of single sign-on (`POST /internal/v1/staff-sign-ins`, and
/// `POST /v1/sign-out` for its sessions), over HTTP against real PostgreSQL. The whole flow through a real provider
/// and the console is `SingleSignOnTests`.
@Suite struct StaffSignInTests {
    static func signIn(
        subject: String = "u-1", email: String? = "sso@example.com", verified: Bool = true, role: StaffRole? = .agent, tiers: [Int] = [2],
        createStaff: Bool = true
    ) -> StaffSignInRequest {
        StaffSignInRequest(
            issuer: "https://id.example.com", subject: subject, email: email, emailVerified: verified, name: "Sam Single", role: role, tiers: tiers,
            createStaff: createStaff, sessionExpiresAt: Date().addingTimeInterval(3600))
    }

    func run(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await withLiveApp(as: .tierQueue, TierQueueApp.buildApplication, test)
    }

    static func post(_ client: any TestClientProtocol, _ input: StaffSignInRequest) async throws -> TestResponse {
        try await client.send(.post, "/internal/v1/staff-sign-ins", token: TestCredentials.internalToken, json: input)
    }

    @Test(.freshDatabase) func aSignInCreatesThePersonThenFindsThemByIssuerAndSubjectAndFollowsTheirGroups() async throws {
        try await run { client in
            let created = try await Self.post(client, Self.signIn()).decode(StaffSignInResponse.self)
            #expect(created.role == .agent && created.tiers == [2] && created.email == "sso@example.com" && created.token.hasPrefix("tda_"))
            let me = try await client.send(.get, "/v1/staff/me", token: created.token).decode(Agent.self)
            #expect(me.id == created.id && me.role == .agent && me.tiers == [.backOffice])
            // The groups changed at the provider: the same person, now a team lead of levels 1 and 2.
            let again = try await Self.post(client, Self.signIn(role: .lead, tiers: [1, 2])).decode(StaffSignInResponse.self)
            #expect(again.id == created.id && again.role == .lead && again.tiers == [1, 2])
            let admin = try await Self.post(client, Self.signIn(role: .admin, tiers: [])).decode(StaffSignInResponse.self)
            #expect(admin.id == created.id && admin.role == .admin)
            #expect(try await client.send(.get, "/v1/staff/me", token: admin.token).decode(Agent.self).role == .admin)
            _ = try await Self.post(client, Self.signIn(role: .admin, tiers: []))
            // The audit trail: the creation and each change of role, named by the person; a sign-in that changes nothing, no row.
            try await TestDatabase.withClient { db in
                let trail = try await db.all("SELECT action, person_id, actor FROM audit_events ORDER BY at, id", logger: TestDatabase.logger) { row in
                    "\(try row.get("action", as: String.self)) \(try row.get("person_id", as: UUID?.self) == created.id) \(try row.get("actor", as: String.self))"
                }
                #expect(trail == ["agent.created true single sign-on", "agent.updated true single sign-on", "agent.updated true single sign-on"])
            }
        }
    }

    @Test(.freshDatabase) func withoutARoleThePersonIsRefusedAndOnlyTheirSessionTokensAreRevoked() async throws {
        try await run { client in
            let person = try await client.send(
                .post, "/v1/agents", token: TestCredentials.adminToken,
                json: CreateAgentRequest(name: "Sam", email: "sso@example.com", tiers: [1])
            ).decode(Agent.self)
            let personal = try #require(person.token)
            let session = try await Self.post(client, Self.signIn()).decode(StaffSignInResponse.self)
            #expect(session.id == person.id, "linked by the verified email")
            let refused = try await Self.post(client, Self.signIn(role: nil, tiers: []))
            #expect(try refused.status == .forbidden && refused.decode(Problem.self).type.hasSuffix("/no-staff-role"))
            try await HTTP.eventually { () -> Bool? in
                try await client.send(.get, "/v1/staff/me", token: session.token).status == .unauthorized ? true : nil
            }
            #expect(try await client.send(.get, "/v1/staff/me", token: personal).status == .ok, "the person's personal token stays")
            // Sign-out (tier-queue's `POST /v1/sign-out`, as for any session) revokes a single sign-on's session token.
            let next = try await Self.post(client, Self.signIn()).decode(StaffSignInResponse.self)
            #expect(try await client.send(.post, "/v1/sign-out", token: next.token).status == .noContent)
            try await HTTP.eventually { () -> Bool? in
                try await client.send(.get, "/v1/staff/me", token: next.token).status == .unauthorized ? true : nil
            }
        }
    }

    @Test(.freshDatabase) func whoIsNotLinkedOrCreatedIsRefusedAndNothingChanges() async throws {
        try await run { client in
            _ = try await Self.post(client, Self.signIn(subject: "first", email: "taken@example.com"))
            // The same address from another account at the provider.
            let elsewhere = try await Self.post(client, Self.signIn(subject: "second", email: "taken@example.com"))
            #expect(try elsewhere.status == .conflict && elsewhere.decode(Problem.self).type.hasSuffix("/identity-mismatch"))
            let unverified = try await Self.post(client, Self.signIn(subject: "third", email: "new@example.com", verified: false))
            #expect(try unverified.status == .forbidden && unverified.decode(Problem.self).type.hasSuffix("/not-staff"))
            let notCreated = try await Self.post(client, Self.signIn(subject: "fourth", email: "new@example.com", createStaff: false))
            #expect(try notCreated.status == .forbidden && notCreated.decode(Problem.self).type.hasSuffix("/not-staff"))
            let badLevels = try await Self.post(client, Self.signIn(subject: "fifth", role: .admin, tiers: [1]))
            #expect(badLevels.status == .unprocessableContent)
            try await TestDatabase.withClient { db in
                let people = try await StoreFixture(client: db).count("agents")
                #expect(people == 2, "the tests' administrator and the first person only")
            }
        }
    }

    @Test(.freshDatabase) func aDeactivatedPersonStaysOut() async throws {
        try await run { client in
            let first = try await Self.post(client, Self.signIn()).decode(StaffSignInResponse.self)
            let patched = try await client.send(.patch, "/v1/agents/\(first.id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(active: false))
            #expect(patched.status == .ok)
            let refused = try await Self.post(client, Self.signIn())
            #expect(try refused.status == .forbidden && refused.decode(Problem.self).type.hasSuffix("/deactivated"))
        }
    }
}
