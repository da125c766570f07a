import Foundation
import Logging
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import TierQueueApp

/// The agent work operations straight against PostgreSQL, with time held still.
@Suite struct TicketWorkTests {
    func work(_ db: StoreFixture, vendor: UUID? = nil) -> TicketWork {
        TicketWork(tickets: db.store, client: db.client, vendorBridge: FakeVendorBridge(vendor: vendor))
    }

    @Test(.freshDatabase) func oneActionUsesOneInstant() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let agent = AgentIdentity.fixture(tiers: [.firstLine])
            let ticket = try await db.inProgress(agent: agent)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let escalated = try await work(db).escalate(
                ticket.id, by: .agent(agent), EscalateRequest(reason: "needs level 2"), expectedVersion: ticket.version, now: now, logger: db.logger)
            #expect(escalated.tier == .backOffice && escalated.status == .queued && escalated.updatedAt == now)
            let at = try await client.first("SELECT at FROM ticket_events WHERE ticket_id = \(ticket.id) AND type = 'ticket.escalated'", logger: db.logger) {
                try $0.get("at", as: Date.self)
            }
            #expect(at == now)
        }
    }

    @Test(.freshDatabase) func workIsRefusedWithTheReasonItDeserves() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let owner = AgentIdentity.fixture(tiers: [.firstLine])
            let colleague = AgentIdentity.fixture(tiers: [.firstLine])
            let stranger = AgentIdentity.fixture(tiers: [.specialist])
            let ticket = try await db.inProgress(agent: owner)
            let now = Date()
            await #expect(throws: TierQueueError.assigneeOnly) {
                try await work(db).resolve(
                    ticket.id, by: .agent(colleague), ResolveRequest(resolution: "done"), expectedVersion: nil, now: now, logger: db.logger)
            }
            await #expect(throws: TierQueueError.ticketNotFound) {
                try await work(db).comment(ticket.id, by: .agent(stranger), message: "hi", isInternal: false, expectedVersion: nil, now: now, logger: db.logger)
            }
            await #expect(throws: TicketStoreError.staleVersion(current: ticket.version)) {
                try await work(db).comment(
                    ticket.id, by: .agent(colleague), message: "hi", isInternal: true, expectedVersion: ticket.version - 1, now: now, logger: db.logger)
            }
            await #expect(throws: TierQueueError.escalationTarget(current: 1)) {
                try await work(db).escalate(
                    ticket.id, by: .admin(StaffRef(id: TestCredentials.adminID)), EscalateRequest(reason: "r", toTier: 1), expectedVersion: nil, now: now,
                    logger: db.logger)
            }
            await #expect(throws: TierQueueError.noVendor("no vendor covers category 'network'; name a vendorId")) {
                try await work(db).escalate(
                    ticket.id, by: .admin(StaffRef(id: TestCredentials.adminID)), EscalateRequest(reason: "r", toTier: 4), expectedVersion: nil, now: now,
                    logger: db.logger)
            }
            let resolved = try await work(db).resolve(
                ticket.id, by: .agent(owner), ResolveRequest(resolution: "done", article: .init(title: "T", body: "B")), expectedVersion: nil, now: now,
                logger: db.logger)
            #expect(resolved.status == .resolved)
            // The resolution goes to intake too, for the requester's mail (`TicketChange.requesterMailed`).
            #expect(Set(try await db.outbox(source: "test")).isSuperset(of: ["intake kb.published", "intake ticket.resolved"]))
        }
    }
}
