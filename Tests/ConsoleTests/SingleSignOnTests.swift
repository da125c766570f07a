import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Issue 26, item 1: staff sign in through a real OpenID provider (oidc-provider-mock, started per
/// test) to the running console, with the real tier-queue and PostgreSQL behind it. The ID token's
/// own checks (signature, expiry, audience, issuer) have their unit tests in `IDTokenVerifierTests`.
@Suite(.serialized) struct SingleSignOnTests {
    static let publicURL = "http://console.test"
    static let groups = "helpdesk-l1=agent:1,helpdesk-l2=agent:2,helpdesk-leads=lead:1+2,helpdesk-admins=admin,helpdesk-audit=auditor"

    /// The console configured for `provider`, and the test.
    static func run(
        _ provider: OIDCTestProvider, createStaff: Bool = true, _ test: @Sendable (ConsoleSystem) async throws -> Void
    ) async throws {
        let settings = [
            "TIERDESK_OIDC_ISSUER": provider.issuer, "TIERDESK_OIDC_CLIENT_ID": "tierdesk", "TIERDESK_OIDC_CLIENT_SECRET": "tierdesk-client-secret",
            "TIERDESK_OIDC_GROUPS": groups, "TIERDESK_OIDC_CREATE_STAFF": createStaff ? "true" : "false", "TIERDESK_OIDC_DISPLAY_NAME": "Example ID",
            "TIERDESK_PUBLIC_URL": publicURL,
        ]
        try await ConsoleSystem.run(console: settings, test)
    }

    /// A person of the provider with these groups (email verified unless said otherwise).
    static func person(_ provider: OIDCTestProvider, _ subject: String, email: String? = nil, verified: Bool = true, groups: [String]) async throws {
        try await provider.setUser(
            subject,
            claims: [
                "email": email ?? "\(subject)@example.com", "email_verified": verified, "name": subject.capitalized, "groups": groups,
            ])
    }

    /// Signs `subject` in as a browser does: the sign-in page's link, the provider's form, the way
    /// back; returns the console's answer to the callback (and the callback's path, to replay it).
    @discardableResult
    static func signIn(_ browser: Browser, _ provider: OIDCTestProvider, _ subject: String) async throws -> (TestResponse, String) {
        let page = try await browser.get("/signin")
        #expect(page.text.contains("id=\"signin-oidc\"") && page.text.contains("Sign in with Example ID"))
        let start = try await browser.get("/signin/oidc")
        #expect(start.status == .seeOther)
        let authorization = try #require(start.location)
        #expect(authorization.hasPrefix(provider.issuer + "/oauth2/authorize?"))
        for parameter in ["response_type=code", "client_id=tierdesk", "code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "scope=openid"] {
            #expect(authorization.contains(parameter), "the authorization request has \(parameter)")
        }
        let back = try await provider.authorize(authorization, subject: subject)
        #expect(back.hasPrefix(publicURL + "/signin/oidc/callback?"))
        let path = String(back.dropFirst(publicURL.count))
        return (try await browser.get(path), path)
    }

    /// The stored staff person the provider's `subject` is linked to.
    static func stored(subject: String) async throws -> (id: UUID, role: String, tiers: [Int16], email: String)? {
        try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            let rows = try await client.query(
                "SELECT id, role, tiers, email FROM agents WHERE oidc_subject = \(subject)", logger: TestDatabase.logger)
            for try await row in rows.decode((UUID, String, [Int16], String).self) { return (row.0, row.1, row.2, row.3) }
            return nil
        }
    }

    /// The person's session tokens: how many, and how many of them are revoked.
    static func sessionTokens(of person: UUID) async throws -> (all: Int, revoked: Int) {
        try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            let rows = try await client.query(
                """
                SELECT count(*)::int, count(revoked_at)::int FROM staff_tokens WHERE person_id = \(person) AND kind = 'session'
                """, logger: TestDatabase.logger)
            for try await (all, revoked) in rows.decode((Int, Int).self) { return (all, revoked) }
            return (0, 0)
        }
    }

    @Test(.freshDatabase) func anAgentOfLevel2ATeamLeadAndAnAdministratorSignInByTheirGroups() async throws {
        let provider = try await OIDCTestProvider()
        defer { provider.stop() }
        try await Self.person(provider, "lena", groups: ["helpdesk-l2", "everyone"])
        try await Self.person(provider, "leo", groups: ["helpdesk-leads"])
        try await Self.person(provider, "ada", groups: ["helpdesk-admins", "helpdesk-audit"])
        try await Self.run(provider) { system in
            let agent = system.browser()
            let (signedIn, _) = try await Self.signIn(agent, provider, "lena")
            #expect(
                signedIn.status == .ok && signedIn.text.contains("url=/agent/") && signedIn.setCookies["td_session"] != nil,
                "\(signedIn.status): \(signedIn.text.firstMatch(of: /id="error">([^<]*)/)?.1 ?? "")")
            let queues = try await agent.get("/agent/")
            #expect(queues.status == .ok && queues.text.contains("Level 2"))
            let lena = try #require(try await Self.stored(subject: "lena"))
            #expect(lena.role == "agent" && lena.tiers == [2] && lena.email == "lena@example.com")

            let lead = system.browser()
            #expect(try await Self.signIn(lead, provider, "leo").0.text.contains("url=/agent/"))
            #expect(try await lead.get("/agent/").status == .ok)
            let leo = try #require(try await Self.stored(subject: "leo"))
            #expect(leo.role == "lead" && leo.tiers == [1, 2])

            let admin = system.browser()
            #expect(try await Self.signIn(admin, provider, "ada").0.text.contains("url=/admin/"))
            #expect(try await admin.get("/admin/").status == .ok)
            #expect(try await Self.stored(subject: "ada")?.role == "admin")

            // A change of groups at the provider changes the role at the next sign-in.
            try await Self.person(provider, "lena", groups: ["helpdesk-l1", "helpdesk-l2"])
            try await Self.signIn(system.browser(), provider, "lena")
            let again = try #require(try await Self.stored(subject: "lena"))
            #expect(again.id == lena.id && again.tiers == [1, 2], "the same person, found by issuer and subject")
            // The console's session holds only a sealed token and a sealed ID token.
            for row in try await system.rows() { #expect(row.sealed.range(of: Data("tda_".utf8)) == nil) }
        }
    }

    @Test(.freshDatabase) func theFirstSignInLinksTheStaffPersonWithThatVerifiedEmail() async throws {
        let provider = try await OIDCTestProvider()
        defer { provider.stop() }
        try await Self.run(provider, createStaff: false) { system in
            let (existing, _) = try await system.agent(tiers: [1], name: "Mira")
            // An unverified email links nobody (and, with creation off, nobody is created).
            try await Self.person(provider, "mira-sub", email: existing.email, verified: false, groups: ["helpdesk-l1"])
            let refused = try await Self.signIn(system.browser(), provider, "mira-sub").0
            #expect(refused.status == .forbidden && refused.setCookies["td_session"] == nil)
            #expect(try await Self.stored(subject: "mira-sub") == nil)
            try await Self.person(provider, "mira-sub", email: existing.email, groups: ["helpdesk-l1"])
            let browser = system.browser()
            #expect(try await Self.signIn(browser, provider, "mira-sub").0.status == .ok)
            #expect(try await Self.stored(subject: "mira-sub")?.id == existing.id, "linked to the existing person")
            // Someone the help desk does not know is not created when creation is off.
            try await Self.person(provider, "stranger", groups: ["helpdesk-l1"])
            let stranger = try await Self.signIn(system.browser(), provider, "stranger").0
            #expect(stranger.status == .forbidden && stranger.text.contains("id=\"error\""))
        }
    }

    @Test(.freshDatabase) func aReplayedOrForeignCallbackIsRefused() async throws {
        let provider = try await OIDCTestProvider()
        defer { provider.stop() }
        try await Self.person(provider, "lena", groups: ["helpdesk-l2"])
        try await Self.run(provider) { system in
            let browser = system.browser()
            let (first, callback) = try await Self.signIn(browser, provider, "lena")
            #expect(first.status == .ok)
            // The same state (and so the same nonce and ID token) a second time.
            let replayed = try await system.browser().get(callback)
            #expect(replayed.status == .badRequest && replayed.text.contains("already used or has expired"))
            #expect(replayed.setCookies["td_session"] == nil)
            let again = try await browser.get(callback)
            #expect(again.status == .badRequest && again.setCookies["td_session"] == nil)

            // A callback begun in another browser (a sign-in CSRF): its binding cookie is missing.
            let victim = system.browser()
            let start = try await system.browser().get("/signin/oidc")
            let back = try await provider.authorize(try #require(start.location), subject: "lena")
            let foreign = try await victim.get(String(back.dropFirst(Self.publicURL.count)))
            #expect(foreign.status == .badRequest && foreign.text.contains("another browser") && victim.cookies["td_session"] == nil)
        }
    }

    @Test(.freshDatabase) func aPersonRemovedFromTheGroupsIsRefusedAndTheirSessionsEnd() async throws {
        let provider = try await OIDCTestProvider()
        defer { provider.stop() }
        try await Self.person(provider, "lena", groups: ["helpdesk-l2"])
        try await Self.run(provider) { system in
            let earlier = system.browser()
            try await Self.signIn(earlier, provider, "lena")
            #expect(try await earlier.get("/agent/").status == .ok)
            let lena = try #require(try await Self.stored(subject: "lena"))

            try await Self.person(provider, "lena", groups: ["everyone"])
            let refused = try await Self.signIn(system.browser(), provider, "lena").0
            #expect(refused.status == .forbidden && refused.setCookies["td_session"] == nil)
            #expect(refused.text.contains("none of the groups"))
            let tokens = try await Self.sessionTokens(of: lena.id)
            #expect(tokens.all >= 1 && tokens.revoked == tokens.all, "every session token of hers is revoked")
            // Her open session ends within the services' token cache lifetime.
            let ended = try await HTTP.eventually(timeout: .seconds(20)) { () -> TestResponse? in
                let page = try await earlier.get("/agent/")
                return page.status == .seeOther ? page : nil
            }
            #expect(ended.location?.hasPrefix("/signin") == true)
        }
    }

    @Test(.freshDatabase) func aRefusalAtTheProviderSignsNobodyIn() async throws {
        let provider = try await OIDCTestProvider()
        defer { provider.stop() }
        try await Self.run(provider) { system in
            let browser = system.browser()
            let start = try await browser.get("/signin/oidc")
            let back = try await provider.deny(try #require(start.location))
            let refused = try await browser.get(String(back.dropFirst(Self.publicURL.count)))
            #expect(refused.status == .forbidden && refused.text.contains("Example ID did not sign you in (access_denied)"))
            #expect(browser.cookies["td_session"] == nil)
        }
    }

    @Test(.freshDatabase) func signOutRevokesTheSessionAndEndsTheProvidersToo() async throws {
        let provider = try await OIDCTestProvider()
        defer { provider.stop() }
        try await Self.person(provider, "ada", groups: ["helpdesk-admins"])
        try await Self.run(provider) { system in
            let browser = system.browser()
            try await Self.signIn(browser, provider, "ada")
            let ada = try #require(try await Self.stored(subject: "ada"))
            try await browser.get("/admin/")
            let signedOut = try await browser.post("/signout")
            #expect(signedOut.status == .ok && browser.cookies["td_session"] == nil)
            let link = try #require(signedOut.text.firstMatch(of: /id="provider-sign-out" href="([^"]+)"|href="([^"]+)" id="provider-sign-out"/))
            let target = String(link.2 ?? link.1 ?? "").replacingOccurrences(of: "&amp;", with: "&")
            #expect(target.hasPrefix(provider.issuer + "/oauth2/end_session?id_token_hint=ey"))
            #expect(target.contains("post_logout_redirect_uri=http%3A%2F%2Fconsole.test%2F"))
            let tokens = try await Self.sessionTokens(of: ada.id)
            #expect(tokens.all == 1 && tokens.revoked == 1, "the session token is revoked at tier-queue")
            #expect(try await system.rows().isEmpty, "the console's session is gone")
        }
    }

    @Test(.freshDatabase) func withoutAnIssuerThereIsNoSingleSignOn() async throws {
        try await ConsoleSystem.run { system in
            let browser = system.browser()
            let page = try await browser.get("/signin")
            #expect(!page.text.contains("signin-oidc"))
            let start = try await browser.get("/signin/oidc")
            #expect(start.status == .notFound)
        }
    }
}
