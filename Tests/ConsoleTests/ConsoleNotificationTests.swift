import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Agents are told (issue 25) in the console: the notifications page and its read marks and mail
/// choice, and the relay of tier-queue's live stream, against the real tier-queue and PostgreSQL.
@Suite struct ConsoleNotificationTests {
    /// A level 1 ticket in progress, held by `owner`.
    func ticket(heldBy owner: UUID) async throws -> Ticket {
        try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            let db = StoreFixture(client: client)
            let queued = try await db.queued(tier: .firstLine)
            return try await db.change(queued.id) { ticket in
                ticket.status = .inProgress
                ticket.assigneeId = owner
            }
        }
    }

    func stream(_ system: ConsoleSystem, _ browser: Browser?, lastEventID: String? = nil) async throws -> EventStreamClient {
        var headers: [(String, String)] = []
        if let browser { headers.append(("Cookie", browser.cookieHeader)) }
        if let lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
        return try await EventStreamClient.open("http://127.0.0.1:\(system.console.port!)/agent/notifications/stream", headers: headers)
    }

    @Test(.freshDatabase) func theConsoleRelaysTheAgentsStreamAndShowsItsNotifications() async throws {
        try await ConsoleSystem.run { system in
            let (owner, _) = try await system.agent(name: "Ada")
            let (colleague, colleagueToken) = try await system.agent(name: "Bea")
            let bea = system.browser()
            try await bea.signIn(colleagueToken)
            let queues = try await bea.get("/agent/")
            #expect(queues.text.contains("data-stream=\"/agent/notifications/stream\"") && queues.text.contains("id=\"unread-count\""))
            #expect(queues.text.contains("data-refresh=\"/agent/queue.json?tier=1\"") && !queues.text.contains("data-poll"))

            let live = try await stream(system, bea)
            #expect(live.status == .ok && live.headers.first(name: "content-type") == "text/event-stream")
            let ticket = try await ticket(heldBy: owner.id)
            let moved = try await system.tierQueue.send(
                .post, "/v1/tickets/\(ticket.id)/reassign", token: TestCredentials.adminToken, json: ReassignRequest(agentId: colleague.id))
            #expect(moved.status == .ok)
            #expect(try await live.wait { $0.contains { $0.event == "notification" } })
            let event = try #require(live.received.first { $0.event == "notification" })
            let told = try JSONCoding.decoder.decode(AgentNotification.self, from: Data(event.data.utf8))
            #expect(told.kind == .assigned && told.ticketId == ticket.id && event.id == "\(told.seq)")
            try await live.close()

            // Resumed through the console: Last-Event-ID reaches tier-queue.
            let resumed = try await stream(system, bea, lastEventID: "\(told.seq - 1)")
            #expect(try await resumed.wait { $0.contains { $0.id == "\(told.seq)" } })
            try await resumed.close()

            let latest = try await bea.get("/agent/notifications.json")
            #expect(try latest.decode(NotificationPage.self).unread == 1)
            let page = try await bea.get("/agent/notifications")
            #expect(page.status == .ok && page.text.contains("id=\"page-unread\">1<") && page.text.contains(ticket.reference))
            #expect(page.text.contains("value=\"immediate\" checked"))
            let marked = try await bea.post("/agent/notifications/read")
            #expect(marked.location?.hasPrefix("/agent/notifications") == true)
            #expect(try await bea.get("/agent/notifications").text.contains("id=\"page-unread\">0<"))
            _ = try await bea.post("/agent/notifications/settings", ["mail": "hourly"])
            #expect(try await bea.get("/agent/notifications").text.contains("value=\"hourly\" checked"))
            let refused = try await bea.post("/agent/notifications/settings", ["mail": "weekly"])
            #expect(refused.location == "/agent/notifications")
            #expect(try await bea.get("/agent/notifications").text.contains("value=\"hourly\" checked"))
        }
    }

    @Test(.freshDatabase) func aQueueChangeReachesItsLevelsStreamsAndOnlyStaffMayListen() async throws {
        try await ConsoleSystem.run { system in
            let (_, token) = try await system.agent(name: "Ada")
            let ada = system.browser()
            try await ada.signIn(token)
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let agentStream = try await stream(system, ada)
            let adminStream = try await stream(system, admin)
            #expect(agentStream.status == .ok && adminStream.status == .ok)
            // Let the hub take the queue's first look before it changes (it polls every second).
            try await Task.sleep(for: .milliseconds(1500))
            _ = try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { try await StoreFixture(client: $0).queued(tier: .firstLine) }
            for live in [agentStream, adminStream] {
                #expect(try await live.wait(timeout: .seconds(10)) { $0.contains { $0.event == "queue" && $0.data == #"{"tier":1}"# } })
                try await live.close()
            }
            // Nobody else: no session, a requester, a vendor.
            let anonymous = try await stream(system, nil)
            #expect(anonymous.status == .forbidden && anonymous.received.isEmpty)
            try await anonymous.close()
            let vendor = try await system.browser(role: .vendor, token: "tdv_" + String(repeating: "v", count: 43))
            let refused = try await stream(system, vendor)
            #expect(refused.status == .forbidden && refused.received.isEmpty)
            try await refused.close()
            #expect(try await system.browser().get("/agent/notifications.json").status == .forbidden)
            #expect(try await admin.get("/agent/notifications").location?.hasPrefix("/signin") == true)
        }
    }
}
