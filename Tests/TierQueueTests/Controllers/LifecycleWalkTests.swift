import Foundation
import HummingbirdTesting
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// The state machine holds over HTTP: every status × every agent action × every kind of worker,
/// against the running service. Whatever is accepted is a move the lifecycle allows; whatever is
/// refused changed nothing; escalating or de-escalating a resolved or closed ticket is 409.
@Suite struct LifecycleWalkTests {
    /// An action on a ticket: its path and body.
    struct Action: Sendable {
        var name: String
        var body: @Sendable (UUID) -> (any Encodable & Sendable)?
    }

    static func actions(colleague: UUID) -> [Action] {
        [
            Action(name: "comments") { _ in CommentRequest(message: "Looking at it") },
            Action(name: "pending") { _ in PendingRequest(reason: .awaitingCustomerInfo) },
            Action(name: "resolve") { _ in ResolveRequest(resolution: "Fixed", code: .fixed) },
            Action(name: "escalate") { _ in EscalateRequest(reason: "needs level 3", toTier: 3) },
            Action(name: "de-escalate") { _ in DeescalateRequest(note: "level 1 can do this") },
            Action(name: "reassign") { _ in ReassignRequest(agentId: colleague) },
            Action(name: "close") { _ in CloseRequest() },
            Action(name: "reopen") { _ in ReopenRequest(reason: "still broken") },
        ]
    }

    @Test(.freshDatabase) func everyStatusActionAndWorkerKeepsTheLifecycle() async throws {
        try await WorkCycleTests().withTierQueue { http, db in
            let assignee = AgentIdentity.fixture(tiers: [.backOffice])
            let colleague = AgentIdentity.fixture(tiers: [.backOffice])
            let outsider = AgentIdentity.fixture(tiers: [.firstLine])
            let workers: [(String, String)] = [
                ("assignee", try await db.agentToken(assignee)), ("level colleague", try await db.agentToken(colleague)),
                ("other level", try await db.agentToken(outsider)), ("admin", TestCredentials.adminToken),
            ]
            for status in TicketStatus.allCases {
                for action in Self.actions(colleague: colleague.id) {
                    for (who, token) in workers {
                        let ticket = try await db.inProgress(tier: .backOffice, agent: assignee)
                        // Any status, as the database may hold it (the lifecycle is what is tested).
                        try await db.client.execute("UPDATE tickets SET status = \(status.rawValue) WHERE id = \(ticket.id)", logger: db.logger)
                        let before = try #require(try await db.store.find(ticket.id, on: db.client, logger: db.logger))
                        let response = try await http.send(.post, "/v1/tickets/\(ticket.id)/\(action.name)", token: token, json: action.body(ticket.id))
                        let after = try #require(try await db.store.find(ticket.id, on: db.client, logger: db.logger))
                        let cell = "\(action.name) on \(status.rawValue) by \(who): \(response.status.code)"
                        if (200..<300).contains(response.status.code) {
                            #expect(
                                after.status == before.status || before.status.canTransition(to: after.status),
                                "\(cell) made \(before.status.rawValue) → \(after.status.rawValue)")
                        } else {
                            #expect(after == before, "\(cell) was refused but changed the ticket")
                            #expect([403, 404, 409, 422].contains(Int(response.status.code)), "\(cell): \(String(buffer: response.body).prefix(200))")
                        }
                        if ["escalate", "de-escalate"].contains(action.name), [.resolved, .closed].contains(status), who != "other level" {
                            #expect(response.status == .conflict, "\(cell): a resolved ticket is reopened first")
                        }
                        if action.name == "reopen", status != .resolved, who != "other level" {
                            #expect(response.status == .conflict, "\(cell): only a resolved ticket reopens")
                        }
                    }
                }
            }
        }
    }

    /// A ticket resolved at level 4 reopens at the level that escalated it, never in level 4's queue, which nobody serves.
    @Test(.freshDatabase) func aTicketResolvedAtLevel4ReopensAtTheLevelThatEscalatedIt() async throws {
        try await WorkCycleTests().withTierQueue { http, db in
            let specialist = AgentIdentity.fixture(tiers: [.specialist])
            let token = try await db.agentToken(specialist)
            let ticket = try await db.inProgress(tier: .specialist, agent: specialist)
            try await db.client.transaction(logger: db.logger) { connection in
                try await db.store.record(
                    EventDraft(type: .ticketEscalated, actor: TicketStore.actor(specialist), data: ["fromTier": 3, "toTier": 4, "reason": "vendor bug"]),
                    ticketID: ticket.id, on: connection, now: Date(), logger: db.logger)
            }
            _ = try await db.change(ticket.id) {
                $0.tier = .vendor
                $0.status = .resolved
            }
            let reopened = try await http.send(.post, "/v1/tickets/\(ticket.id)/reopen", token: token, json: ReopenRequest(reason: "The patch broke it again"))
            #expect(reopened.status == .ok, "\(String(buffer: reopened.body))")
            let after = try #require(try await db.store.find(ticket.id, on: db.client, logger: db.logger))
            #expect(after.status == .queued && after.tier == .specialist)
        }
    }
}
