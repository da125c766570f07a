import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Issue 24, item 1: the console never hides a failure. Each rule is replayed against the running
/// console, the real intake and tier-queue (triage and vendor-bridge down), and real PostgreSQL.
@Suite struct ConsoleFailureTests {
    /// The request id a page quotes: `(Request 3f2a….)`.
    static func requestID(_ page: TestResponse) -> String? {
        page.text.firstMatch(of: /\(Request ([^ ()]+)\.\)/).map { String($0.1) }
    }

    @Test(.freshDatabase) func aServiceThatCannotBeReachedIsSaidSoAndLoggedNotShownAsAnEmptyList() async throws {
        try await ConsoleSystem.run(refusingTriage: true) { system in
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)

            let rules = try await admin.get("/admin/rules")
            #expect(rules.status == .serviceUnavailable)
            #expect(rules.text.contains("The services cannot be reached right now (triage)"))
            #expect(!rules.text.contains("id=\"rules\""), "no empty table of rules")
            let id = try #require(Self.requestID(rules))
            let logged = system.log.entries(ofRequest: id)
            #expect(logged.contains { $0.level == .error && $0.metadata["console.failure"] == "unreachable" && $0.metadata["service"] == "triage" })
            #expect(logged.contains { $0.metadata["error"]?.isEmpty == false }, "the connection error itself is in the log")

            // A form whose service is down goes back with the outage, logged; nothing pretends it worked.
            try await admin.get("/admin/agents")
            let added = try await admin.post("/admin/vip", ["entry": "ceo@example.com"])
            #expect(added.location == "/admin/vip")
            let back = try await admin.get("/admin/agents")
            #expect(back.text.contains("The services cannot be reached right now (triage)"))
        }
        // A service that answers 503 (down behind its balancer) is the same outage.
        try await ConsoleSystem.run { system in
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let vendors = try await admin.get("/admin/vendors")
            #expect(vendors.status == .serviceUnavailable && vendors.text.contains("The services cannot be reached right now (vendor-bridge)"))
            #expect(!vendors.text.contains("id=\"vendors\""))
            let id = try #require(Self.requestID(vendors))
            #expect(system.log.entries(ofRequest: id).contains { $0.metadata["console.failure"] == "unreachable" && $0.metadata["http.status"] == "503" })
        }
    }

    @Test(.freshDatabase) func aPageWhosePartFailsShowsTheRestAndNamesThePart() async throws {
        try await ConsoleSystem.run { system in
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let letters = try await admin.get("/admin/dead-letters")
            #expect(letters.status == .ok)
            #expect(letters.text.contains("id=\"dead-letters-intake\"") && letters.text.contains("id=\"dead-letters-tier-queue\""))
            #expect(letters.text.contains("The dead letters of triage cannot be shown. The services cannot be reached right now (triage)"))
            #expect(letters.text.contains("The dead letters of vendor-bridge cannot be shown."))
            #expect(!letters.text.contains("id=\"dead-letters-triage\""))
            let id = try #require(Self.requestID(letters))
            #expect(system.log.entries(ofRequest: id).filter { $0.metadata["console.failure"] == "unreachable" }.count == 2)
        }
    }

    @Test(.freshDatabase) func theTicketPageSaysWhenTriagesProblemLookupFailed() async throws {
        try await ConsoleSystem.run { system in
            let ticket = try await system.ticket()
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let page = try await admin.get("/agent/tickets/\(ticket.id)")
            #expect(page.status == .ok && page.text.contains("id=\"ticket-ref\""), "the rest of the page shows")
            #expect(page.text.contains("The linked problem cannot be shown: triage did not answer in time."))
            #expect(!page.text.contains("The suggested articles cannot be shown"), "intake answered")
            #expect(system.log.entries.contains { $0.message.contains("lacks parts") && $0.metadata["unavailable"] == "[\"problem\"]" })
        }
    }

    @Test(.freshDatabase) func aRevokedTokenEndsTheSessionAndSaysSo() async throws {
        try await ConsoleSystem.run { system in
            let (agent, token) = try await system.agent()
            let browser = system.browser()
            try await browser.signIn(token)
            #expect(try await system.rows().contains { $0.role == "agent" })
            let ticket = try await system.ticket()
            // The admin issues the agent a new token: the one the session holds opens nothing any more.
            try await system.tierQueue.send(.post, "/v1/agents/\(agent.id)/token", token: TestCredentials.adminToken)

            let page = try await browser.get("/t/\(ticket.id)")
            #expect(page.status == .seeOther && page.location == "/signin")
            #expect(browser.cookies["td_session"] == nil, "the ended session's cookie is cleared")
            #expect(try await system.rows().allSatisfy { $0.role != "agent" }, "the session's row is gone")
            #expect(
                system.log.entries.contains { $0.metadata["console.failure"] == "sessionEnded" && $0.metadata["http.status"] == "401" },
                "\(system.log.entries.map { "\($0.message) \($0.metadata)" })")
            let signIn = try await browser.get("/signin")
            #expect(signIn.text.contains("Your session ended"))
        }
    }

    @Test(.freshDatabase) func aListLongerThanAPageShowsMoreAndTheNextPage() async throws {
        try await ConsoleSystem.run { system in
            // A page and one more: the agents and the tests' administrator.
            for number in 0..<Pages.pageSize {
                _ = try await system.agent(name: "Agent\(number)")
            }
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let first = try await admin.get("/admin/agents")
            #expect(first.text.components(separatedBy: "<tr><td>").count - 1 == Pages.pageSize)
            let more = try #require(first.text.firstMatch(of: /<a href="([^"]+)" id="more" rel="next">More<\/a>/).map { String($0.1) })
            let second = try await admin.get(more.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(second.status == .ok)
            #expect(second.text.components(separatedBy: "<tr><td>").count - 1 == 1)
            #expect(!second.text.contains("id=\"more\""), "the last page has no More")
            let names = (first.text + second.text).matches(of: /<tr><td>(Agent\d+)<\/td>/).map { String($0.1) }
            #expect(Set(names).count == Pages.pageSize + 1 && names.count == Pages.pageSize + 1, "every agent once")
        }
    }

    @Test(.freshDatabase) func aFormValueThatDoesNotParseIsRefusedAndNothingIsSent() async throws {
        try await ConsoleSystem.run { system in
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            try await admin.get("/admin/agents")
            let refused = try await admin.post(
                "/admin/agents", ["name": "Grace", "email": "grace@example.com", "tiers": "1, two", "wipLimit": "3"])
            #expect(refused.location == "/admin/agents")
            #expect(try await admin.get("/admin/agents").text.contains("Each level must be a whole number, not “two”."))
            let agents = try await system.tierQueue.send(.get, "/v1/agents", token: TestCredentials.adminToken).decode(Page<Agent>.self)
            #expect(!agents.items.contains { $0.email == "grace@example.com" }, "nothing was stored")

            try await admin.get("/admin/sla")
            let before = try await system.tierQueue.send(.get, "/v1/sla/policies", token: TestCredentials.adminToken).decode(Page<SLAPolicy>.self)
            let minutes = try await admin.post("/admin/sla/P2", ["firstResponseMinutes": "ten", "resolutionMinutes": "60"])
            #expect(minutes.location == "/admin/sla")
            #expect(try await admin.get("/admin/sla").text.contains("First response (minutes) must be a whole number, not “ten”."))
            let after = try await system.tierQueue.send(.get, "/v1/sla/policies", token: TestCredentials.adminToken).decode(Page<SLAPolicy>.self)
            #expect(after == before)

            // A resolution code that is not one: refused before tier-queue is asked (which would say the ticket is not there).
            let (_, token) = try await system.agent()
            let agent = system.browser()
            try await agent.signIn(token)
            try await agent.get("/agent/")
            let ticket = UUID()
            let resolve = try await agent.post("/agent/tickets/\(ticket)/resolve", ["resolution": "Rebooted", "code": "bogus"])
            #expect(resolve.location?.lowercased() == "/agent/tickets/\(ticket.uuidString.lowercased())")
            let shown = try await agent.get("/")
            #expect(shown.text.contains("How it was resolved: “bogus” is not one of the choices."))
        }
    }

    @Test func formValuesParseOrAreRefusedNeverDefaulted() throws {
        #expect(try FormValue.choice("wont_fix", "How") as ResolutionCode == .wontFix)
        #expect(throws: Backend.Failure.self) { try FormValue.choice("", "How") as ResolutionCode }
        #expect(throws: Backend.Failure.self) { try FormValue.choice(nil, "Waiting for") as PendingReason }
        #expect(try FormValue.number(" 12 ", "n") == 12 && FormValue.number("", "n") == nil && FormValue.number(nil, "n") == nil)
        #expect(throws: Backend.Failure.self) { try FormValue.number("4", "The level", in: 1...3) }
        #expect(throws: Backend.Failure.self) { try FormValue.number("1.5", "n") }
        #expect(try FormValue.numbers("1, 2,3", "Each level") == [1, 2, 3])
        #expect(try FormValue.flag(nil, "f") == false && FormValue.flag("true", "f") == true)
        #expect(throws: Backend.Failure.self) { try FormValue.flag("yes", "f") }
    }

    @Test(.freshDatabase) func eachRolesRoutesRefuseTheOtherRoles() async throws {
        try await ConsoleSystem.run { system in
            let (_, agentToken) = try await system.agent()
            let agent = system.browser()
            try await agent.signIn(agentToken)
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let vendor = try await system.browser(role: .vendor, token: "tdv_not-checked-here")
            let requester = system.browser()
            try await requester.get("/tickets/new")
            let filed = try await requester.post("/tickets", ["email": "rita@example.com", "subject": "Printer jams", "description": "Every page."])
            let ticket = try #require(filed.location?.firstMatch(of: /\/t\/([0-9a-fA-F-]{36})/).map { String($0.1) })
            let anonymous = system.browser()
            let everyone: [(String, Browser)] = [("agent", agent), ("admin", admin), ("vendor", vendor), ("requester", requester), ("anonymous", anonymous)]
            for (_, browser) in everyone { try await browser.get("/tickets/new") }  // each its form token

            let id = UUID().uuidString.lowercased()
            let groups: [(allowed: Set<String>, gets: [String], posts: [String])] = [
                (
                    ["agent", "admin"], ["/agent/", "/agent/problems", "/agent/reports", "/agent/tickets/\(id)", "/agent/queue.json?tier=1"],
                    ["/agent/tickets/\(id)/comment", "/agent/problems/\(id)"]
                ),
                (["agent"], [], ["/agent/claim"]),
                (
                    ["admin"],
                    [
                        "/admin/", "/admin/agents", "/admin/rules", "/admin/vendors", "/admin/vendors/\(id)", "/admin/dead-letters", "/admin/sla",
                        "/admin/contracts", "/admin/work-modes", "/admin/vip", "/admin/mail",
                    ],
                    [
                        "/admin/agents", "/admin/agents/\(id)/deactivate", "/admin/rules", "/admin/rules/\(id)/delete", "/admin/vendors/\(id)/standing",
                        "/admin/sla/P1", "/admin/calendar", "/admin/contracts/2", "/admin/work-modes", "/admin/vip", "/admin/dead-letters/intake/\(id)/retry",
                        "/admin/mail/\(id)/resend",
                    ]
                ),
                (["vendor"], ["/vendor/", "/vendor/cases/\(id)"], ["/vendor/cases/\(id)/updates"]),
            ]
            for group in groups {
                for (role, browser) in everyone {
                    var answers: [(String, TestResponse)] = []
                    for path in group.gets { answers.append((path, try await browser.get(path))) }
                    for path in group.posts { answers.append((path, try await browser.post(path, ["tier": "1"]))) }
                    for (path, answer) in answers {
                        let refused = answer.status == .forbidden && path.contains(".json") || answer.location?.hasPrefix("/signin") == true
                        #expect(refused == !group.allowed.contains(role), "\(role) \(path): \(answer.status) \(answer.location ?? "")")
                    }
                }
            }
            // The requester's forms: only the ticket's own session; everyone else goes back to the ticket's page.
            for (role, browser) in everyone {
                let reply = try await browser.post("/t/\(ticket)/reply", ["message": "It jams again."])
                #expect((reply.location == "/t/\(ticket)?notice=replied") == (role == "requester"), "\(role): \(reply.location ?? "")")
                if role != "requester" { #expect(reply.location == "/t/\(ticket)") }
            }
        }
    }

    @Test(.freshDatabase) func theLevelsCacheExpiresWhenTheConsolesClockMovesOn() async throws {
        try await ConsoleSystem.run { system in
            let (agent, token) = try await system.agent(tiers: [1])
            let browser = system.browser()
            try await browser.signIn(token)
            let first = try await browser.get("/agent/")
            #expect(first.text.contains("id=\"queue-1\"") && !first.text.contains("id=\"queue-2\""))
            try await system.tierQueue.send(.patch, "/v1/agents/\(agent.id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(tiers: [1, 2]))

            system.clock.advance(by: 4)
            #expect(!(try await browser.get("/agent/").text.contains("id=\"queue-2\"")), "4 s on: the levels are remembered")
            system.clock.advance(by: 2)
            #expect(try await browser.get("/agent/").text.contains("id=\"queue-2\""), "6 s on: asked again, level 2 shows")
        }
    }
}
