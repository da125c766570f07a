import Foundation
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// The ticket read rule: one SQL condition, which the check of a single ticket and the lists
/// (`summaries`, `history`) all run, so they cannot disagree.
@Suite struct ReadRuleTests {
    @Test(.freshDatabase) func anAgentReadsItsLevelsAssignedWorkedAndHelpedTicketsOnly() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let agent = AgentIdentity(id: UUID(), tiers: [.backOffice], skills: [], wipLimit: 5)
            try await client.execute(
                """
                INSERT INTO agents (id, name, email, tiers, created_at)
                VALUES (\(agent.id), 'Ada', 'ada@example.com', '{2}'::smallint[], now())
                """, logger: db.logger)
            let atLevel = try await db.queued(tier: .backOffice)
            let elsewhere = try await db.queued(tier: .specialist)
            let assigned = try await db.change(try await db.queued(tier: .specialist).id) { $0.assigneeId = agent.id }
            let worked = try await db.queued(tier: .specialist)
            try await client.transaction(logger: db.logger) { connection in
                try await db.store.record(
                    EventDraft(type: .ticketCommented, actor: TicketStore.actor(agent)), ticketID: worked.id, on: connection, now: Date(), logger: db.logger)
            }
            let helped = try await db.queued(tier: .specialist)
            try await client.execute(
                "INSERT INTO ticket_collaborators (ticket_id, agent_id, added_at) VALUES (\(helped.id), \(agent.id), now())", logger: db.logger)

            let expected = [atLevel.id: true, elsewhere.id: false, assigned.id: true, worked.id: true, helped.id: true]
            for ticket in [atLevel, elsewhere, assigned, worked, helped] {
                #expect(try await db.store.agentMayRead(ticket, agent: agent, on: client, logger: db.logger) == expected[ticket.id])
            }
            let listed = try await db.store.summaries(of: Array(expected.keys), readableBy: agent, on: client, logger: db.logger)
            #expect(Set(listed.map(\.id)) == Set(expected.filter(\.value).keys))
        }
    }
}
