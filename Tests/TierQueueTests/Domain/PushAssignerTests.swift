import Foundation
import Logging
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import TierQueueApp

/// Push assignment against PostgreSQL: skills, WIP limits and each strategy's order.
@Suite struct PushAssignerTests {
    func holders(_ db: StoreFixture, _ ids: [UUID]) async throws -> [UUID?] {
        var holders: [UUID?] = []
        for id in ids { holders.append(try await db.store.find(id, on: db.client, logger: db.logger)?.assigneeId) }
        return holders
    }

    @Test func strategiesParse() {
        #expect(PushStrategy.parse("1:least-loaded, 2:round-robin") == [.firstLine: .leastLoaded, .backOffice: .roundRobin])
        #expect(PushStrategy.parse("") == [:])
        #expect(PushStrategy.parse("4:round-robin") == nil && PushStrategy.parse("1:random") == nil && PushStrategy.parse("1") == nil)
    }

    @Test(.freshDatabase) func leastLoadedRespectsSkillsAndWipLimits() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let busy = AgentIdentity.fixture(tiers: [.firstLine], skills: ["network"], wipLimit: 2)
            let idle = AgentIdentity.fixture(tiers: [.firstLine], wipLimit: 2)
            let elsewhere = AgentIdentity.fixture(tiers: [.backOffice], skills: ["network"])
            for agent in [busy, idle, elsewhere] { _ = try await db.agentToken(agent) }
            _ = try await db.inProgress(agent: busy)
            let network = try await db.queued(impact: .high, urgency: .high, skills: ["network"])
            let plain = try await db.queued()
            let more = try await db.queued()
            let overflow = try await db.queued(urgency: .low)
            let assigner = PushAssigner(tickets: db.store)
            let assigned = try await assigner.assign(tier: .firstLine, strategy: .leastLoaded, client: client, now: Date(), logger: db.logger)
            // Only `busy` has the skill; `idle` is least loaded for the rest until both are full (2 each).
            #expect(assigned == 3)
            #expect(try await holders(db, [network.id, plain.id, more.id, overflow.id]) == [busy.id, idle.id, idle.id, nil])
            #expect(try await db.store.find(network.id, on: client, logger: db.logger)?.status == .inProgress)
            // Each agent given a ticket is told, in the pass's transaction.
            let told = try await client.all("SELECT agent_id, ticket_id FROM notifications WHERE kind = 'assigned' ORDER BY seq", logger: db.logger) {
                [try $0.get("agent_id", as: UUID.self), try $0.get("ticket_id", as: UUID.self)]
            }
            #expect(told == [[busy.id, network.id], [idle.id, plain.id], [idle.id, more.id]])
            #expect(try await assigner.assign(tier: .firstLine, strategy: .leastLoaded, client: client, now: Date(), logger: db.logger) == 0)
        }
    }

    @Test(.freshDatabase) func roundRobinTakesTurns() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let agents = (0..<3).map { _ in AgentIdentity.fixture(tiers: [.backOffice]) }
            for agent in agents { _ = try await db.agentToken(agent) }
            var tickets: [Ticket] = []
            for _ in 0..<6 { tickets.append(try await db.queued(tier: .backOffice)) }
            _ = try await PushAssigner(tickets: db.store).assign(tier: .backOffice, strategy: .roundRobin, client: client, now: Date(), logger: db.logger)
            let holders = try await holders(db, tickets.map(\.id)).compactMap { $0 }
            #expect(holders.count == 6 && Set(holders).count == 3)
            #expect(Array(holders[0..<3]) == Array(holders[3..<6]))  // the same turn order, twice
        }
    }
}
