import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Issue 26, items 2 and 4, in the console: signing in with email, password and code; "My account";
/// an administrator's page of a person's account; sessions that end with the token tier-queue minted.
@Suite struct StaffAccountPageTests {
    static let tierQueue = ["TIERDESK_PASSWORD_BCRYPT_COST": "4"]

    /// A new agent with a temporary password an administrator set: the agent and that password.
    func agentWithTemporaryPassword(_ system: ConsoleSystem) async throws -> (Agent, String) {
        let (agent, _) = try await system.agent()
        let reset = try await system.tierQueue.send(.post, "/v1/staff/\(agent.id)/password", token: TestCredentials.adminToken)
        return (agent, try reset.decode(TemporaryPassword.self).temporaryPassword)
    }

    /// The API token the browser's staff session holds, opened from its row as the console does.
    func sessionToken(_ browser: Browser) async throws -> String {
        let id = try #require(browser.cookies["td_session"])
        let store = SessionStore(
            client: try TestDatabase.settings().makeClient(logger: TestDatabase.logger),
            sealKey: ConsoleKeys.key(ConsoleKeys.sealPurpose, secret: ConsoleSystem.secret))
        return try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            let sealed = try #require(
                try await client.first("SELECT sealed_token FROM console_sessions WHERE id_hash = \(Secrets.hash(id))", logger: TestDatabase.logger) {
                    try $0.get("sealed_token", as: Data.self)
                })
            return try store.open(sealed, idHash: Secrets.hash(id))
        }
    }

    @Test(.freshDatabase) func staffSignInWithPasswordAndCodeAndSignOutEndsTheTokenToo() async throws {
        try await ConsoleSystem.run(tierQueue: Self.tierQueue) { system in
            let (agent, temporary) = try await agentWithTemporaryPassword(system)
            let browser = system.browser()
            let page = try await browser.get("/signin")
            #expect(page.text.contains("id=\"signin-password\"") && page.text.contains("name=\"code\""))
            let first = try await browser.post("/signin/password", ["email": agent.email, "password": temporary])
            #expect(first.status == .unauthorized && first.text.contains("temporary password") && first.text.contains("name=\"newPassword\""))
            #expect(!first.text.contains(temporary), "the password is not echoed")
            let signedIn = try await browser.post(
                "/signin/password", ["email": agent.email, "password": temporary, "newPassword": "correct horse battery"])
            #expect(signedIn.status == .seeOther && signedIn.location == "/agent/")
            #expect(try await browser.get("/agent/").status == .ok)
            let token = try await sessionToken(browser)
            #expect(token.hasPrefix("tda_"))
            #expect(try await system.rows().map(\.role) == ["agent"])

            // Set up TOTP from "My account": the secret as text and as an otpauth:// URI.
            let account = try await browser.get("/account")
            #expect(account.status == .ok && account.text.contains(agent.email) && account.text.contains("id=\"totp-start\""))
            let enrolment = try await browser.post("/account/totp")
            let secretText = try #require(enrolment.text.firstMatch(of: /id="totp-secret">([A-Z2-7]+)</)?.1)
            #expect(enrolment.text.contains("otpauth://totp/Tierdesk:"))
            let secret = try #require(Base32.decode(String(secretText)))
            let confirmed = try await browser.post("/account/totp/confirm", ["code": OneTimeCodes.code(secret: secret, at: system.clock.now())])
            #expect(confirmed.status == .seeOther && confirmed.location == "/account?notice=saved")
            #expect(try await browser.get("/account").text.contains("id=\"totp-state\">On"))

            // Sign-in now asks for the code.
            let other = system.browser()
            _ = try await other.get("/signin")
            let noCode = try await other.post("/signin/password", ["email": agent.email, "password": "correct horse battery"])
            #expect(noCode.status == .unauthorized && noCode.text.contains("Enter the code"))
            system.clock.advance(by: 30)
            let withCode = try await other.post(
                "/signin/password",
                ["email": agent.email, "password": "correct horse battery", "code": OneTimeCodes.code(secret: secret, at: system.clock.now())])
            #expect(withCode.status == .seeOther)
            _ = try await other.get("/signin")  // the signed-in session's form token
            let unknown = try await other.post("/signin/password", ["email": "nobody@example.com", "password": "correct horse battery"])
            #expect(unknown.status == .unauthorized && unknown.text.contains("not accepted"))

            // Sign-out deletes the console's row and revokes the token at tier-queue.
            #expect(try await system.tierQueue.send(.get, "/v1/me/account", token: token).status == .ok)
            #expect(try await browser.post("/signout").status == .seeOther)
            system.clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await system.tierQueue.send(.get, "/v1/me/account", token: token).status == .unauthorized)
            #expect(try await system.rows().count == 1, "the other browser's session only")
        }
    }

    @Test(.freshDatabase) func myAccountMakesListsAndRevokesPersonalTokens() async throws {
        try await ConsoleSystem.run(tierQueue: Self.tierQueue) { system in
            let (agent, temporary) = try await agentWithTemporaryPassword(system)
            let browser = system.browser()
            _ = try await browser.get("/signin")
            _ = try await browser.post("/signin/password", ["email": agent.email, "password": temporary, "newPassword": "correct horse battery"])
            #expect(try await browser.get("/account").status == .ok)
            let made = try await browser.post("/account/tokens", ["name": "nightly export", "scope": "read", "days": "7"])
            #expect(made.status == .ok)
            let token = try #require(made.text.firstMatch(of: /id="made-token-value">(tda_[A-Za-z0-9_-]+)</)?.1)
            #expect(try await system.tierQueue.send(.get, "/v1/me/tokens", token: String(token)).status == .ok)
            let listed = try await browser.get("/account")
            #expect(listed.text.contains("nightly export") && !listed.text.contains(String(token)), "listed, never shown again")
            #expect(try await browser.post("/account/tokens", ["name": "too wide", "scope": "admin", "days": "7"]).status == .seeOther)
            #expect(try await browser.get("/account").text.contains("scope"), "the refusal is shown")
            let summary = try await system.tierQueue.send(.get, "/v1/me/tokens", token: String(token)).decode(Page<StaffTokenSummary>.self)
            let id = try #require(summary.items.first { $0.name == "nightly export" }?.id)
            #expect(try await browser.post("/account/tokens/\(id)/revoke").location == "/account?notice=revoked")
            system.clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await system.tierQueue.send(.get, "/v1/me/tokens", token: String(token)).status == .unauthorized)
            #expect(try await browser.post("/account/password", ["currentPassword": "wrong", "newPassword": "another good passphrase"]).status == .seeOther)
            #expect(try await browser.get("/account").text.contains("currentPassword"))
            #expect(
                try await browser.post("/account/password", ["currentPassword": "correct horse battery", "newPassword": "another good passphrase"]).location
                    == "/account?notice=saved")
        }
    }

    @Test(.freshDatabase) func anAdministratorResetsUnlocksAndRevokesFromThePersonsPage() async throws {
        try await ConsoleSystem.run(tierQueue: Self.tierQueue) { system in
            let (agent, temporary) = try await agentWithTemporaryPassword(system)
            let browser = system.browser()
            _ = try await browser.get("/signin")
            _ = try await browser.post("/signin/password", ["email": agent.email, "password": temporary, "newPassword": "correct horse battery"])
            #expect(try await browser.get("/agent/").status == .ok)
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            #expect(try await browser.get("/admin/staff/\(agent.id)").status == .seeOther, "an agent is not let in")

            // Five wrong passwords lock the account; the page says so; unlock lifts it.
            for attempt in 1...5 {
                _ = try await system.tierQueue.send(.post, "/v1/sign-in", json: SignInRequest(email: agent.email, password: "wrong \(attempt)"))
            }
            let locked = try await admin.get("/admin/staff/\(agent.id)")
            #expect(locked.status == .ok && locked.text.contains("Locked until") && locked.text.contains("id=\"unlock\""))
            #expect(try await admin.post("/admin/staff/\(agent.id)/unlock").location == "/admin/staff/\(agent.id)?notice=saved")
            let unlocked = try await admin.get("/admin/staff/\(agent.id)")
            #expect(!unlocked.text.contains("Locked until"))

            // The person's sessions are listed and revoked one by one.
            let page = try await admin.get("/admin/staff/\(agent.id)")
            let sessionID = try #require(page.text.firstMatch(of: /data-token="([0-9a-f-]{36})"><td>session/)?.1)
            #expect(try await admin.post("/admin/staff/\(agent.id)/tokens/\(sessionID)/revoke").status == .seeOther)
            system.clock.advance(by: Authenticator.cacheLifetime)
            let ended = try await browser.get("/agent/")
            #expect(ended.status == .seeOther && ended.location?.hasPrefix("/signin") == true, "the revoked session ends in the console too")

            // A reset shows the temporary password once and ends the person's sessions.
            _ = try await browser.get("/signin")
            _ = try await browser.post("/signin/password", ["email": agent.email, "password": "correct horse battery"])
            #expect(try await browser.get("/agent/").status == .ok)
            let reset = try await admin.post("/admin/staff/\(agent.id)/password")
            let shown = try #require(reset.text.firstMatch(of: /id="temporary-password-value">([A-Za-z0-9]+)</)?.1)
            #expect(shown.count == 20)
            system.clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await browser.get("/agent/").location?.hasPrefix("/signin") == true)
        }
    }

    /// The console's session ends at the token's absolute end when tier-queue's is the earlier, and
    /// after its idle time like any staff session.
    @Test(.freshDatabase) func aPasswordSessionEndsAtTheTokensEndAndWhenIdle() async throws {
        try await ConsoleSystem.run(tierQueue: Self.tierQueue.merging(["TIERDESK_STAFF_SESSION_MAX_HOURS": "1"]) { $1 }) { system in
            let (agent, temporary) = try await agentWithTemporaryPassword(system)
            let busy = system.browser()
            _ = try await busy.get("/signin")
            let signedIn = try await busy.post(
                "/signin/password", ["email": agent.email, "password": temporary, "newPassword": "correct horse battery"])
            #expect(signedIn.setCookies["td_session"] != nil)
            for _ in 0..<2 {
                system.clock.advance(by: 25 * 60)
                #expect(try await busy.get("/agent/").status == .ok)
            }
            system.clock.advance(by: 11 * 60)
            let ended = try await busy.get("/agent/")
            #expect(ended.status == .seeOther && ended.location?.hasPrefix("/signin") == true, "an hour after sign-in, however busy")

            let idle = system.browser()
            _ = try await idle.get("/signin")
            #expect(try await idle.post("/signin/password", ["email": agent.email, "password": "correct horse battery"]).status == .seeOther)
            system.clock.advance(by: 31 * 60)
            #expect(try await idle.get("/agent/").location?.hasPrefix("/signin") == true, "31 minutes unused")
        }
    }
}
