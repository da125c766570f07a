import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// The agents' work cycle over HTTP against PostgreSQL: hand-off contracts, bounces, reassignment,
/// swarming, the SLA clock in the agent view, settings and the summary report.
@Suite struct WorkCycleTests {
    func withTierQueue(
        clock: ManualClock = ManualClock(Date()), problem: ProblemRecord? = nil,
        _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp({ (reader: ConfigReader) in
                let configuration = try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: TierQueue.defaultPort)
                let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
                let deps = TierQueueDependencies(
                    runtime: runtime, configuration: TierQueueConfiguration(tiers: [.firstLine, .backOffice, .specialist]),
                    vendorBridge: FakeVendorBridge(vendor: nil), intake: FakeIntake(), triage: FakeTriage(problem: problem))
                return runtime.makeApplication(router: buildRouter(deps))
            }) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    func admin(_ http: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: (any Encodable & Sendable)? = nil) async throws
        -> TestResponse
    {
        try await http.send(method, path, token: TestCredentials.adminToken, json: body)
    }

    @Test(.freshDatabase) func escalationsCarryTheContractAndBouncesComeBackDown() async throws {
        try await withTierQueue { http, db in
            let one = AgentIdentity.fixture(tiers: [.firstLine])
            let two = AgentIdentity.fixture(tiers: [.backOffice])
            let (tokenOne, tokenTwo) = (try await db.agentToken(one), try await db.agentToken(two))
            let contract = EscalationContractRequest(fields: [
                .init(name: "stepsTried", label: "Steps tried"), .init(name: "affectedUsers", label: "Affected users"),
            ])
            #expect(try await http.send(.put, "/v1/escalation-contracts/2", token: tokenOne, json: contract).status == .forbidden)
            #expect(try await admin(http, .put, "/v1/escalation-contracts/2", contract).status == .ok)
            #expect(try await admin(http, .put, "/v1/escalation-contracts/1", contract).status == .unprocessableContent)
            let bad = try await admin(http, .put, "/v1/escalation-contracts/3", EscalationContractRequest(fields: [.init(name: "1x", label: "")]))
            #expect(try bad.status == .unprocessableContent && Set(bad.problem().errors?.map(\.field) ?? []) == ["fields[0].name", "fields[0].label"])
            let listed = try await http.send(.get, "/v1/escalation-contracts", token: tokenOne).decode(Page<EscalationContract>.self)
            #expect(listed.items.map(\.tier) == [.backOffice])

            let ticket = try await db.inProgress(agent: one)
            let path = "/v1/tickets/\(ticket.id)"
            let refused = try await http.send(
                .post, path + "/escalate", token: tokenOne, json: EscalateRequest(reason: "needs level 2", handOff: ["stepsTried": "rebooted"]))
            #expect(try refused.status == .unprocessableContent && refused.problem().errors?.map(\.field) == ["handOff.affectedUsers"])
            #expect(try await db.store.find(ticket.id, on: db.client, logger: db.logger)?.tier == .firstLine)  // nothing changed
            // A stale version is refused too.
            let stale = try await http.send(
                .post, path + "/escalate", token: tokenOne, json: EscalateRequest(reason: "r", handOff: ["stepsTried": "a", "affectedUsers": "b"]),
                headers: [.ifMatch: "\(ticket.version - 1)"])
            #expect(try stale.status == .conflict && stale.problem().type.hasSuffix("stale-version"))
            let escalated = try await http.send(
                .post, path + "/escalate", token: tokenOne,
                json: EscalateRequest(reason: "needs level 2", handOff: ["stepsTried": "Rebooted, reset the profile", "affectedUsers": "the whole floor"]),
                headers: [.ifMatch: "\(ticket.version)"])
            #expect(try escalated.decode(Ticket.self).tier == .backOffice)
            // Level 2 sees the hand-off first, labelled by its contract.
            let view = try await http.send(.get, path, token: tokenTwo).decode(TicketDetail.self)
            #expect(view.work?.handOff?.fields.map(\.label) == ["Steps tried", "Affected users"])
            #expect(view.work?.handOff?.fields.first?.value == "Rebooted, reset the profile" && view.work?.workMode == .escalate)
            #expect(view.work?.sla?.priority == .p3 && view.work?.sla?.resolutionDueAt != nil)
            // Back down with a note: queued at level 1 again, unassigned.
            let bounced = try await http.send(.post, path + "/de-escalate", token: tokenTwo, json: DeescalateRequest(note: "Known issue: reset the cache"))
            let back = try bounced.decode(Ticket.self)
            #expect(back.tier == .firstLine && back.status == .queued && back.assigneeId == nil)
            #expect(try await http.send(.post, path + "/de-escalate", token: tokenOne, json: DeescalateRequest(note: "x")).status == .unprocessableContent)
        }
    }

    @Test(.freshDatabase) func reassignClosePauseAndResolveFollowTheirRules() async throws {
        try await withTierQueue { http, db in
            let owner = AgentIdentity.fixture(tiers: [.firstLine])
            let colleague = AgentIdentity.fixture(tiers: [.firstLine], skills: ["network"], wipLimit: 1)
            let other = AgentIdentity.fixture(tiers: [.backOffice])
            let (ownerToken, colleagueToken) = (try await db.agentToken(owner), try await db.agentToken(colleague))
            _ = try await db.agentToken(other)
            let ticket = try await db.inProgress(agent: owner)
            let path = "/v1/tickets/\(ticket.id)"
            #expect(try await http.send(.post, path + "/reassign", token: ownerToken, json: ReassignRequest(agentId: other.id)).status == .unprocessableContent)
            #expect(try await http.send(.post, path + "/reassign", token: colleagueToken, json: ReassignRequest(agentId: colleague.id)).status == .forbidden)
            let moved = try await http.send(.post, path + "/reassign", token: ownerToken, json: ReassignRequest(agentId: colleague.id, note: "yours"))
            #expect(try moved.decode(Ticket.self).assigneeId == colleague.id)
            // The colleague is now at its WIP limit of 1: a second ticket cannot be pushed to it.
            let second = try await db.inProgress(agent: owner)
            let full = try await http.send(.post, "/v1/tickets/\(second.id)/reassign", token: ownerToken, json: ReassignRequest(agentId: colleague.id))
            #expect(try full.status == .conflict && full.problem().type.hasSuffix("wip-limit-reached"))
            // Typed pauses; an unknown reason or a reason that disagrees with `on` is refused.
            #expect(try await http.send(.post, path + "/pending", token: colleagueToken, raw: #"{"reason":"lunch"}"#).status == .unprocessableContent)
            let disagree = try await http.send(.post, path + "/pending", token: colleagueToken, json: PendingRequest(reason: .awaitingVendor, on: .customer))
            #expect(try disagree.status == .unprocessableContent && disagree.problem().errors?.map(\.field) == ["on"])
            let paused = try await http.send(.post, path + "/pending", token: colleagueToken, json: PendingRequest(reason: .scheduledChange, note: "Friday"))
            #expect(try paused.decode(Ticket.self).status == .pendingCustomer)
            let view = try await http.send(.get, path, token: colleagueToken).decode(TicketDetail.self)
            #expect(view.work?.sla?.paused == true && view.work?.sla?.resolutionDueAt == nil)
            #expect(try await http.send(.post, path + "/close", token: colleagueToken, json: CloseRequest()).status == .conflict)
            let noCode = try await http.send(.post, path + "/resolve", token: colleagueToken, raw: #"{"resolution":"done"}"#)
            #expect(noCode.status == .unprocessableContent)
            let resolved = try await http.send(.post, path + "/resolve", token: colleagueToken, json: ResolveRequest(resolution: "done", code: .workaround))
            #expect(try resolved.decode(Ticket.self).status == .resolved)
            let closed = try await http.send(.post, path + "/close", token: colleagueToken, json: CloseRequest(note: "confirmed"))
            #expect(try closed.decode(Ticket.self).status == .closed)
        }
    }

    @Test(.freshDatabase) func swarmingAddsHelpersInsteadOfEscalating() async throws {
        try await withTierQueue { http, db in
            let owner = AgentIdentity.fixture(tiers: [.firstLine])
            let expert = AgentIdentity.fixture(tiers: [.specialist])
            let (ownerToken, expertToken) = (try await db.agentToken(owner), try await db.agentToken(expert))
            #expect(try await admin(http, .put, "/v1/work-modes/network", WorkModeRequest(mode: .swarm)).status == .ok)
            #expect(try await admin(http, .put, "/v1/work-modes/Not%20A%20Slug", WorkModeRequest(mode: .swarm)).status == .unprocessableContent)
            let ticket = try await db.inProgress(agent: owner)
            let path = "/v1/tickets/\(ticket.id)"
            let refused = try await http.send(.post, path + "/escalate", token: ownerToken, json: EscalateRequest(reason: "help"))
            #expect(try refused.status == .conflict && refused.problem().type.hasSuffix("swarm-mode"))
            #expect(try await http.send(.get, path, token: expertToken).status == .notFound)  // not yet theirs to see
            let added = try await http.send(.post, path + "/collaborators", token: ownerToken, json: CollaboratorRequest(agentId: expert.id))
            #expect(try added.decode(Page<UUID>.self).items == [expert.id])
            let mine = try await http.send(.get, "/v1/agents/me/tickets", token: expertToken).decode(Page<TicketSummary>.self)
            #expect(mine.items.map(\.id) == [ticket.id])
            #expect(
                try await http.send(.post, path + "/comments", token: expertToken, json: CommentRequest(message: "try the cache", internal: true)).status == .ok
            )
            let view = try await http.send(.get, path, token: expertToken).decode(TicketDetail.self)
            #expect(view.ticket.assigneeId == owner.id && view.work?.collaborators == [expert.id] && view.work?.workMode == .swarm)
            #expect(try await http.send(.delete, path + "/collaborators/\(expert.id)", token: expertToken).status == .noContent)
            #expect(try await http.send(.delete, path + "/collaborators/\(expert.id)", token: ownerToken).status == .notFound)
            #expect(try await http.send(.get, "/v1/agents/me/tickets", token: expertToken).decode(Page<TicketSummary>.self).items.isEmpty)
        }
    }

    @Test(.freshDatabase) func agentsPoliciesAndTheCalendarAreManagedByTheAdmin() async throws {
        try await withTierQueue { http, db in
            for index in 0..<5 {
                _ = try await admin(http, .post, "/v1/agents", CreateAgentRequest(name: "Agent \(index)", email: "a\(index)@example.com", tiers: [1]))
            }
            var seen: [Agent] = []
            var cursor: String?
            repeat {
                let page = try await admin(http, .get, "/v1/agents?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")).decode(Page<Agent>.self)
                seen += page.items
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.map(\.name) == (0..<5).map { "Agent \($0)" } + ["Test Administrator"])
            #expect(try await admin(http, .get, "/v1/agents/\(seen[0].id)").decode(Agent.self).email == "a0@example.com")
            #expect(try await admin(http, .get, "/v1/agents/\(UUID())").status == .notFound)
            let me = AgentIdentity.fixture(tiers: [.backOffice])
            let token = try await db.agentToken(me)
            #expect(try await http.send(.get, "/v1/agents/me", token: token).decode(Agent.self).id == me.id)
            #expect(try await admin(http, .get, "/v1/agents/me").status == .forbidden)

            let policies = try await http.send(.get, "/v1/sla/policies", token: token).decode(Page<SLAPolicy>.self)
            #expect(policies.items.map(\.priority) == Priority.allCases && policies.items[0].businessHours == false)
            let put = try await admin(
                http, .put, "/v1/sla/policies/p2", SLAPolicyRequest(firstResponseSeconds: 600, resolutionSeconds: 7200, businessHours: true))
            #expect(try put.decode(SLAPolicy.self).priority == .p2)
            let badPolicy = try await admin(
                http, .put, "/v1/sla/policies/P2", SLAPolicyRequest(firstResponseSeconds: 7200, resolutionSeconds: 600, businessHours: true))
            #expect(try badPolicy.problem().errors?.map(\.field) == ["resolutionSeconds"])
            #expect(
                try await admin(http, .put, "/v1/sla/policies/P9", SLAPolicyRequest(firstResponseSeconds: 60, resolutionSeconds: 60, businessHours: true))
                    .status == .unprocessableContent)
            let calendar = BusinessCalendar(timeZone: "Europe/Berlin", week: ["mon": ["08:00", "12:00", "13:00", "17:00"]], holidays: ["2026-12-25"])
            #expect(try await admin(http, .put, "/v1/sla/calendar", calendar).decode(BusinessCalendar.self) == calendar)
            #expect(try await http.send(.get, "/v1/sla/calendar", token: token).decode(BusinessCalendar.self) == calendar)
            let badCalendar = try await admin(http, .put, "/v1/sla/calendar", BusinessCalendar(timeZone: "Mars/Olympus", week: ["mon": ["17:00", "09:00"]]))
            #expect(try Set(badCalendar.problem().errors?.map(\.field) ?? []).isSuperset(of: ["timeZone", "week.mon"]))
            #expect(try await http.send(.put, "/v1/sla/calendar", token: token, json: calendar).status == .forbidden)
        }
    }

    @Test(.freshDatabase) func theQueueFiltersAndTheAgentViewShowsTheProblem() async throws {
        let problem = ProblemRecord(
            id: UUID(), title: "VPN gateway", status: .open, category: "network", incidentIds: [], rootCause: nil, workaround: "Use the backup gateway",
            knownError: true, storm: false, resolution: nil, createdAt: Date(), updatedAt: Date(), resolvedAt: nil, version: 1)
        try await withTierQueue(problem: problem) { http, db in
            let agent = AgentIdentity.fixture(tiers: [.firstLine], skills: ["network"])
            let token = try await db.agentToken(agent)
            let urgent = try await db.queued(impact: .high, urgency: .high, category: "network", skills: ["network"])
            _ = try await db.queued(impact: .low, urgency: .low, category: "email")
            let held = try await db.inProgress(agent: agent)
            func ids(_ query: String) async throws -> Set<UUID> {
                Set(try await http.send(.get, "/v1/queues/1" + query, token: token).decode(Page<TicketSummary>.self).items.map(\.id))
            }
            #expect(try await ids("").count == 2)  // waiting; the held one only with unassigned=false
            #expect(try await ids("?skill=network") == [urgent.id])
            #expect(try await ids("?priority=p1") == [urgent.id])
            #expect(try await ids("?category=email&unassigned=true").count == 1)
            #expect(try await ids("?unassigned=false") == [held.id])
            #expect(try await ids("?breached=true").isEmpty)
            #expect(
                try await http.send(.get, "/v1/queues/1?priority=P9&breached=maybe", token: token).problem().errors?.map(\.field) == ["priority", "breached"])
            let view = try await http.send(.get, "/v1/tickets/\(urgent.id)", token: token).decode(TicketDetail.self)
            #expect(view.work?.problem?.workaround == "Use the backup gateway")

            // Colleagues: whom to hand to or swarm with, by level, with what each works on; no emails.
            let other = AgentIdentity.fixture(tiers: [.backOffice])
            _ = try await db.agentToken(other)
            let levelOne = try await http.send(.get, "/v1/agents/colleagues?tier=1", token: token)
            #expect(try levelOne.decode(Page<Colleague>.self).items.map { [$0.id: $0.working] } == [[agent.id: 1]])
            #expect(!String(buffer: levelOne.body).contains("email"))
            let everyone = try await http.send(.get, "/v1/agents/colleagues?limit=1", token: token).decode(Page<Colleague>.self)
            let rest = try await http.send(.get, "/v1/agents/colleagues?cursor=\(everyone.nextCursor ?? "")", token: token).decode(Page<Colleague>.self)
            #expect(Set((everyone.items + rest.items).map(\.id)) == [agent.id, other.id] && rest.nextCursor == nil)
            #expect(try await http.send(.get, "/v1/agents/colleagues?tier=4", token: token).problem().errors?.map(\.field) == ["tier"])
        }
    }
}
