import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Issue 23, item 6: the console's sessions live on the server, and each rule is replayed against
/// the running console, the real intake and tier-queue, and real PostgreSQL.
@Suite struct ConsoleSessionTests {
    @Test(.freshDatabase) func theBrowserAndTheTableHoldNoTokenOnlyASealedOne() async throws {
        try await ConsoleSystem.run { system in
            let agentToken = try await system.agentToken()
            let agent = system.browser()
            let signedIn = try await agent.signIn(agentToken)
            #expect(signedIn.status == .seeOther && signedIn.location == "/agent/")
            let id = try #require(signedIn.setCookies["td_session"])
            #expect(id != agentToken && !signedIn.headers[values: .setCookie].contains { $0.contains(agentToken) })
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            #expect(admin.cookies["td_session"] != nil && !admin.cookies.values.contains(TestCredentials.adminToken))

            let rows = try await system.rows()
            #expect(Set(rows.map(\.role)) == ["agent", "admin"])
            let agentRow = try #require(rows.first { $0.role == "agent" })
            #expect(agentRow.idHash == Secrets.hash(id), "the id rests only as its SHA-256")
            for row in rows {
                for secret in [agentToken, TestCredentials.adminToken, id] {
                    #expect(row.sealed.range(of: Data(secret.utf8)) == nil && row.idHash.range(of: Data(secret.utf8)) == nil)
                }
            }
            // The sealed token opens under the console's key, bound to its own row only.
            let store = SessionStore(
                client: try TestDatabase.settings().makeClient(logger: TestDatabase.logger),
                sealKey: ConsoleKeys.key(ConsoleKeys.sealPurpose, secret: ConsoleSystem.secret))
            #expect(try store.open(agentRow.sealed, idHash: agentRow.idHash) == agentToken)
            #expect((try? store.open(agentRow.sealed, idHash: Secrets.hash("another id"))) == nil)

            #expect(try await agent.get("/agent/").status == .ok)
            #expect(try await admin.get("/admin/").status == .ok)
            // The raw token in the cookie where the session id belongs opens nothing.
            let forged = system.browser()
            forged.cookies["td_session"] = agentToken
            let refused = try await forged.get("/agent/")
            #expect(refused.status == .seeOther && refused.location?.hasPrefix("/signin") == true)
        }
    }

    @Test(.freshDatabase) func aSessionEndsWhenUnusedForItsIdleTimeAndAtItsAbsoluteLimit() async throws {
        try await ConsoleSystem.run { system in
            let idle = system.browser()
            try await idle.signIn(TestCredentials.adminToken)
            system.clock.advance(by: 29 * 60)
            #expect(try await idle.get("/admin/").status == .ok, "29 minutes unused: still signed in")
            system.clock.advance(by: 29 * 60)
            #expect(try await idle.get("/admin/").status == .ok, "each request moves the idle expiry on")
            system.clock.advance(by: 31 * 60)
            let expired = try await idle.get("/admin/")
            #expect(expired.status == .seeOther && expired.location?.hasPrefix("/signin") == true, "31 minutes unused: signed out")
            #expect(idle.cookies["td_session"] == nil, "the ended session's cookie is cleared")

            let busy = system.browser()
            try await busy.signIn(TestCredentials.adminToken)
            var elapsed = 0
            while elapsed + 25 < 12 * 60 {
                system.clock.advance(by: 25 * 60)
                elapsed += 25
                #expect(try await busy.get("/admin/").status == .ok, "in use, \(elapsed) minutes after sign-in")
            }
            system.clock.advance(by: Double(12 * 60 - elapsed) * 60)
            let ended = try await busy.get("/admin/")
            #expect(ended.status == .seeOther && ended.location?.hasPrefix("/signin") == true, "12 hours after sign-in: signed out however busy")
        }
    }

    @Test(.freshDatabase) func signOutDeletesTheSessionSoAReplayedCookieOpensNothing() async throws {
        try await ConsoleSystem.run { system in
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            try await admin.get("/admin/")
            let stolen = admin.cookies
            let stolenCSRF = admin.csrf
            let out = try await admin.post("/signout")
            #expect(out.status == .seeOther && out.location == "/?notice=signed-out")
            #expect(admin.cookies["td_session"] == nil)
            #expect(try await system.rows().isEmpty, "the row is gone")

            let replay = system.browser()
            replay.cookies = stolen
            let page = try await replay.get("/admin/")
            #expect(page.status == .seeOther && page.location?.hasPrefix("/signin") == true)
            replay.cookies = stolen
            replay.csrf = stolenCSRF
            let form = try await replay.post("/admin/rules/\(UUID())/delete")
            #expect(form.status == .seeOther && form.location == "/signin", "a form under the ended session is sent to sign in, and does nothing")
            let signin = try await replay.get("/signin")
            #expect(signin.text.contains("Your session has ended"))
        }
    }

    /// The attack of the issue: `GET /t/{id}?token=tdr_xxxxxxxxxxxxxxxxxxxx` set the session cookie to that string.
    @Test(.freshDatabase) func aTokenInTheQueryNeitherSetsNorReplacesASession() async throws {
        try await ConsoleSystem.run { system in
            let ticket = try await system.ticket(subject: "Printer jams \(UUID())")
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let before = admin.cookies
            for token in ["tdr_xxxxxxxxxxxxxxxxxxxx", ticket.token] {
                let answer = try await admin.get("/t/\(ticket.id)?token=\(token)")
                #expect(answer.setCookies["td_session"] == nil && answer.setCookies["td_ticket"] == nil)
                #expect(!answer.text.contains(token))
            }
            #expect(admin.cookies == before, "the staff session is intact")
            #expect(try await admin.get("/admin/").status == .ok)
            #expect(try await system.rows().map(\.role) == ["admin"], "nothing stored")

            // Without a session, the real token in the query opens nothing either: the page asks for the link.
            let stranger = system.browser()
            let page = try await stranger.get("/t/\(ticket.id)?token=\(ticket.token)")
            #expect(page.setCookies["td_ticket"] == nil && page.text.contains("id=\"open-ticket\"") && !page.text.contains("Printer jams"))
            #expect(try await system.rows().count == 1)
        }
    }

    @Test(.freshDatabase) func aLinkTokenIsCheckedWithIntakeBeforeAnythingIsStored() async throws {
        try await ConsoleSystem.run { system in
            let mine = try await system.ticket(subject: "Laptop fan loud \(UUID())")
            let other = try await system.ticket(subject: "Monitor flickers \(UUID())")
            let requester = system.browser()
            let opening = try await requester.get("/t/\(mine.id)")
            #expect(opening.status == .ok && opening.text.contains("data-open-link") && !opening.text.contains("Laptop fan"))
            let forgedMAC = Secrets.requesterToken(ticketID: mine.id, secret: "not-the-server-secret-0123456789")
            for refused in [other.token, forgedMAC, "tdr_xxxxxxxxxxxxxxxxxxxx", ""] {
                let answer = try await requester.post("/t/\(mine.id)/open", ["token": refused])
                #expect(answer.status == .seeOther && answer.location == "/t/\(mine.id)" && answer.setCookies["td_ticket"] == nil)
                let page = try await requester.get("/t/\(mine.id)")
                #expect(page.status == .notFound && page.text.contains("does not open this ticket") && !page.text.contains("Laptop fan"))
            }
            #expect(try await system.rows().isEmpty, "a refused token stores nothing")

            let opened = try await requester.post("/t/\(mine.id)/open", ["token": mine.token])
            #expect(opened.status == .seeOther && opened.location == "/t/\(mine.id)")
            let id = try #require(opened.setCookies["td_ticket"])
            #expect(id != mine.token)
            let rows = try await system.rows()
            #expect(rows.count == 1 && rows[0].role == "requester" && rows[0].ticketID == mine.id && rows[0].idHash == Secrets.hash(id))
            #expect(rows[0].sealed.range(of: Data(mine.token.utf8)) == nil)
            let page = try await requester.get("/t/\(mine.id)")
            #expect(page.status == .ok && page.text.contains("Laptop fan"))
            #expect(try await requester.get("/t/\(other.id)").status == .notFound, "it opens its own ticket alone")

            // A staff member opening a requester's link keeps the staff session beside it.
            let agent = system.browser()
            try await agent.signIn(TestCredentials.adminToken)
            let staff = agent.cookies["td_session"]
            try await agent.get("/t/\(other.id)")
            #expect(try await agent.post("/t/\(other.id)/open", ["token": other.token]).setCookies["td_ticket"] != nil)
            #expect(agent.cookies["td_session"] == staff && agent.cookies["td_ticket"] != nil)
            #expect(try await agent.get("/admin/").status == .ok)
            #expect(Set(try await system.rows().map(\.role)) == ["requester", "admin"])
        }
    }

    @Test(.freshDatabase) func aFormTokenIsBoundToItsSession() async throws {
        try await ConsoleSystem.run { system in
            let alice = system.browser()
            try await alice.signIn(TestCredentials.adminToken)
            try await alice.get("/admin/")
            let bob = system.browser()
            try await bob.signIn(TestCredentials.adminToken)
            try await bob.get("/admin/")
            #expect(alice.csrf != bob.csrf)
            // Bob's token in Alice's session, and the token her browser had before it signed in: refused.
            let anonymous = system.browser()
            anonymous.cookies["td_csrf"] = alice.cookies["td_csrf"]
            try await anonymous.get("/signin")
            for foreign in [bob.csrf, anonymous.csrf, "forged", ""] {
                let answer = try await alice.post("/signout", ["_csrf": foreign])
                #expect(answer.status == .forbidden, "\(foreign)")
            }
            #expect(try await system.rows().count == 2, "nobody was signed out")
            #expect(try await alice.post("/signout").status == .seeOther)
            #expect(try await system.rows().count == 1, "her own token signs her out, and only her")
            // A requester's session has its own form token too.
            let ticket = try await system.ticket(subject: "Keyboard sticks \(UUID())")
            let requester = system.browser()
            try await requester.get("/t/\(ticket.id)")
            try await requester.post("/t/\(ticket.id)/open", ["token": ticket.token])
            try await requester.get("/t/\(ticket.id)")
            let row = try #require(try await system.rows().first { $0.role == "requester" })
            let expected = StoredSession(role: .requester, token: "", csrfSecret: row.csrfSecret, ticketID: ticket.id).formToken
            #expect(requester.csrf == expected)
            #expect(try await requester.post("/t/\(ticket.id)/reply", ["_csrf": bob.csrf, "message": "hello"]).status == .forbidden)
        }
    }

    @Test(.freshDatabase) func everyAnswerCarriesTheSecurityHeaders() async throws {
        try await ConsoleSystem.run { system in
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let answers: [(String, TestResponse)] = [
                ("page", try await admin.get("/")), ("JSON", try await admin.get("/suggest?q=vpn%20drops")),
                ("fragment", try await admin.get("/agent/queue.json?tier=1")), ("stylesheet", try await admin.get("/static/console.css")),
                ("script", try await admin.get("/static/console.js")), ("unknown path", try await admin.get("/no/such/page")),
                ("redirect", try await system.browser().get("/agent/")), ("refused form", try await admin.post("/signout", ["_csrf": "forged"])),
                ("health", try await admin.get("/health/ready")),
            ]
            for (what, answer) in answers {
                let policy = answer.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("base-uri 'none'") && policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"), "\(what)")
                #expect(answer.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(what)")
                #expect(answer.headers[HTTPField.Name("Strict-Transport-Security")!] == nil, "\(what): no HSTS over plain http")
                #expect(answer.headers[SessionMiddleware.flashHeader] == nil)
            }
            #expect(answers[1].1.headers[.contentType] == "application/json" && answers[2].1.status == .ok)
        }
    }

    @Test(.freshDatabase) func cookiesAreSecureAndHostPrefixedByDefaultWithHSTS() async throws {
        try await ConsoleSystem.run(insecureCookies: false) { system in
            let visitor = system.browser()
            let page = try await visitor.get("/signin")
            let cookie = try #require(page.headers[values: .setCookie].first)
            #expect(cookie.hasPrefix("__Host-td_csrf=") && cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/") && !cookie.contains("Domain"))
            #expect(page.headers[HTTPField.Name("Strict-Transport-Security")!]?.hasPrefix("max-age=") == true)
            let signedIn = try await visitor.post("/signin", ["token": TestCredentials.adminToken])
            let session = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("__Host-td_session=") })
            #expect(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Strict"))
            // The unprefixed name is not this console's cookie.
            let unprefixed = system.browser()
            unprefixed.cookies["td_session"] = visitor.cookies["__Host-td_session"]
            #expect(try await unprefixed.get("/admin/").status == .seeOther)
            #expect(try await visitor.get("/admin/").status == .ok)
        }
    }

    @Test(.freshDatabase) func noticesAreCodesAndErrorsComeOnlyFromTheConsole() async throws {
        try await ConsoleSystem.run { system in
            let visitor = system.browser()
            let phishing = try await visitor.get("/?notice=Your%20account%20is%20locked.%20Call%20555-0100&error=Call%20555-0100")
            #expect(!phishing.text.contains("555-0100") && !phishing.text.contains("id=\"notice\"") && !phishing.text.contains("id=\"error\""))
            #expect(try await visitor.get("/?notice=signed-out").text.contains("You are signed out."))
            // A flash cookie the console did not sign shows nothing.
            let forged = Secrets.base64URL(Data("Call 555-0100".utf8))
            visitor.cookies["td_flash"] = "\(forged).\(Int(system.clock.now().timeIntervalSince1970) + 60).AAAA"
            #expect(!(try await visitor.get("/signin")).text.contains("555-0100"))
            // One the console signed shows once, then is spent.
            let refused = try await visitor.post("/signin", ["token": "tda_not-a-real-token"])
            #expect(refused.status == .seeOther && refused.location == "/signin" && refused.setCookies["td_flash"] != nil)
            #expect(try await visitor.get("/signin").text.contains("That token is not accepted."))
            #expect(!(try await visitor.get("/signin")).text.contains("That token is not accepted."))
        }
    }

    /// The clean-up removes sessions past their expiry, and only those.
    @Test(.freshDatabase) func theCleanUpRemovesEndedSessionsOnly() async throws {
        try await TestDatabase.withClient { client in
            let store = SessionStore(client: client, sealKey: ConsoleKeys.key(ConsoleKeys.sealPurpose, secret: ConsoleSystem.secret))
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let short = SessionLifetime(idle: 60, absolute: 3600)
            let ended = try await store.create(role: .admin, token: "adm-token", ticketID: nil, lifetime: short, now: start, logger: TestDatabase.logger)
            let live = try await store.create(
                role: .requester, token: "tdr_token", ticketID: UUID(), lifetime: SessionLifetime(idle: 86_400, absolute: 86_400), now: start,
                logger: TestDatabase.logger)
            let later = start.addingTimeInterval(120)
            #expect(try await store.prune(now: later, logger: TestDatabase.logger) == 1)
            #expect(try await store.find(id: ended, idle: 60, now: later, logger: TestDatabase.logger) == nil)
            #expect(try await store.find(id: live, idle: 86_400, now: later, logger: TestDatabase.logger)?.token == "tdr_token")
        }
    }
}
