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
                let page = try await fixture.store.queue(tier: .firstLine, limit: 2, after: cursor, on: client, logger: fixture.logger)
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
            #expect(rows == ["triage", "vendor-bridge"])
            // A refused change leaves no hand-off behind.
            _ = try? await fixture.change(ticket.id, handOff: ["triage"]) { $0.status = .closed }
            #expect(try await client.all("SELECT 1 AS one FROM outbox", logger: fixture.logger) { _ in 1 }.count == 2)
        }
    }
}
