import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import VendorBridgeApp

@Suite struct CaseWorkTests {
    /// The vendor's updates move its case; `resolved` gives the ticket back to the agent who
    /// escalated it, at its level, and the case takes no more updates until the company reopens it.
    @Test(.freshDatabase) func aResolutionReturnsTheTicketToItsOwnerForVerification() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let vendors = VendorStore(sealingKey: TestCredentials.sealingKey)
            let contract = VendorContract(acknowledgeWithinMinutes: 30, resolveWithinMinutes: 240, time: .wall)
            let vendor = try await vendors.create(
                CreateVendorRequest(name: "Acme", webhookUrl: "https://acme.example.com", categories: [], contract: contract), on: client, now: Date(),
                logger: db.logger)
            let other = try await vendors.create(
                CreateVendorRequest(name: "Globex", webhookUrl: "https://globex.example.com", categories: []), on: client, now: Date(), logger: db.logger)
            let owner = AgentIdentity.fixture(tiers: [.specialist])
            _ = try await db.agentToken(owner)
            let ticket = try await db.change(try await db.inProgress(tier: .specialist, agent: owner).id) {
                $0.status = .pendingVendor
                $0.tier = .vendor
                $0.vendorId = vendor.id
            }
            let work = CaseWork(cases: VendorCaseStore(), vendors: vendors, tickets: db.store, webhooks: WebhookDeliveryStore())
            let opened = Date()
            let caseID = try #require(
                try await client.transaction(logger: db.logger) { connection in
                    try await work.open(
                        ticket: ticket, vendorID: vendor.id, reason: "firmware", fromTier: .specialist, on: connection, now: opened, logger: db.logger)
                })
            // A second escalation to the same vendor while the case is open opens nothing.
            let again = try await client.transaction(logger: db.logger) { connection in
                try await work.open(ticket: ticket, vendorID: vendor.id, reason: "again", fromTier: .specialist, on: connection, now: opened, logger: db.logger)
            }
            #expect(again == nil)
            let found = try #require(try await VendorCaseStore().find(caseID, vendorID: vendor.id, on: client, logger: db.logger))
            #expect(abs(try #require(found.acknowledgeDueAt).timeIntervalSince(opened) - 1800) < 0.01)
            #expect(abs(try #require(found.dueAt).timeIntervalSince(opened) - 14_400) < 0.01)

            func apply(_ status: VendorCaseStatus, by vendorID: UUID) async throws {
                try await client.transaction(logger: db.logger) { connection in
                    try await work.update(
                        VendorUpdateRequest(status: status, message: "m"), to: caseID, by: vendorID, on: connection, now: Date(), logger: db.logger)
                }
            }
            await #expect(throws: VendorBridgeError.caseNotFound) { try await apply(.acknowledged, by: other.id) }
            try await apply(.acknowledged, by: vendor.id)
            try await apply(.needsInfo, by: vendor.id)
            try await apply(.resolved, by: vendor.id)
            let back = try #require(try await db.store.find(ticket.id, on: client, logger: db.logger))
            #expect(back.status == .inProgress)
            #expect(back.tier == .specialist)
            #expect(back.assigneeId == owner.id)
            await #expect(throws: VendorBridgeError.caseClosed(status: .resolved)) { try await apply(.inProgress, by: vendor.id) }
            let resolved = try #require(try await VendorCaseStore().find(caseID, vendorID: vendor.id, on: client, logger: db.logger))
            #expect(resolved.questions == 1)
            #expect(resolved.acknowledgedAt != nil && resolved.resolvedAt != nil)
            // The webhook outbox has the case's opening.
            #expect(try await db.count("webhook_deliveries") == 1)
        }
    }
}
