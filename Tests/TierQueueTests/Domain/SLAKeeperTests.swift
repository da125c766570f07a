import Foundation
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import TierQueueApp

/// The SLA clock kept in PostgreSQL: due times, the watcher's warnings and breaches, exactly once.
@Suite struct SLAKeeperTests {
    static let start = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z

    /// A P3 ticket queued at `tier` at `now`, its clock started.
    static func queued(_ db: StoreFixture, tier: Tier = .firstLine, now: Date) async throws -> Ticket {
        let requester = try await db.requester("r\(UUID().uuidString.prefix(6))@example.com")
        let keeper = SLAKeeper(tickets: db.store)
        return try await db.client.transaction(logger: db.logger) { connection in
            let draft = TicketDraft(
                impact: .medium, urgency: .medium, category: "network", channel: .web, subject: "s", description: "d", requesterID: requester)
            _ = try await db.store.insert(draft, event: EventDraft(type: .ticketCreated, actor: "test"), on: connection, now: now, logger: db.logger)
            _ = try await db.store.update(
                draft.id, to: .triaged, event: EventDraft(type: .ticketTriaged, actor: "test"), on: connection, now: now, logger: db.logger)
            _ = try await db.store.update(
                draft.id, to: .queued, event: EventDraft(type: .ticketQueued, actor: "test"), on: connection, now: now, logger: db.logger
            ) {
                $0.requeue(tier: tier, now: now)
            }
            try await keeper.refresh([draft.id], on: connection, now: now, logger: db.logger)
            return try #require(try await db.store.find(draft.id, on: connection, logger: db.logger))
        }
    }

    /// P3: 10 minutes to respond, an hour to resolve, around the clock.
    static func tightPolicy(_ db: StoreFixture) async throws {
        try await SLAStore().put(
            SLAPolicy(priority: .p3, firstResponseSeconds: 600, resolutionSeconds: 3600, businessHours: false), on: db.client, now: start, logger: db.logger)
    }

    func events(_ db: StoreFixture, _ id: UUID, _ type: EventType) async throws -> [JSONValue] {
        try await db.client.all(
            "SELECT data::text AS data FROM ticket_events WHERE ticket_id = \(id) AND type = \(type.rawValue) ORDER BY seq", logger: db.logger
        ) {
            try JSONCoding.decoder.decode(JSONValue.self, from: Data(try $0.get("data", as: String.self).utf8))
        }
    }

    @Test(.freshDatabase) func dueTimesFollowThePolicyAndTheWatcherWarnsThenBreachesOnce() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await Self.tightPolicy(db)
            let ticket = try await Self.queued(db, now: Self.start)
            #expect(ticket.firstResponseDueAt == Self.start.addingTimeInterval(600) && ticket.resolutionDueAt == Self.start.addingTimeInterval(3600))
            let keeper = SLAKeeper(tickets: db.store)
            #expect(try await keeper.tick(client: client, now: Self.start.addingTimeInterval(300), logger: db.logger) == 0)
            // 10 minutes: the first response is late; 45 minutes: the warning; an hour: the breach and the escalation.
            _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(601), logger: db.logger)
            #expect(try await events(db, ticket.id, .slaBreached).map { $0["target"]?.stringValue } == ["firstResponse"])
            let escalatedOnce = try #require(try await db.store.find(ticket.id, on: client, logger: db.logger))
            #expect(escalatedOnce.tier == .backOffice && escalatedOnce.status == .queued)
            _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(2701), logger: db.logger)
            #expect(try await events(db, ticket.id, .slaWarning).count == 1)
            _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(3601), logger: db.logger)
            _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(3700), logger: db.logger)
            let breaches = try await events(db, ticket.id, .slaBreached)
            #expect(breaches.map { $0["target"]?.stringValue } == ["firstResponse", "resolution"])
            #expect(breaches[1]["largestConsumer"]?.stringValue == "level:2")
            let final = try #require(try await db.store.find(ticket.id, on: client, logger: db.logger))
            #expect(final.tier == .specialist)
            #expect(try await events(db, ticket.id, .ticketEscalated).map { $0["toTier"]?.intValue } == [2, 3])
        }
    }

    @Test(.freshDatabase) func theAssigneeIsToldOfTheWarningAndTheBreachOnce() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await Self.tightPolicy(db)
            let agent = AgentIdentity.fixture()
            _ = try await db.agentToken(agent)
            let queued = try await Self.queued(db, now: Self.start)
            _ = try await db.change(queued.id) { ticket in
                ticket.status = .inProgress
                ticket.assigneeId = agent.id
            }
            let keeper = SLAKeeper(tickets: db.store)
            for seconds in [2701.0, 2702, 3601, 3700] {
                _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(seconds), logger: db.logger)
            }
            let told = try await db.client.all("SELECT kind, text FROM notifications WHERE agent_id = \(agent.id) ORDER BY seq", logger: db.logger) {
                (try $0.get("kind", as: String.self), try $0.get("text", as: String.self))
            }
            #expect(told.filter { $0.0 == "sla.warning" }.count == 1)
            // The first response is late at the same pass: breached, and the ticket goes up a level, no longer the agent's.
            #expect(told.map(\.0) == ["sla.warning", "sla.breached"] && told[1].1.contains("first-response target"))
            #expect(told.allSatisfy { $0.1.contains(queued.reference) })
        }
    }

    @Test(.freshDatabase) func twoReplicasBreachAndEscalateExactlyOnce() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await SLAStore().put(
                SLAPolicy(priority: .p3, firstResponseSeconds: 3000, resolutionSeconds: 3600, businessHours: false), on: client, now: Self.start,
                logger: db.logger)
            var tickets: [Ticket] = []
            for _ in 0..<30 { tickets.append(try await Self.queued(db, now: Self.start)) }
            // Two replicas' watchers, each with its own connection, racing over the same due clocks.
            try await TestDatabase.withClient { other in
                let late = Self.start.addingTimeInterval(3601)
                async let one = SLAKeeper(tickets: db.store).tick(client: client, now: late, limit: 7, logger: db.logger)
                async let two = SLAKeeper(tickets: TicketStore(source: "test-2")).tick(client: other, now: late, limit: 7, logger: db.logger)
                _ = try await (one, two)
                for _ in 0..<10 {
                    async let three = SLAKeeper(tickets: db.store).tick(client: client, now: late, limit: 7, logger: db.logger)
                    async let four = SLAKeeper(tickets: TicketStore(source: "test-2")).tick(client: other, now: late, limit: 7, logger: db.logger)
                    _ = try await (three, four)
                }
            }
            for ticket in tickets {
                let breaches = try await events(db, ticket.id, .slaBreached).filter { $0["target"]?.stringValue == "resolution" }
                #expect(breaches.count == 1)
                #expect(try await events(db, ticket.id, .ticketEscalated).count == 1)
                #expect(try await db.store.find(ticket.id, on: client, logger: db.logger)?.tier == .backOffice)
            }
        }
    }

    /// Time with the vendor runs on the vendor's own contract clock, not the company's budget: the
    /// clock pauses at level 4 and resumes when the vendor gives the ticket back, and a breach later
    /// is charged to the level that used most of the budget.
    @Test(.freshDatabase) func theVendorsTimeIsNotTheCompanysAndABreachNamesTheLevel() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await Self.tightPolicy(db)
            let vendor = UUID()
            let work = TicketWork(tickets: db.store, client: client, vendorBridge: FakeVendorBridge(vendor: vendor))
            let one = AgentIdentity.fixture(tiers: [.firstLine])
            let two = AgentIdentity.fixture(tiers: [.backOffice])
            let ticket = try await Self.queued(db, now: Self.start)
            // 10 minutes at level 1, 15 at level 2, then the vendor holds it past the hour.
            _ = try await work.escalate(
                ticket.id, by: .agent(one), EscalateRequest(reason: "r"), expectedVersion: nil, now: Self.start.addingTimeInterval(600), logger: db.logger)
            _ = try await work.escalate(
                ticket.id, by: .agent(two), EscalateRequest(reason: "firmware", toTier: 4), expectedVersion: nil, now: Self.start.addingTimeInterval(1500),
                logger: db.logger)
            let keeper = SLAKeeper(tickets: db.store)
            _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(3700), logger: db.logger)
            #expect(try await events(db, ticket.id, .slaBreached).isEmpty)
            // The vendor gives it back at 5000 s (as vendor-bridge records it); the clock resumes with 2100 s left.
            let returned = Self.start.addingTimeInterval(5000)
            try await client.transaction(logger: db.logger) { connection in
                let event = EventDraft(type: .vendorUpdated, actor: "vendor:\(vendor.uuidString.lowercased())", isPublic: false, data: ["status": "resolved"])
                _ = try await db.store.update(ticket.id, to: .inProgress, event: event, on: connection, now: returned, logger: db.logger) { ticket in
                    ticket.tier = .backOffice
                    ticket.assigneeId = two.id
                }
                _ = try await keeper.refresh([ticket.id], on: connection, now: returned, logger: db.logger)
            }
            _ = try await keeper.tick(client: client, now: Self.start.addingTimeInterval(7200), logger: db.logger)
            let breach = try #require(try await events(db, ticket.id, .slaBreached).first { $0["target"]?.stringValue == "resolution" })
            #expect(breach["largestConsumer"]?.stringValue == "level:2")
            #expect(breach["breachedAt"]?.stringValue == Self.start.addingTimeInterval(7100).formatted(.iso8601))
            let consumed = breach["consumedBusinessSeconds"]
            #expect(consumed?["level:1"] == 600 && consumed?["vendor:\(vendor.uuidString.lowercased())"] == 3500)
        }
    }

    /// An agent's change locks the ticket, then its clock; the watcher must not take the clock and
    /// then wait for the ticket (a deadlock): it skips the ticket and finds it on a later pass.
    @Test(.freshDatabase) func theWatcherSkipsATicketAnAgentIsChanging() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await Self.tightPolicy(db)
            let ticket = try await Self.queued(db, now: Self.start)
            let keeper = SLAKeeper(tickets: db.store)
            let late = Self.start.addingTimeInterval(3601)
            try await client.transaction(logger: db.logger) { connection in
                _ = try await db.store.lock([ticket.id], on: connection, logger: db.logger)
                try await TestDatabase.withClient { other in
                    let looked = try await keeper.tick(client: other, now: late, logger: db.logger)
                    #expect(looked == 0)
                }
                try await keeper.refresh([ticket.id], on: connection, now: late, logger: db.logger)
            }
            #expect(try await keeper.tick(client: client, now: late, logger: db.logger) == 1)
            #expect(try await events(db, ticket.id, .slaBreached).count == 2)
        }
    }
}
