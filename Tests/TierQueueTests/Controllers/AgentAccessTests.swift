import Configuration
import Foundation
import HummingbirdTesting
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// What an agent may see and do beyond its levels, and how the admin takes access away (issue 11, items 4 and 11).
@Suite struct AgentAccessTests {
    func withTierQueue(
        clock: any WallClock = SystemClock(), _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp({ (reader: ConfigReader) in
                let configuration = try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: TierQueue.defaultPort)
                let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
                let deps = TierQueueDependencies(
                    runtime: runtime, configuration: TierQueueConfiguration(tiers: [.firstLine, .backOffice, .specialist]),
                    vendorBridge: FakeVendorBridge(vendor: nil),
                    intake: FakeIntake(), triage: FakeTriage())
                return runtime.makeApplication(router: buildRouter(deps))
            }) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    @Test(.freshDatabase) func aLevelOneAgentLosesATicketEscalatedToLevelThreeUntilItComesBack() async throws {
        try await withTierQueue { http, db in
            let watcher = AgentIdentity.fixture(tiers: [.firstLine])
            let escalator = AgentIdentity.fixture(tiers: [.firstLine])
            let (watcherToken, escalatorToken) = (try await db.agentToken(watcher), try await db.agentToken(escalator))
            let ticket = try await db.queued(tier: .firstLine)
            let older = try await db.queued(tier: .specialist, requester: ticket.requester.id)
            let path = "/v1/tickets/\(ticket.id)"
            let view = try await http.send(.get, path, token: watcherToken).decode(TicketDetail.self)
            #expect(view.ticket.id == ticket.id && view.requesterHistory?.isEmpty == true, "the requester's level 3 ticket is not shown to level 1")
            #expect(try await http.send(.get, "/v1/tickets/\(older.id)", token: watcherToken).status == .notFound)
            #expect(
                try await http.send(.post, path + "/escalate", token: escalatorToken, json: EscalateRequest(reason: "needs a specialist", toTier: 3)).status
                    == .ok)
            // Escalated: gone for the level 1 agent who never touched it, 404 like an unknown id, on every action too.
            #expect(try await http.send(.get, path, token: watcherToken).status == .notFound)
            #expect(try await http.send(.post, path + "/comments", token: watcherToken, json: CommentRequest(message: "hi")).status == .notFound)
            #expect(try await http.send(.get, "/v1/tickets/\(UUID())", token: watcherToken).status == .notFound)
            // The agent who escalated it has worked on it and may follow it.
            #expect(try await http.send(.get, path, token: escalatorToken).status == .ok)
            #expect(try await http.send(.get, path, token: TestCredentials.adminToken).status == .ok)
            // Assigned back to the watcher: visible again.
            _ = try await db.change(ticket.id) {
                $0.status = .inProgress
                $0.assigneeId = watcher.id
            }
            #expect(try await http.send(.get, path, token: watcherToken).status == .ok)
        }
    }

    @Test(.freshDatabase) func theAdminDeactivatesAndRotatesAgents() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock) { http, db in
            let created = try await http.send(
                .post, "/v1/agents", token: TestCredentials.adminToken, json: CreateAgentRequest(name: "Alice", email: "alice@example.com", tiers: [1])
            ).decode(Agent.self)
            let (id, token) = (created.id, try #require(created.token))
            #expect(try await http.send(.get, "/v1/queues/1", token: token).status == .ok)
            #expect(try await http.send(.patch, "/v1/agents/\(id)", token: token, json: UpdateAgentRequest(active: false)).status == .forbidden)
            #expect(
                try await http.send(.patch, "/v1/agents/\(UUID())", token: TestCredentials.adminToken, json: UpdateAgentRequest(active: false)).status
                    == .notFound)
            #expect(try await http.send(.patch, "/v1/agents/\(id)", token: TestCredentials.adminToken, raw: #"{"tiers":[7]}"#).status == .unprocessableContent)
            let promoted = try await http.send(
                .patch, "/v1/agents/\(id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(tiers: [1, 2], wipLimit: 3)
            )
            .decode(Agent.self)
            #expect(promoted.tiers == [.firstLine, .backOffice] && promoted.wipLimit == 3 && promoted.active && promoted.token == nil)

            let rotated = try await http.send(.post, "/v1/agents/\(id)/token", token: TestCredentials.adminToken).decode(Agent.self)
            let newToken = try #require(rotated.token)
            #expect(newToken != token && newToken.hasPrefix("tda_"))
            #expect(try await http.send(.get, "/v1/queues/2", token: newToken).status == .ok, "the new token and the new level work at once")
            let live = try await db.client.all(
                "SELECT token_hash FROM staff_tokens WHERE person_id = \(id) AND revoked_at IS NULL", logger: db.logger
            ) { try $0.get("token_hash", as: Data.self) }
            #expect(live == [Secrets.hash(newToken)], "new credentials revoke every earlier token")

            let colleague = try await http.send(
                .post, "/v1/agents", token: TestCredentials.adminToken, json: CreateAgentRequest(name: "Bob", email: "bob@example.com", tiers: [1])
            ).decode(Agent.self)
            #expect(try await http.send(.get, "/v1/queues/1", token: colleague.token).status == .ok)
            let deactivated = try await http.send(
                .patch, "/v1/agents/\(colleague.id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(active: false))
            #expect(try deactivated.decode(Agent.self).active == false)
            #expect(
                try await http.send(.get, "/v1/agents", token: TestCredentials.adminToken).decode(Page<Agent>.self).items.map(\.name) == [
                    "Alice", "Test Administrator",
                ])
            // Every replica drops a cached token within the cache lifetime (5 s).
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/queues/1", token: token).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/queues/1", token: colleague.token).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/queues/1", token: newToken).status == .ok)
        }
    }

    /// Issue 26, item 3: the bootstrap token creates the first administrator and nothing else; roles
    /// change with their levels; a token of scope `read` only reads; an auditor reads the reports.
    @Test(.freshDatabase) func theBootstrapTokenMakesTheFirstAdministratorAndRolesDecideTheRest() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock) { http, db in
            let first = BootstrapRequest(name: "Rita Root", email: "rita@example.com")
            #expect(
                try await http.send(.get, "/v1/agents", token: TestCredentials.bootstrapToken).status == .forbidden, "the bootstrap token opens nothing else")
            #expect(try await http.send(.post, "/v1/bootstrap", token: TestCredentials.adminToken, json: first).status == .forbidden)
            #expect(
                try await http.send(.post, "/v1/bootstrap", token: TestCredentials.bootstrapToken, json: first).status == .conflict, "an administrator exists")
            try await db.client.execute("UPDATE agents SET active = false WHERE role = 'admin'", logger: db.logger)
            let created = try await http.send(.post, "/v1/bootstrap", token: TestCredentials.bootstrapToken, json: first)
            #expect(created.status == .created)
            let rita = try created.decode(Agent.self)
            #expect(rita.role == .admin && rita.tiers.isEmpty && rita.token?.hasPrefix("tda_") == true)
            #expect(try await http.send(.get, "/v1/staff/me", token: rita.token).decode(Agent.self).email == "rita@example.com")
            #expect(try await http.send(.post, "/v1/bootstrap", token: TestCredentials.bootstrapToken, json: first).status == .conflict)

            // Roles come with their levels.
            let admin = rita.token
            let bad = try await http.send(
                .post, "/v1/agents", token: admin, json: CreateAgentRequest(name: "A", email: "a@example.com", tiers: [1], role: .auditor))
            #expect(try bad.problem().errors?.map(\.field) == ["tiers"])
            let ada = try await http.send(.post, "/v1/agents", token: admin, json: CreateAgentRequest(name: "Ada", email: "ada@example.com", tiers: [1]))
                .decode(Agent.self)
            #expect(try await http.send(.patch, "/v1/agents/\(ada.id)", token: admin, json: UpdateAgentRequest(role: .lead)).status == .unprocessableContent)
            let lead = try await http.send(.patch, "/v1/agents/\(ada.id)", token: admin, json: UpdateAgentRequest(tiers: [1, 2], role: .lead)).decode(
                Agent.self)
            #expect(lead.role == .lead && lead.tiers == [.firstLine, .backOffice])
            #expect(try await http.send(.get, "/v1/reports/summary", token: ada.token).status == .ok, "a team lead reads the reports")
            let auditor = try await http.send(.patch, "/v1/agents/\(ada.id)", token: admin, json: UpdateAgentRequest(role: .auditor)).decode(Agent.self)
            #expect(auditor.role == .auditor && auditor.tiers.isEmpty)
            clock.advance(by: Authenticator.cacheLifetime)
            // Ada's first token had scope `work`, which an auditor cannot hold: it stops working.
            #expect(try await http.send(.get, "/v1/reports/summary", token: ada.token).status == .unauthorized)

            // An auditor reads reports and writes nothing; a read-only administrator's token reads only.
            let reader = try await db.staffToken(role: .auditor)
            #expect(try await http.send(.get, "/v1/reports/summary", token: reader).status == .ok)
            #expect(try await http.send(.get, "/v1/agents", token: reader).status == .forbidden)
            #expect(try await http.send(.put, "/v1/work-modes/printing", token: reader, json: WorkModeRequest(mode: .swarm)).status == .forbidden)
            let readOnlyAdmin = try await db.staffToken(role: .admin, scope: .read)
            #expect(try await http.send(.get, "/v1/agents", token: readOnlyAdmin).status == .ok)
            let refused = try await http.send(.put, "/v1/work-modes/printing", token: readOnlyAdmin, json: WorkModeRequest(mode: .swarm))
            #expect(try refused.status == .forbidden && refused.problem().detail == "this token only reads")
            #expect(try await db.count("work_modes") == 0)
        }
    }
}
