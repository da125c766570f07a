import Configuration
import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// `GET /v1/reports/summary` over a history written with known times, against figures worked out
/// by hand below (not by the report's code).
@Suite struct ReportTests {
    static let t0 = Date(timeIntervalSince1970: 1_767_571_200)  // Monday 2026-01-05T00:00:00Z
    static let hour: TimeInterval = 3600
    static let vendor = UUID(uuidString: "00000000-0000-0000-0000-0000000000aa")!

    /// Writes one ticket's life: each step an event at `t0 + hours`, with the change it makes.
    struct History {
        let db: StoreFixture

        func ticket(
            _ hours: Double, tier: Tier? = nil, status: TicketStatus = .triaged, impact: Impact = .medium, urgency: Urgency = .medium,
            _ steps: [(Double, EventType, String, @Sendable (inout Ticket) -> Void)]
        ) async throws {
            let requester = try await db.requester("r\(UUID().uuidString.prefix(6))@example.com")
            let draft = TicketDraft(
                status: status, tier: tier, impact: impact, urgency: urgency, category: "network", channel: .web, subject: "s", description: "d",
                requesterID: requester)
            try await db.client.transaction(logger: db.logger) { connection in
                _ = try await db.store.insert(
                    draft, event: EventDraft(type: .ticketCreated, actor: "requester:x"), on: connection, now: ReportTests.at(hours), logger: db.logger)
            }
            for (at, type, actor, edit) in steps {
                try await db.client.transaction(logger: db.logger) { connection in
                    var data: JSONValue = [:]
                    if type == .ticketPending { data = ["reason": "awaiting_customer_info"] }
                    _ = try await db.store.update(
                        draft.id, event: EventDraft(type: type, actor: actor, data: data), on: connection, now: ReportTests.at(at), logger: db.logger, edit)
                }
            }
        }
    }

    static func at(_ hours: Double) -> Date { t0.addingTimeInterval(hours * hour) }

    static func queue(_ tier: Tier) -> @Sendable (inout Ticket) -> Void { { $0.requeue(tier: tier, now: $0.createdAt) } }
    static func claim(_ agent: UUID) -> @Sendable (inout Ticket) -> Void {
        {
            $0.status = .inProgress
            $0.assigneeId = agent
        }
    }
    static let resolve: @Sendable (inout Ticket) -> Void = { $0.status = .resolved }
    static let pend: @Sendable (inout Ticket) -> Void = { $0.status = .pendingCustomer }

    @Test(.freshDatabase) func theSummaryMatchesAHistoryWorkedOutByHand() async throws {
        try await WorkCycleTests().withTierQueue { http, db in
            for priority in ["P3", "P5"] {
                let policy = SLAPolicyRequest(firstResponseSeconds: 1800, resolutionSeconds: 4 * 3600, businessHours: false)
                #expect(try await http.send(.put, "/v1/sla/policies/\(priority)", token: TestCredentials.adminToken, json: policy).status == .ok)
            }
            let (a1, a2, b1) = (UUID(), UUID(), UUID())
            let (agentA1, agentA2, agentB1) = (
                "agent:\(a1.uuidString.lowercased())", "agent:\(a2.uuidString.lowercased())", "agent:\(b1.uuidString.lowercased())"
            )
            let history = History(db: db)
            // A: resolved at level 1 by the agent who claimed it, in 1 h. First contact.
            try await history.ticket(
                0,
                [
                    (0, .ticketQueued, "system", Self.queue(.firstLine)), (0.5, .ticketClaimed, agentA1, Self.claim(a1)),
                    (1, .ticketResolved, agentA1, Self.resolve),
                ])
            // B: escalated to level 2, resolved there after 6 h: the 4 h target is breached.
            try await history.ticket(
                1,
                [
                    (1, .ticketQueued, "system", Self.queue(.firstLine)), (1.5, .ticketClaimed, agentA1, Self.claim(a1)),
                    (2, .ticketEscalated, agentA1, Self.queue(.backOffice)), (2.5, .ticketClaimed, agentB1, Self.claim(b1)),
                    (7, .ticketResolved, agentB1, Self.resolve),
                ])
            // C: escalated to level 2 and bounced back within the hour; resolved at level 1 by another agent in 3 h.
            try await history.ticket(
                2,
                [
                    (2, .ticketQueued, "system", Self.queue(.firstLine)), (2.2, .ticketClaimed, agentA1, Self.claim(a1)),
                    (3, .ticketEscalated, agentA1, Self.queue(.backOffice)), (4, .ticketDeescalated, agentB1, Self.queue(.firstLine)),
                    (4.5, .ticketClaimed, agentA2, Self.claim(a2)), (5, .ticketResolved, agentA2, Self.resolve),
                ])
            // D: paused 2 h on the customer; resolved by its first claimer in 3.5 h, 1.5 h of budget used. First contact.
            try await history.ticket(
                3,
                [
                    (3, .ticketQueued, "system", Self.queue(.firstLine)), (3.2, .ticketClaimed, agentA1, Self.claim(a1)),
                    (3.5, .ticketPending, agentA1, Self.pend), (5.5, .ticketCommented, "requester:x", Self.queue(.firstLine)),
                    (6, .ticketClaimed, agentA1, Self.claim(a1)), (6.5, .ticketResolved, agentA1, Self.resolve),
                ])
            // E: solved by the requester from an article: level 0, P5.
            try await history.ticket(8, tier: .selfService, status: .new, impact: .low, urgency: .low, [(8, .ticketResolved, "requester:x", Self.resolve)])
            // F: still waiting at level 2.
            try await history.ticket(9, [(9, .ticketQueued, "system", Self.queue(.backOffice))])
            // G: sent from level 1 to the vendor after 1 h; the vendor fixed it 2 h later.
            try await history.ticket(
                0,
                [
                    (0, .ticketQueued, "system", Self.queue(.firstLine)),
                    (
                        1, .ticketEscalated, agentA1,
                        {
                            $0.status = .pendingVendor
                            $0.tier = .vendor
                            $0.vendorId = Self.vendor
                        }
                    ),
                    (3, .ticketResolved, "vendor:\(Self.vendor.uuidString.lowercased())", Self.resolve),
                ])

            let from = "2026-01-05T00:00:00Z"
            let to = "2026-01-15T00:00:00Z"
            let response = try await http.send(.get, "/v1/reports/summary?from=\(from)&to=\(to)", token: TestCredentials.adminToken)
            let report = try response.decode(ReportSummary.self)
            #expect(report.resolvedByTier == ["0": 1, "1": 3, "2": 1, "3": 0, "4": 1])
            #expect(report.firstContactResolutionRate == 0.4)  // A and D of A, B, C, D, G
            #expect(report.meanTimeToResolveSecondsByTier == ["0": 0, "1": 9000, "2": 21_600, "4": 10_800])  // level 1: (1 h + 3 h + 3.5 h) / 3
            #expect(report.timeToResolveByTier["1"] == ReportSummary.Duration(meanSeconds: 9000, p90Seconds: 12_600, count: 3))
            #expect(report.slaCompliance["P3"] == ReportSummary.Compliance(resolved: 5, withinTarget: 4, rate: 0.8))  // B breached
            #expect(report.slaCompliance["P5"] == ReportSummary.Compliance(resolved: 1, withinTarget: 1, rate: 1))
            #expect(report.backlogByTier["2"]?.open == 1 && report.backlogByTier["1"]?.open == 0)
            // Of the tickets handled in the period (F only waits), B, C and G were escalated.
            #expect(report.escalationRate == 0.6)
            #expect(report.escalationRateByTier == ["1": 0.6, "2": 0])  // level 1 handled A, B, C, D, G; level 2 B and C
            #expect(report.bouncesByPair == ["2>1": 1] && report.bounceRateByTier == ["2": 0.5, "4": 0])
            #expect(report.pausedSecondsByReason == ["awaiting_customer_info": 7200])
            #expect(report.vendorTurnaround == ReportSummary.Duration(meanSeconds: 7200, p90Seconds: 7200, count: 1))
            #expect(report.cost.totalByTier == ["0": 2, "1": 75, "2": 60, "4": 300] && report.cost.total == 437)
            #expect(report.cost.shiftLeftSavingsByTier == ["1": 69, "2": 35, "4": 180])

            let backwards = try await http.send(.get, "/v1/reports/summary?from=\(to)&to=\(from)", token: TestCredentials.adminToken)
            #expect(try backwards.problem().errors?.map(\.field) == ["from"])
            #expect(try await http.send(.get, "/v1/reports/summary?from=yesterday", token: TestCredentials.adminToken).status == .unprocessableContent)
        }
    }
}
