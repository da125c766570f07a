import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import TierQueueApp

/// Agents are told (issue 25): what tells whom, in the transaction of the cause; the list, read
/// marks and mail choice over HTTP; the live stream; the mail each choice writes.
@Suite struct NotificationTests {
    /// tier-queue on a live port with its notification hub running (polling every 100 ms).
    func withTierQueue(_ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp({ (reader: ConfigReader) in
                let configuration = try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: TierQueue.defaultPort)
                let runtime = try ServiceRuntime(configuration: configuration)
                let deps = TierQueueDependencies(
                    runtime: runtime, configuration: TierQueueConfiguration(tiers: Set(Tier.agentTiers), notifyPollInterval: .milliseconds(100)),
                    vendorBridge: FakeVendorBridge(vendor: nil), intake: FakeIntake(), triage: FakeTriage())
                return runtime.makeApplication(router: buildRouter(deps), services: [deps.notifications])
            }) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    func list(_ http: any TestClientProtocol, _ token: String, _ query: String = "") async throws -> NotificationPage {
        let response = try await http.send(.get, "/v1/notifications" + query, token: token)
        #expect(response.status == .ok)
        return try response.decode(NotificationPage.self)
    }

    func mails(_ db: StoreFixture) async throws -> [String] {
        try await db.client.all("SELECT kind || ' ' || recipient || ' ' || source AS row FROM mail_outbox ORDER BY created_at, kind", logger: db.logger) {
            try $0.get("row", as: String.self)
        }
    }

    static func email(_ agent: AgentIdentity) -> String { "agent-\(agent.id.uuidString.lowercased())@example.com" }

    @Test(.freshDatabase) func anAssignmentBySomeoneElseReachesTheAgentsOpenStream() async throws {
        try await withTierQueue { http, db in
            let (owner, colleague) = (AgentIdentity.fixture(), AgentIdentity.fixture())
            let (ownerToken, colleagueToken) = (try await db.agentToken(owner), try await db.agentToken(colleague))
            let ticket = try await db.inProgress(agent: owner)
            let port = try #require(http.port)
            let stream = try await EventStreamClient.open(
                "http://127.0.0.1:\(port)/v1/notifications/stream", headers: [("Authorization", "Bearer \(colleagueToken)")])
            #expect(stream.status == .ok && stream.headers.first(name: "content-type") == "text/event-stream")
            let ownersStream = try await EventStreamClient.open(
                "http://127.0.0.1:\(port)/v1/notifications/stream", headers: [("Authorization", "Bearer \(ownerToken)")])

            let moved = try await http.send(
                .post, "/v1/tickets/\(ticket.id)/reassign", token: TestCredentials.adminToken, json: ReassignRequest(agentId: colleague.id))
            #expect(moved.status == .ok)

            #expect(try await stream.wait { $0.contains { $0.event == "notification" } })
            let event = try #require(stream.received.first { $0.event == "notification" })
            let pushed = try JSONCoding.decoder.decode(AgentNotification.self, from: Data(event.data.utf8))
            #expect(pushed.kind == .assigned && pushed.ticketId == ticket.id && event.id == "\(pushed.seq)")
            #expect(pushed.text.contains(ticket.reference))
            // The owner's stream carries nothing of the colleague's.
            #expect(!ownersStream.received.contains { $0.event == "notification" })
            try await stream.close()
            try await ownersStream.close()

            let page = try await list(http, colleagueToken)
            #expect(page.items == [pushed] && page.unread == 1)
            #expect(try await list(http, ownerToken).items.isEmpty)
            #expect(try await mails(db) == ["agent.notification \(Self.email(colleague)) tier-queue"])

            // A stream resumed with Last-Event-ID gets what came after it first.
            let resumed = try await EventStreamClient.open(
                "http://127.0.0.1:\(port)/v1/notifications/stream",
                headers: [("Authorization", "Bearer \(colleagueToken)"), ("Last-Event-ID", "\(pushed.seq - 1)")])
            #expect(try await resumed.wait { $0.contains { $0.id == "\(pushed.seq)" } })
            try await resumed.close()
            let bad = try await http.send(.get, "/v1/notifications/stream", token: colleagueToken, headers: [HTTPField.Name("Last-Event-ID")!: "x"])
            #expect(bad.status == .unprocessableContent)
        }
    }

    @Test(.freshDatabase) func aNotificationWrittenOnOneReplicaReachesAStreamOnAnother() async throws {
        try await withTierQueue { writer, db in
            try await withTierQueue { reader, _ in
                let (owner, colleague) = (AgentIdentity.fixture(), AgentIdentity.fixture())
                _ = try await db.agentToken(owner)
                let token = try await db.agentToken(colleague)
                let ticket = try await db.inProgress(agent: owner)
                let stream = try await EventStreamClient.open(
                    "http://127.0.0.1:\(try #require(reader.port))/v1/notifications/stream", headers: [("Authorization", "Bearer \(token)")])
                let moved = try await writer.send(
                    .post, "/v1/tickets/\(ticket.id)/reassign", token: TestCredentials.adminToken, json: ReassignRequest(agentId: colleague.id))
                #expect(moved.status == .ok)
                // No LISTEN: the reading replica's poll (every 100 ms here) finds the row.
                let id = ticket.id.uuidString.lowercased()
                #expect(try await stream.wait(timeout: .seconds(5)) { $0.contains { $0.event == "notification" && $0.data.contains(id) } })
                try await stream.close()
            }
        }
    }

    @Test(.freshDatabase) func ownDoingTellsNobodyAndAClaimWritesNothing() async throws {
        try await withTierQueue { http, db in
            let (owner, colleague) = (AgentIdentity.fixture(), AgentIdentity.fixture())
            let (ownerToken, colleagueToken) = (try await db.agentToken(owner), try await db.agentToken(colleague))
            _ = try await db.queued()
            #expect(try await http.send(.post, "/v1/queues/1/claim", token: ownerToken).status == .ok)
            let waiting = try await db.queued()
            let taken = try await http.send(.post, "/v1/tickets/\(waiting.id)/reassign", token: colleagueToken, json: ReassignRequest(agentId: colleague.id))
            #expect(taken.status == .ok)
            let joined = try await http.send(.post, "/v1/tickets/\(waiting.id)/collaborators", token: ownerToken, json: CollaboratorRequest(agentId: owner.id))
            #expect(joined.status == .ok)
            #expect(try await db.count("notifications") == 0)
            #expect(try await mails(db).isEmpty)
        }
    }

    @Test(.freshDatabase) func aSwarmRequestTellsTheColleague() async throws {
        try await withTierQueue { http, db in
            let (owner, helper) = (AgentIdentity.fixture(), AgentIdentity.fixture(tiers: [.specialist]))
            let (ownerToken, helperToken) = (try await db.agentToken(owner), try await db.agentToken(helper))
            let ticket = try await db.inProgress(agent: owner)
            let asked = try await http.send(.post, "/v1/tickets/\(ticket.id)/collaborators", token: ownerToken, json: CollaboratorRequest(agentId: helper.id))
            #expect(asked.status == .ok)
            // Asked again: already in the swarm, not told twice.
            _ = try await http.send(.post, "/v1/tickets/\(ticket.id)/collaborators", token: ownerToken, json: CollaboratorRequest(agentId: helper.id))
            let page = try await list(http, helperToken)
            #expect(page.items.map(\.kind) == [.swarm] && page.items.first?.ticketId == ticket.id)
        }
    }

    @Test(.freshDatabase) func anAgentReadsAndMarksOnlyItsOwn() async throws {
        try await withTierQueue { http, db in
            let (owner, colleague) = (AgentIdentity.fixture(), AgentIdentity.fixture())
            let (ownerToken, colleagueToken) = (try await db.agentToken(owner), try await db.agentToken(colleague))
            for _ in 0..<3 {
                let ticket = try await db.inProgress(agent: owner)
                #expect(
                    try await http.send(
                        .post, "/v1/tickets/\(ticket.id)/reassign", token: TestCredentials.adminToken, json: ReassignRequest(agentId: colleague.id)
                    ).status == .ok)
            }
            let first = try await list(http, colleagueToken, "?limit=2")
            #expect(first.items.count == 2 && first.unread == 3 && first.items[0].seq > first.items[1].seq)
            let cursor = try #require(first.nextCursor)
            let second = try await list(http, colleagueToken, "?limit=2&cursor=\(cursor)")
            #expect(second.items.count == 1 && second.nextCursor == nil && second.items[0].seq < first.items[1].seq)
            #expect(try await http.send(.get, "/v1/notifications?cursor=nonsense", token: colleagueToken).status == .unprocessableContent)

            let target = first.items[0].id
            let foreign = try await http.send(.post, "/v1/notifications/\(target)/read", token: ownerToken)
            #expect(foreign.status == .notFound)
            #expect(try foreign.problem().status == 404)
            #expect(try await list(http, colleagueToken).unread == 3)
            let marked = try await http.send(.post, "/v1/notifications/\(target)/read", token: colleagueToken)
            #expect(try marked.decode(NotificationsRead.self) == NotificationsRead(marked: 1, unread: 2))
            let again = try await http.send(.post, "/v1/notifications/\(target)/read", token: colleagueToken)
            #expect(try again.decode(NotificationsRead.self) == NotificationsRead(marked: 0, unread: 2))
            #expect(try await http.send(.post, "/v1/notifications/not-an-id/read", token: colleagueToken).status == .notFound)
            let all = try await http.send(.post, "/v1/notifications/read", token: colleagueToken)
            #expect(try all.decode(NotificationsRead.self) == NotificationsRead(marked: 2, unread: 0))
            #expect(try await list(http, colleagueToken).items.allSatisfy { $0.readAt != nil })
        }
    }

    @Test(.freshDatabase) func mailFollowsTheAgentsChoice() async throws {
        try await withTierQueue { http, db in
            let (owner, colleague) = (AgentIdentity.fixture(), AgentIdentity.fixture())
            let colleagueToken = try await db.agentToken(colleague)
            _ = try await db.agentToken(owner)
            let settings = try await http.send(.get, "/v1/notifications/settings", token: colleagueToken)
            #expect(try settings.decode(NotificationSettings.self) == NotificationSettings(mail: .immediate))
            let refused = try await http.send(.put, "/v1/notifications/settings", token: colleagueToken, raw: #"{"mail":"weekly"}"#)
            #expect(refused.status == .badRequest || refused.status == .unprocessableContent)
            let hourly = try await http.send(.put, "/v1/notifications/settings", token: colleagueToken, json: NotificationSettings(mail: .hourly))
            #expect(try hourly.decode(NotificationSettings.self).mail == .hourly)

            func assign() async throws {
                let ticket = try await db.inProgress(agent: owner)
                let moved = try await http.send(
                    .post, "/v1/tickets/\(ticket.id)/reassign", token: TestCredentials.adminToken, json: ReassignRequest(agentId: colleague.id))
                #expect(moved.status == .ok)
            }
            try await assign()
            try await assign()
            #expect(try await mails(db).isEmpty)
            // Not an hour old yet: no digest; an hour later, one digest of both, and nothing after.
            let notifier = Notifier()
            #expect(try await notifier.sendDigests(client: db.client, now: Date(), logger: db.logger) == 0)
            #expect(try await notifier.sendDigests(client: db.client, now: Date().addingTimeInterval(3601), logger: db.logger) == 1)
            #expect(try await notifier.sendDigests(client: db.client, now: Date().addingTimeInterval(7200), logger: db.logger) == 0)
            #expect(try await mails(db) == ["agent.digest \(Self.email(colleague)) tier-queue"])
            let text = try await db.client.first("SELECT mail->>'text' AS text FROM mail_outbox", logger: db.logger) { try $0.get("text", as: String.self) }
            #expect(text?.components(separatedBy: "was assigned to you").count == 3)

            _ = try await http.send(.put, "/v1/notifications/settings", token: colleagueToken, json: NotificationSettings(mail: .off))
            try await assign()
            #expect(try await mails(db).count == 1)
            #expect(try await db.count("notifications") == 3)
        }
    }

    @Test(.freshDatabase) func vendorAndStormHandOffsTellTheirAgents() async throws {
        try await withTierQueue { http, db in
            let (owner, specialist, other) = (AgentIdentity.fixture(tiers: [.backOffice]), AgentIdentity.fixture(tiers: [.specialist]), AgentIdentity.fixture())
            let ownerToken = try await db.agentToken(owner)
            let specialistToken = try await db.agentToken(specialist)
            _ = try await db.agentToken(other)
            let ticket = try await db.inProgress(tier: .backOffice, agent: owner)
            let caseID = UUID()
            let problem = UUID()
            let events = [
                EventEnvelope(
                    type: .vendorUpdated, ticketId: ticket.id, occurredAt: Date(),
                    data: VendorUpdated(caseId: caseID, status: .needsInfo, message: "Which firmware?", eta: nil).data),
                EventEnvelope(
                    type: .problemStorm, ticketId: (try await db.queued()).id, occurredAt: Date(),
                    data: ProblemStorm(problemId: problem, category: "network", requesters: 12, confirmed: false, notify: 3).data),
            ]
            let later = [
                EventEnvelope(
                    type: .vendorOverdue, ticketId: ticket.id, occurredAt: Date(), data: VendorCaseChanged(caseId: caseID, target: "acknowledge").data),
                EventEnvelope(
                    type: .problemStorm, ticketId: (try await db.queued()).id, occurredAt: Date(),
                    data: ProblemStorm(problemId: problem, category: "network", requesters: 13, confirmed: false, notify: 3).data),
            ]
            // The vendor resolves: the ticket is back in the owner's hands (vendor-bridge gave it back) for verification.
            let back = [
                EventEnvelope(
                    type: .vendorUpdated, ticketId: ticket.id, occurredAt: Date(),
                    data: VendorUpdated(caseId: caseID, status: .resolved, message: "Firmware 2.1 fixes it", eta: nil).data)
            ]
            for batch in [events, later, back] {
                let sent = try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: EventBatch(events: batch))
                #expect(sent.status == .ok)
                #expect(try sent.decode(EventBatchResult.self).results.allSatisfy { $0.status == .applied })
            }
            let mine = try await list(http, ownerToken)
            #expect(mine.items.map(\.kind) == [.vendorReturned, .vendorOverdue, .vendorAnswered])
            #expect(mine.items.last?.text.contains("Which firmware?") == true && mine.items.first?.text.contains("verify") == true)
            let storm = try await list(http, specialistToken)
            #expect(storm.items.map(\.kind) == [.storm] && storm.items[0].text.contains("network"))
            #expect(try await db.count("notifications") == 4)
        }
    }
}

/// The stream poll's bookkeeping: rows that commit out of order are delivered once, a gap is waited for.
@Suite struct StreamCursorTests {
    @Test func rowsAreDeliveredOnceAndTheFloorMovesOverWhatIsContiguous() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var cursor = StreamCursor(floor: 10)
        #expect(cursor.take([11, 13], now: now, patience: 15) == [11, 13])
        #expect(cursor.floor == 11 && cursor.gapSince == now)
        // 12 commits late: delivered, and the floor passes 13.
        #expect(cursor.take([12, 13], now: now.addingTimeInterval(1), patience: 15) == [12])
        #expect(cursor.floor == 13 && cursor.seen.isEmpty && cursor.gapSince == nil)
        #expect(cursor.take([9, 13], now: now, patience: 15).isEmpty)
    }

    @Test func aGapThatNeverFillsIsGivenUpAfterThePatience() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var cursor = StreamCursor(floor: 0)
        #expect(cursor.take([2, 3], now: now, patience: 15) == [2, 3])
        #expect(cursor.take([2, 3], now: now.addingTimeInterval(5), patience: 15).isEmpty)
        #expect(cursor.floor == 0)
        _ = cursor.take([2, 3, 4], now: now.addingTimeInterval(16), patience: 15)
        #expect(cursor.floor == 4 && cursor.gapSince == nil)
    }
}

/// The hub's bounds: streams per agent and in all, and a reader that falls behind.
@Suite struct NotificationHubTests {
    @Test(.freshDatabase) func streamsAreBoundedAndASlowReaderIsEnded() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let hub = NotificationHub(
                client: client, clock: SystemClock(), logger: db.logger, interval: .seconds(1), limits: .init(perAgent: 2, total: 3, buffer: 2))
            let (agent, other) = (AgentIdentity.fixture(), AgentIdentity.fixture())
            let first = try hub.subscribe(agent: agent)
            _ = try hub.subscribe(agent: agent)
            _ = try hub.subscribe(agent: agent)
            // The agent's oldest stream ended for the newest.
            var ended = first.events.makeAsyncIterator()
            #expect(await ended.next() == nil)
            let slow = try hub.subscribe(agent: other)
            #expect(hub.streams == 3)
            #expect(throws: TierQueueError.tooManyStreams) { try hub.subscribe(agent: AgentIdentity.fixture()) }

            // Three notifications for a reader whose buffer holds two: it is ended, not buffered for ever.
            _ = try await db.agentToken(other)
            var cursor = StreamCursor(floor: 0)
            try await client.transaction(logger: db.logger) { connection in
                try await Notifier().tell(
                    (0..<3).map { NotificationDraft(agent: other.id, kind: .storm, ticket: nil, text: "storm \($0)") }, on: connection, now: Date(),
                    logger: db.logger)
            }
            _ = try await hub.deliver(&cursor)
            var events: [StreamEvent] = []
            for await event in slow.events { events.append(event) }
            #expect(events.count == 2 && hub.streams == 2)
        }
    }
}
