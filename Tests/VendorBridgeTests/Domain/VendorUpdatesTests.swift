import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import VendorBridgeApp

@Suite struct VendorUpdatesTests {
    @Test(.freshDatabase) func updatesMoveTheTicketAndAClosedCaseTakesNoMore() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let vendors = VendorStore(secret: TestCredentials.secret)
            let vendor = try await vendors.create(
                CreateVendorRequest(name: "Acme", webhookUrl: "https://acme.example.com", categories: []), on: client, now: Date(), logger: db.logger)
            let other = try await vendors.create(
                CreateVendorRequest(name: "Globex", webhookUrl: "https://globex.example.com", categories: []), on: client, now: Date(), logger: db.logger)
            let ticket = try await db.change(try await db.inProgress(tier: .specialist, agent: .fixture(tiers: [.specialist])).id) {
                $0.status = .pendingVendor
                $0.tier = .vendor
                $0.vendorId = vendor.id
            }
            let cases = VendorCaseStore()
            let caseID = try await client.transaction(logger: db.logger) { connection in
                try await cases.open(ticket: ticket, vendorID: vendor.id, reason: "firmware", on: connection, now: Date(), logger: db.logger)
            }
            let updates = VendorUpdates(cases: cases, tickets: db.store)
            func apply(_ status: VendorCaseStatus, by vendorID: UUID) async throws {
                try await client.transaction(logger: db.logger) { connection in
                    try await updates.apply(
                        VendorUpdateRequest(status: status, message: "m"), to: caseID, by: vendorID, on: connection, now: Date(), logger: db.logger)
                }
            }
            await #expect(throws: VendorBridgeError.caseNotFound) { try await apply(.acknowledged, by: other.id) }
            try await apply(.acknowledged, by: vendor.id)
            try await apply(.resolved, by: vendor.id)
            #expect(try await db.store.find(ticket.id, on: client, logger: db.logger)?.status == .resolved)
            await #expect(throws: VendorBridgeError.caseClosed(status: .resolved)) { try await apply(.inProgress, by: vendor.id) }
        }
    }
}
