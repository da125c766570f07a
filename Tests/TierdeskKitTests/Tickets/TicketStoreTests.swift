import Foundation
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@Suite struct TicketStoreTests {
    @Test(.freshDatabase) func everyChangeIsVersionedAndRecorded() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let ticket = try await fixture.queued()
            #expect(ticket.status == .queued && ticket.version == 3 && ticket.reference.hasPrefix("TD-"))
            let events = try await fixture.store.events(of: ticket.id, publicOnly: false, on: client, logger: fixture.logger)
            #expect(events.map(\.type) == [.ticketCreated, .ticketTriaged, .ticketQueued])
        }
    }

    @Test(.freshDatabase) func refusedTransitionChangesNothing() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let ticket = try await fixture.queued()
            await #expect(throws: TicketStoreError.invalidTransition(from: .queued, to: .closed)) {
                _ = try await fixture.change(ticket.id) { $0.status = .closed }
            }
            let after = try #require(try await fixture.store.find(ticket.id, on: client, logger: fixture.logger))
            #expect(after.status == .queued && after.version == ticket.version && after.updatedAt.epochMicroseconds == ticket.updatedAt.epochMicroseconds)
            #expect(try await fixture.store.events(of: ticket.id, publicOnly: false, on: client, logger: fixture.logger).count == 3)
        }
    }

    @Test(.freshDatabase) func staleVersionIsAConflict() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let ticket = try await fixture.queued()
            _ = try await fixture.change(ticket.id, expectedVersion: ticket.version) { $0.category = "email" }
            await #expect(throws: TicketStoreError.staleVersion(current: ticket.version + 1)) {
                _ = try await fixture.change(ticket.id, expectedVersion: ticket.version) { $0.category = "printing" }
            }
        }
    }

    @Test(.freshDatabase) func auditTrailIsAppendOnly() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let ticket = try await fixture.queued()
            await #expect(throws: PSQLError.self) {
                try await client.execute("UPDATE ticket_events SET actor = 'mallory' WHERE ticket_id = \(ticket.id)", logger: fixture.logger)
            }
            await #expect(throws: PSQLError.self) {
                try await client.execute("DELETE FROM ticket_events WHERE ticket_id = \(ticket.id)", logger: fixture.logger)
            }
        }
    }

    @Test(.freshDatabase) func claimTakesHighestPriorityFirstAndRespectsSkillsAndWIP() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let low = try await fixture.queued(impact: .low, urgency: .low)
            let urgent = try await fixture.queued(impact: .high, urgency: .high)
            let skilled = try await fixture.queued(impact: .high, urgency: .high, skills: ["network"])
            let plain = AgentIdentity.fixture(wipLimit: 2)
            let first = try await fixture.claim(agent: plain)
            #expect(first?.id == urgent.id && first?.status == .inProgress && first?.assigneeId == plain.id)
            // The P1 that needs "network" is not for this agent; the P5 is next.
            #expect(try await fixture.claim(agent: plain)?.id == low.id)
            // WIP limit of 2 reached: refused as such, not "nothing to claim".
            await #expect(throws: TicketStoreError.wipLimitReached(limit: 2)) { try await fixture.claim(agent: plain) }
            #expect(try await fixture.claim(agent: .fixture(skills: ["network"]))?.id == skilled.id)
            #expect(try await fixture.claim(tier: .backOffice, agent: .fixture(tiers: [.backOffice])) == nil)
        }
    }

    /// A queue page walks the queue's own index in order and stops at the page's end: it reads 51
    /// entries of 1,000 waiting tickets, not all of them through the worklist's index and a sort.
    @Test(.freshDatabase) func aQueuePageReadsThePageNotTheQueue() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let requester = try await fixture.requester()
            let agent = AgentIdentity.fixture(tiers: [.firstLine])
            try await client.execute(
                """
                INSERT INTO tickets (id, status, tier, priority, impact, urgency, channel, subject, description, requester_id, created_at, updated_at,
                                     resolution_due_at, assignee_id)
                SELECT gen_random_uuid(), CASE WHEN n <= 1000 THEN 'queued' WHEN n <= 1100 THEN 'in_progress' ELSE 'closed' END, 1, 1 + n % 5,
                       'medium', 'medium', 'web', 's', 'd', \(requester), now(), now(), now() + n * interval '1 minute',
                       CASE WHEN n > 1000 AND n <= 1100 THEN \(agent.id) END
                FROM generate_series(1, 20000) AS n
                """, logger: fixture.logger)
            try await client.execute("ANALYZE tickets", logger: fixture.logger)
            let counters = """
                SELECT (SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'tickets_queue_idx') AS queue,
                       (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'tickets_holder_idx') AS holder
                """
            func read() async throws -> (queue: Int64, holder: Int64) {
                try #require(try await client.first(PostgresQuery(unsafeSQL: counters), logger: fixture.logger) { (try $0.get("queue"), try $0.get("holder")) })
            }
            let before = try await read()
            try await client.withConnection { connection in
                for _ in 0..<10 {
                    let page = try await fixture.store.queue(tier: .firstLine, limit: 50, after: nil, now: Date(), on: connection, logger: fixture.logger)
                    #expect(page.items.count == 50 && page.nextCursor != nil)
                }
                let mine = try await fixture.store.worklist(of: agent.id, limit: 200, after: nil, on: connection, logger: fixture.logger)
                #expect(mine.items.count == 100)
                try await connection.execute("SELECT pg_stat_force_next_flush()", logger: fixture.logger)
            }
            try await client.execute("SELECT pg_stat_clear_snapshot()", logger: fixture.logger)
            let after = try await read()
            #expect(after.queue - before.queue <= 10 * 51, "each page reads its 51 entries of the queue's index (read \(after.queue - before.queue))")
            #expect(after.holder - before.holder == 1, "only the worklist uses the worklist's index")
        }
    }

    /// The claim is a prepared statement inside `claim_next_ticket`: after a few calls PostgreSQL may
    /// switch to a generic plan. Whatever it picks must walk the partial queue index, never scan the table;
    /// and the claimed ticket's requester is found by its key, not by hashing every requester (the
    /// function is declared to return one row: as a set-returning function it was estimated at 1,000).
    @Test(.freshDatabase) func claimsWalkThePartialQueueIndexNotTheTable() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let requester = try await fixture.requester()
            // 20,000 tickets of history and 300 queued ones, as statistics see them.
            try await client.execute(
                """
                INSERT INTO tickets (id, status, tier, priority, impact, urgency, channel, subject, description, requester_id, created_at, updated_at,
                                     resolution_due_at)
                SELECT gen_random_uuid(), CASE WHEN n <= 300 THEN 'queued' ELSE 'closed' END, 1 + n % 3, 1 + n % 5, 'medium', 'medium', 'web',
                       's', 'd', \(requester), now(), now(), now() + n * interval '1 minute'
                FROM generate_series(1, 20300) AS n
                """, logger: fixture.logger)
            try await client.execute(
                """
                INSERT INTO requesters (id, email, email_normalized, created_at, updated_at)
                SELECT gen_random_uuid(), 'r' || n || '@example.com', 'r' || n || '@example.com', now(), now() FROM generate_series(1, 5000) AS n
                """, logger: fixture.logger)
            try await client.execute("ANALYZE tickets", logger: fixture.logger)
            try await client.execute("ANALYZE requesters", logger: fixture.logger)
            let counters = """
                SELECT (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'tickets_queue_idx') AS idx,
                       (SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'tickets') AS seq,
                       (SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'requesters') AS requesters
                """
            func read() async throws -> (index: Int64, table: Int64, requesters: Int64) {
                try #require(
                    try await client.first(PostgresQuery(unsafeSQL: counters), logger: fixture.logger) {
                        (try $0.get("idx"), try $0.get("seq"), try $0.get("requesters"))
                    })
            }
            let before = try await read()
            let agent = AgentIdentity.fixture(tiers: [.firstLine], wipLimit: 1000)
            try await client.withConnection { connection in
                for _ in 0..<12 {
                    #expect(try await fixture.store.claim(tier: .firstLine, agent: agent, on: connection, now: Date(), logger: fixture.logger) != nil)
                }
                try await connection.execute("SELECT pg_stat_force_next_flush()", logger: fixture.logger)
            }
            try await client.execute("SELECT pg_stat_clear_snapshot()", logger: fixture.logger)
            let after = try await read()
            #expect(after.index - before.index >= 12, "every claim probes tickets_queue_idx")
            #expect(after.table == before.table, "no claim scans the tickets table")
            #expect(after.requesters == before.requesters, "no claim scans the requesters table")
        }
    }

    /// Two claims by one agent at once used to both pass its WIP limit.
    @Test(.freshDatabase) func oneAgentsConcurrentClaimsNeverPassItsWIPLimit() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            for _ in 0..<20 { _ = try await fixture.queued() }
            let agent = AgentIdentity.fixture(wipLimit: 3)
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        do {
                            return try await fixture.claim(agent: agent) == nil ? "empty" : "claimed"
                        } catch TicketStoreError.wipLimitReached {
                            return "full"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "claimed" }.count == 3 && outcomes.filter { $0 == "full" }.count == 9)
            #expect(try await fixture.count("tickets WHERE status = 'in_progress' AND assignee_id = '\(agent.id)'") == 3)
        }
    }

    @Test(.freshDatabase) func corruptPriorityIsAnErrorNotAGuess() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let ticket = try await fixture.queued()
            try await client.execute("ALTER TABLE tickets DROP CONSTRAINT priority_in_range", logger: fixture.logger)
            try await client.execute("UPDATE tickets SET priority = 9 WHERE id = \(ticket.id)", logger: fixture.logger)
            await #expect(throws: CorruptRow.self) { try await fixture.store.find(ticket.id, on: client, logger: fixture.logger) }
        }
    }

    @Test(.freshDatabase) func concurrentClaimersNeverTakeOneTicketTwice() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            var created = Set<UUID>()
            for _ in 0..<40 { created.insert(try await fixture.queued().id) }
            let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let agent = AgentIdentity.fixture()
                        var mine: [UUID] = []
                        while let ticket = try await fixture.claim(agent: agent) { mine.append(ticket.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == created.count)
            #expect(Set(claimed) == created)
        }
    }

    @Test(.freshDatabase) func queuePagesInClaimOrder() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            for urgency in [Urgency.low, .high, .medium, .low, .high] { _ = try await fixture.queued(urgency: urgency) }
            var seen: [TicketSummary] = []
            var cursor: QueueCursor?
            repeat {
                let page = try await fixture.store.queue(tier: .firstLine, limit: 2, after: cursor, now: Date(), on: client, logger: fixture.logger)
                seen += page.items
                cursor = page.nextCursor.flatMap(QueueCursor.init(encoded:))
                #expect(page.items.count <= 2)
            } while cursor != nil
            #expect(seen.count == 5)
            #expect(seen.map(\.priority) == seen.map(\.priority).sorted())
            #expect(Set(seen.map(\.id)).count == 5)
        }
    }

    @Test(.freshDatabase) func handOffIsWrittenWithTheChange() async throws {
        try await TestDatabase.withClient { client in
            let fixture = StoreFixture(client: client)
            let ticket = try await fixture.queued()
            _ = try await fixture.change(ticket.id, handOff: ["triage", "vendor-bridge"]) { $0.category = "email" }
            let rows = try await client.all("SELECT destination FROM outbox WHERE source = 'test' ORDER BY destination", logger: fixture.logger) {
                try $0.get("destination", as: String.self)
            }
            // The fixture's event is a public comment by staff: intake is handed it for the requester's mail.
            #expect(rows == ["intake", "triage", "vendor-bridge"])
            // A refused change leaves no hand-off behind.
            _ = try? await fixture.change(ticket.id, handOff: ["triage"]) { $0.status = .closed }
            #expect(try await client.all("SELECT 1 AS one FROM outbox", logger: fixture.logger) { _ in 1 }.count == 3)
        }
    }
}
