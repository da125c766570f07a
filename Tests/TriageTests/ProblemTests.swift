import Foundation
import HummingbirdTesting
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport
import TriageApp

/// Problems against a real PostgreSQL and the running service: recurring incidents and storms open
/// and join problems, a storm flags its tickets until level 2 or 3 confirms it, a known error's
/// workaround reaches level 1, and level 3 works and resolves problems.
@Suite struct ProblemTests {
    static let admin = TestCredentials.adminToken
    /// Recurring stays at its default of 3; storms are out of the way unless a test wants one.
    static let environment = ["TIERDESK_STORM_COUNT": "50"]
    /// A storm at 4 tickets keeps the storm test short.
    static let stormAtFour = ["TIERDESK_STORM_COUNT": "4"]

    static func problems(_ http: any TestClientProtocol, _ query: String = "") async throws -> [ProblemRecord] {
        try await http.send(.get, "/v1/problems\(query)", token: admin).decode(Page<ProblemRecord>.self).items
    }

    static func events(_ db: StoreFixture, _ id: UUID) async throws -> [TicketEvent] {
        try await db.store.events(of: id, publicOnly: false, on: db.client, logger: db.logger)
    }

    @Test(.freshDatabase) func recurringIncidentsOpenAProblemAndLaterOnesJoinIt() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await withLiveApp(environment: Self.environment, TriageApp.buildApplication) { http in
                let dana = try await db.requester("dana@nordlicht.example")
                var tickets: [EventEnvelope] = []
                for round in 0..<2 {
                    tickets.append(try await RuleTests.submit(db, "Printer \(round) jams", category: "printing", requester: round == 0 ? dana : nil))
                    _ = try await RuleTests.deliver(http, [tickets.last!])
                }
                #expect(try await Self.problems(http).isEmpty, "two tickets are not yet a pattern")
                // The same requester again: the second and third come in one batch.
                var again: [EventEnvelope] = []
                for subject in ["Printer jams again", "Printer still jams"] {
                    again.append(try await RuleTests.submit(db, subject, category: "printing", impact: .low, urgency: .low, requester: dana))
                }
                #expect(try await RuleTests.deliver(http, again).map(\.status) == [.applied, .applied])
                let opened = try #require(try await Self.problems(http).first)
                #expect(opened.status == .open && opened.category == "printing" && !opened.storm)
                #expect(Set(opened.incidentIds) == [tickets[0].id, again[0].id, again[1].id], "the requester's three tickets, not the other one")
                for id in [tickets[0].id, again[0].id, again[1].id] {
                    #expect(try await Self.events(db, id).contains { $0.type == .problemLinked }, "each linked ticket's trail says so")
                }
                let explained = try #require(try await Self.events(db, again[1].id).first { $0.type == .ticketTriaged })
                #expect(explained.data["internal"]?["explanation"]?["problem"]?.stringValue?.hasPrefix("recurring") == true)

                let fourth = try await RuleTests.submit(db, "Printer jams, fourth time", category: "printing", requester: dana)
                _ = try await RuleTests.deliver(http, [fourth])
                let joined = try await Self.problems(http)
                #expect(joined.count == 1 && joined[0].incidentIds.contains(fourth.id), "the open problem is joined, not a second one")
                let detail = try await http.send(.get, "/v1/problems/\(opened.id)", token: Self.admin).decode(ProblemDetail.self)
                #expect(detail.incidents.count == 4 && detail.incidents.allSatisfy { $0.category == "printing" })
            }
        }
    }

    @Test(.freshDatabase) func aStormFlagsItsTicketsTellsLevel3AndMovesNothingUntilLevel2Or3Confirms() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let hotline = try await db.agentToken(.fixture(tiers: [.firstLine]))
            let backOffice = try await db.agentToken(.fixture(tiers: [.backOffice]))
            try await withLiveApp(environment: Self.stormAtFour, TriageApp.buildApplication) { http in
                var earlier: [EventEnvelope] = []
                for index in 0..<3 {
                    let ticket = try await RuleTests.submit(db, "Cannot reach the intranet \(index)", category: "network", impact: .low, urgency: .low)
                    _ = try await RuleTests.deliver(http, [ticket])
                    earlier.append(ticket)
                }
                // tier-queue queued the first at level 1.
                _ = try await db.change(earlier[0].id) { $0.requeue(tier: .firstLine, now: Date()) }
                #expect(try await Self.problems(http).isEmpty)
                let fourth = try await RuleTests.submit(db, "Network gone", category: "network", impact: .low, urgency: .low)
                _ = try await RuleTests.deliver(http, [fourth])

                let storm = try #require(try await Self.problems(http, "?status=open&category=network").first)
                #expect(storm.storm && storm.stormConfirmedAt == nil && Set(storm.incidentIds) == Set(earlier.map(\.id) + [fourth.id]))
                #expect(!storm.title.contains("@"), "a problem's title names no requester")
                let flagged = try #require(try await db.store.find(fourth.id, on: client, logger: db.logger))
                #expect(flagged.priority == .p5 && flagged.tier == .firstLine, "a storm alone moves and raises nothing")
                let waiting = try #require(try await db.store.find(earlier[0].id, on: client, logger: db.logger))
                #expect(waiting.status == .queued && waiting.tier == .firstLine && waiting.priority == .p5, "the stored ticket stays where it was")
                for id in earlier.map(\.id) + [fourth.id] {
                    let told = try await Self.events(db, id).first { $0.type == .problemStorm }
                    #expect(
                        told?.data["notify"]?.intValue == 3 && told?.data["problemId"]?.stringValue == storm.id.uuidString.lowercased(), "flagged, level 3 told"
                    )
                }
                // Level 1 may not confirm; level 2 does, and the mass change happens then.
                #expect(try await http.send(.post, "/v1/problems/\(storm.id)/storm/confirm", token: hotline).status == .forbidden)
                #expect(try await db.store.find(earlier[0].id, on: client, logger: db.logger)?.tier == .firstLine, "a refusal changes nothing")
                let confirmed = try await http.send(.post, "/v1/problems/\(storm.id)/storm/confirm", token: backOffice).decode(ProblemRecord.self)
                #expect(confirmed.stormConfirmedAt != nil)
                let requeued = try #require(try await db.store.find(earlier[0].id, on: client, logger: db.logger))
                #expect(requeued.status == .queued && requeued.tier == .backOffice && requeued.priority == .p1, "the queued one moves to level 2")
                #expect(try await db.store.find(fourth.id, on: client, logger: db.logger)?.priority == .p1)
                #expect(try await http.send(.post, "/v1/problems/\(storm.id)/storm/confirm", token: backOffice).status == .conflict, "confirmed once")
                // Confirming grants no read access: the trail names the system, not the agent.
                #expect(try await Self.events(db, earlier[0].id).allSatisfy { !$0.actor.hasPrefix("agent:") })
                // The storm goes on: the next ticket joins the confirmed storm and is raised at triage.
                let fifth = try await RuleTests.submit(db, "Still no network", category: "network", impact: .low, urgency: .low)
                _ = try await RuleTests.deliver(http, [fifth])
                let joined = try await Self.problems(http, "?category=network")
                #expect(joined.count == 1 && joined[0].id == storm.id && joined[0].incidentIds.contains(fifth.id))
                let raised = try #require(try await db.store.find(fifth.id, on: client, logger: db.logger))
                #expect(raised.priority == .p1 && raised.tier == .backOffice)
                #expect(try await db.outbox(source: "triage").contains("tier-queue:2 ticket.triaged"))
            }
        }
    }

    /// The attack: a dozen anonymous tickets in one self-chosen category started a storm that moved
    /// somebody else's level 1 ticket to level 2 at P1. Now self-chosen categories are not counted,
    /// and one requester is one requester however many tickets it files.
    @Test(.freshDatabase) func onlyVouchedCategoriesFromDistinctRequestersMakeAStorm() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await withLiveApp(environment: Self.stormAtFour, TriageApp.buildApplication) { http in
                let victim = try await RuleTests.submit(db, "My VPN drops", category: "network", impact: .low, urgency: .low)
                _ = try await RuleTests.deliver(http, [victim])
                _ = try await db.change(victim.id) { $0.requeue(tier: .firstLine, now: Date()) }
                // Twelve anonymous tickets in the category they chose: statements, not counted.
                var anonymous: [EventEnvelope] = []
                for index in 0..<12 {
                    anonymous.append(try await RuleTests.submit(db, "Everything is down \(index)", category: "network", by: .requester))
                }
                _ = try await RuleTests.deliver(http, anonymous)
                #expect(try await Self.problems(http).isEmpty, "self-chosen categories start no storm")
                // One integration's twelve tickets for one requester: one requester, no storm.
                let one = try await db.requester("flood@nordlicht.example")
                var flood: [EventEnvelope] = []
                for index in 0..<12 {
                    flood.append(try await RuleTests.submit(db, "Alert \(index)", category: "network", requester: one, by: .integration))
                }
                _ = try await RuleTests.deliver(http, flood)
                #expect(try await Self.problems(http).allSatisfy { !$0.storm }, "twelve tickets of one requester are no storm")
                let untouched = try #require(try await db.store.find(victim.id, on: client, logger: db.logger))
                #expect(untouched.tier == .firstLine && untouched.priority == .p5, "nobody else's ticket moved")
            }
        }
    }

    @Test func aBusyCategorysStormThresholdFollowsItsNormalRate() {
        let thresholds = ProblemThresholds(stormCount: 10, stormMinutes: 60, stormFactor: 5)
        #expect(thresholds.stormThreshold(baseline: 0) == 10, "a quiet category: the floor")
        // 16,800 a week is 100 an hour: a storm is five times that.
        #expect(thresholds.stormThreshold(baseline: 16_800) == 500)
    }

    @Test(.freshDatabase) func level3WorksAProblemAndAKnownErrorReachesLevel1() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let specialist = AgentIdentity.fixture(tiers: [.specialist])
            let specialistToken = try await db.agentToken(specialist)
            let hotlineToken = try await db.agentToken(.fixture(tiers: [.firstLine]))
            try await withLiveApp(environment: Self.environment, TriageApp.buildApplication) { http in
                let erik = try await db.requester("erik@nordlicht.example")
                var incidents: [EventEnvelope] = []
                for index in 0..<3 {
                    incidents.append(try await RuleTests.submit(db, "Outlook search broken \(index)", category: "email", requester: erik))
                }
                _ = try await RuleTests.deliver(http, incidents)
                let problem = try #require(try await Self.problems(http).first)
                // One incident is being worked, one waits on the customer.
                _ = try await db.change(incidents[0].id) { $0.requeue(tier: .firstLine, now: Date()) }
                _ = try await db.change(incidents[0].id) { ticket in
                    ticket.status = .inProgress
                    ticket.assigneeId = specialist.id
                }
                _ = try await db.change(incidents[1].id) { $0.requeue(tier: .firstLine, now: Date()) }

                let known = UpdateProblemRequest(
                    title: "Outlook search index corrupt", rootCause: "Windows Search index", workaround: "Rebuild the index: Options, Search, Rebuild",
                    knownError: true)
                #expect(try await http.send(.patch, "/v1/problems/\(problem.id)", token: hotlineToken, json: known).status == .forbidden)
                #expect(try await http.send(.patch, "/v1/problems/\(problem.id)", token: specialistToken, raw: "{}").status == .unprocessableContent)
                let updated = try await http.send(.patch, "/v1/problems/\(problem.id)", token: specialistToken, json: known).decode(ProblemRecord.self)
                #expect(updated.knownError && updated.workaround == known.workaround && updated.version == problem.version + 1)
                #expect(try await http.send(.get, "/v1/problems", token: hotlineToken).status == .ok, "every agent reads problems")

                // A new ticket about the same thing gets the workaround; one about something else does not.
                let same = try await RuleTests.submit(db, "Search in Outlook finds nothing", "the search index seems corrupt", category: "email")
                let other = try await RuleTests.submit(db, "Mailbox full", "quota warning", category: "email")
                _ = try await RuleTests.deliver(http, [same, other])
                let linked = try #require(try await Self.events(db, same.id).first { $0.type == .problemLinked })
                #expect(linked.data["workaround"]?.stringValue == known.workaround && linked.data["knownError"] == .bool(true))
                #expect(try await Self.events(db, other.id).allSatisfy { $0.type != .problemLinked })

                // Resolving: a resolution is needed, a stale version is refused, then the open incidents go back to their queues.
                let noResolution = try await http.send(
                    .patch, "/v1/problems/\(problem.id)", token: specialistToken, json: UpdateProblemRequest(status: .resolved))
                #expect(noResolution.status == .unprocessableContent)
                let stale = try await http.send(
                    .patch, "/v1/problems/\(problem.id)", token: specialistToken,
                    json: UpdateProblemRequest(status: .resolved, resolution: "x", version: problem.version))
                #expect(stale.status == .conflict)
                let resolved = try await http.send(
                    .patch, "/v1/problems/\(problem.id)", token: Self.admin,
                    json: UpdateProblemRequest(status: .resolved, resolution: "KB5034 fixes the index"))
                #expect(try resolved.decode(ProblemRecord.self).status == .resolved)
                let back = try #require(try await db.store.find(incidents[0].id, on: client, logger: db.logger))
                #expect(back.status == .queued && back.assigneeId == nil, "the one in progress is back in its queue")
                let comment = try await Self.events(db, incidents[0].id).last
                #expect(comment?.type == .ticketCommented && comment?.data["message"]?.stringValue?.contains("KB5034") == true)
                #expect(try await Self.problems(http, "?status=resolved").map(\.id) == [problem.id])
                #expect(try await Self.problems(http, "?status=open").isEmpty)
                #expect(try await http.send(.get, "/v1/problems?status=closed", token: Self.admin).status == .unprocessableContent)
                #expect(try await http.send(.get, "/v1/problems/\(UUID())", token: Self.admin).status == .notFound)
            }
        }
    }
}
