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

/// vendor-bridge as tier-queue sees it, for tests that must not depend on a running peer.
struct FakeVendorBridge: VendorBridgeClient {
    var vendor: UUID?
    func resolveVendor(id: UUID?, category: String?, logger: Logger) async throws -> UUID? {
        guard let vendor else { return nil }
        return id == nil || id == vendor ? vendor : nil
    }
}

/// intake as tier-queue sees it: one fixed suggestion.
struct FakeIntake: IntakeClient {
    func suggestions(subject: String, description: String, logger: Logger) async throws -> [ArticleSummary] {
        [ArticleSummary(id: UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!, title: "About \(subject)")]
    }
}

/// triage as tier-queue sees it: no problem for any ticket, unless one is given.
struct FakeTriage: TriageClient {
    var problem: ProblemRecord?
    func problem(ofTicket id: UUID, logger: Logger) async throws -> ProblemRecord? { problem }
}

@Suite struct TierQueueControllerTests {
    func withTierQueue(
        tiers: Set<Tier> = [.firstLine, .backOffice, .specialist], vendor: UUID? = nil,
        _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp({ (reader: ConfigReader) in
                let configuration = try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: TierQueue.defaultPort)
                let runtime = try ServiceRuntime(configuration: configuration)
                let deps = TierQueueDependencies(
                    runtime: runtime, configuration: TierQueueConfiguration(tiers: tiers), vendorBridge: FakeVendorBridge(vendor: vendor), intake: FakeIntake(),
                    triage: FakeTriage())
                return runtime.makeApplication(router: buildRouter(deps))
            }) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    @Test(.freshDatabase) func adminCreatesAgentsAndTheTokenIsShownOnce() async throws {
        try await withTierQueue { http, db in
            let request = CreateAgentRequest(name: "Alice", email: "Alice@Example.com", tiers: [1, 2], skills: ["network"], wipLimit: 3)
            #expect(try await http.send(.post, "/v1/agents", json: request).status == .unauthorized)
            let created = try await http.send(.post, "/v1/agents", token: TestCredentials.adminToken, json: request)
            #expect(created.status == .created)
            let agent = try created.decode(Agent.self)
            #expect(agent.token?.hasPrefix("tda_") == true && agent.tiers == [.firstLine, .backOffice] && agent.email == "alice@example.com")
            let stored = try await db.client.first(
                "SELECT token_hash FROM staff_tokens WHERE person_id = \(agent.id) AND kind = 'personal' AND scope = 'work' AND expires_at IS NULL",
                logger: db.logger
            ) { try $0.get("token_hash", as: Data.self) }
            #expect(stored == Secrets.hash(agent.token!))
            #expect(try await http.send(.post, "/v1/agents", token: agent.token, json: request).status == .forbidden)
            #expect(try await http.send(.post, "/v1/agents", token: TestCredentials.adminToken, json: request).status == .conflict)
            let listed = try await http.send(.get, "/v1/agents", token: TestCredentials.adminToken).decode(Page<Agent>.self)
            #expect(listed.items.map(\.name) == ["Alice", "Test Administrator"] && listed.items.allSatisfy { $0.token == nil })
            let invalid = try await http.send(.post, "/v1/agents", token: TestCredentials.adminToken, raw: #"{"name":"","email":"x","tiers":[9]}"#)
            #expect(try invalid.status == .unprocessableContent && Set(invalid.problem().errors?.map(\.field) ?? []) == ["name", "email", "tiers"])
            #expect(try await db.count("agents") == 2, "Alice and the test administrator")
        }
    }

    @Test(.freshDatabase) func queueIsForItsAgentsAndPagesInOrder() async throws {
        try await withTierQueue(tiers: [.firstLine]) { http, db in
            let one = AgentIdentity.fixture(tiers: [.firstLine])
            let two = AgentIdentity.fixture(tiers: [.backOffice])
            let (tokenOne, tokenTwo) = (try await db.agentToken(one), try await db.agentToken(two))
            for urgency in [Urgency.low, .high, .medium] { _ = try await db.queued(urgency: urgency) }
            let page = try await http.send(.get, "/v1/queues/1?limit=2", token: tokenOne).decode(Page<TicketSummary>.self)
            #expect(page.items.map(\.priority) == [.p2, .p3] && page.nextCursor != nil)
            let rest = try await http.send(.get, "/v1/queues/1?limit=2&cursor=\(page.nextCursor!)", token: tokenOne).decode(Page<TicketSummary>.self)
            #expect(rest.items.map(\.priority) == [.p4] && rest.nextCursor == nil)
            #expect(try await http.send(.get, "/v1/queues/1", token: tokenTwo).status == .forbidden)
            #expect(try await http.send(.get, "/v1/queues/1", token: TestCredentials.adminToken).status == .ok)
            #expect(try await http.send(.get, "/v1/queues/2", token: tokenTwo).status == .notFound)  // not served here
            #expect(try await http.send(.get, "/v1/queues/7", token: tokenOne).status == .notFound)
            #expect(try await http.send(.get, "/v1/queues/1?limit=0", token: tokenOne).status == .unprocessableContent)
            #expect(try await http.send(.get, "/v1/queues/1?limit=abc", token: tokenOne).status == .unprocessableContent)
            #expect(try await http.send(.get, "/v1/queues/1?cursor=bogus", token: tokenOne).status == .unprocessableContent)
        }
    }

    @Test(.freshDatabase) func claimTakesTheNextTicketOr204() async throws {
        try await withTierQueue { http, db in
            let agent = AgentIdentity.fixture(tiers: [.firstLine])
            let token = try await db.agentToken(agent)
            #expect(try await http.send(.post, "/v1/queues/1/claim", token: token).status == .noContent)
            let ticket = try await db.queued(impact: .high, urgency: .high)
            let claimed = try await http.send(.post, "/v1/queues/1/claim", token: token)
            #expect(claimed.status == .ok)
            let body = try claimed.decode(Ticket.self)
            #expect(body.id == ticket.id && body.status == .inProgress && body.assigneeId == agent.id)
            // At its WIP limit the agent hears so, with the limit, instead of "nothing to claim".
            let full = AgentIdentity.fixture(tiers: [.firstLine], wipLimit: 1)
            let fullToken = try await db.agentToken(full)
            _ = try await db.inProgress(agent: full)
            _ = try await db.queued()
            let refused = try await http.send(.post, "/v1/queues/1/claim", token: fullToken)
            #expect(try refused.status == .conflict && refused.problem().type.hasSuffix("wip-limit-reached") && refused.problem().detail?.contains("1") == true)
            #expect(try await http.send(.post, "/v1/queues/2/claim", token: token).status == .forbidden)
            #expect(try await http.send(.post, "/v1/queues/1/claim", token: TestCredentials.adminToken).status == .forbidden)
        }
    }

    @Test(.freshDatabase) func agentWorksOnlyTheirTickets() async throws {
        try await withTierQueue { http, db in
            let owner = AgentIdentity.fixture(tiers: [.firstLine])
            let colleague = AgentIdentity.fixture(tiers: [.firstLine])
            let stranger = AgentIdentity.fixture(tiers: [.specialist])
            let (ownerToken, colleagueToken, strangerToken) = (
                try await db.agentToken(owner), try await db.agentToken(colleague), try await db.agentToken(stranger)
            )
            let ticket = try await db.inProgress(agent: owner)
            let path = "/v1/tickets/\(ticket.id)"
            // Reading and commenting: any agent of the level; resolving and pausing: the assignee;
            // an agent of another level does not learn the ticket exists.
            #expect(try await http.send(.get, path, token: colleagueToken).status == .ok)
            #expect(try await http.send(.get, path, token: strangerToken).status == .notFound)
            #expect(try await http.send(.post, path + "/comments", token: strangerToken, json: CommentRequest(message: "hi")).status == .notFound)
            #expect(try await http.send(.post, path + "/comments", token: colleagueToken, json: CommentRequest(message: "note", internal: true)).status == .ok)
            #expect(try await http.send(.post, path + "/resolve", token: colleagueToken, json: ResolveRequest(resolution: "done")).status == .forbidden)
            #expect(
                try await http.send(.post, path + "/pending", token: colleagueToken, json: PendingRequest(reason: .awaitingCustomerInfo)).status == .forbidden)
            let paused = try await http.send(
                .post, path + "/pending", token: ownerToken, json: PendingRequest(reason: .awaitingCustomerInfo, note: "waiting for logs"))
            #expect(try paused.decode(Ticket.self).status == .pendingCustomer)
            let resolved = try await http.send(
                .post, path + "/resolve", token: ownerToken,
                json: ResolveRequest(resolution: "Reset the VPN profile", article: .init(title: "VPN drops hourly", body: "Reset the profile.")))
            #expect(try resolved.decode(Ticket.self).status == .resolved)
            // The article, and the wait and the resolution for the requester's mail (the internal note mails nobody).
            #expect(Set(try await db.outbox(source: "tier-queue")) == ["intake kb.published", "intake ticket.pending", "intake ticket.resolved"])
            let again = try await http.send(.post, path + "/resolve", token: ownerToken, json: ResolveRequest(resolution: "again"))
            #expect(try again.status == .conflict && again.problem().type.hasSuffix("invalid-transition"))
            let detail = try await http.send(.get, path, token: ownerToken).decode(TicketDetail.self)
            #expect(detail.events.contains { $0.type == .ticketCommented } && detail.requesterHistory != nil)
            #expect(detail.suggestedArticles?.map(\.title) == ["About s"])
        }
    }

    @Test(.freshDatabase) func escalationGoesUpAndToAVendor() async throws {
        let vendor = UUID()
        try await withTierQueue(vendor: vendor) { http, db in
            let first = AgentIdentity.fixture(tiers: [.firstLine])
            let specialist = AgentIdentity.fixture(tiers: [.specialist])
            let (firstToken, specialistToken) = (try await db.agentToken(first), try await db.agentToken(specialist))
            let ticket = try await db.inProgress(agent: first)
            let path = "/v1/tickets/\(ticket.id)/escalate"
            let stale = try await http.send(.post, path, token: firstToken, json: EscalateRequest(reason: "x"), headers: [.ifMatch: "\"1\""])
            #expect(stale.status == .conflict)
            let down = try await http.send(.post, path, token: firstToken, json: EscalateRequest(reason: "x", toTier: 1))
            #expect(down.status == .unprocessableContent)
            let up = try await http.send(.post, path, token: firstToken, json: EscalateRequest(reason: "needs a specialist", toTier: 3))
            let atThree = try up.decode(Ticket.self)
            #expect(atThree.status == .queued && atThree.tier == .specialist && atThree.assigneeId == nil)
            #expect(try await http.send(.post, path, token: firstToken, json: EscalateRequest(reason: "again")).status == .forbidden)
            let unknownVendor = try await http.send(.post, path, token: specialistToken, json: EscalateRequest(reason: "vendor", toTier: 4, vendorId: UUID()))
            #expect(try unknownVendor.status == .unprocessableContent && unknownVendor.problem().errors?.first?.field == "vendorId")
            let toVendor = try await http.send(.post, path, token: specialistToken, json: EscalateRequest(reason: "firmware bug"))
            let atVendor = try toVendor.decode(Ticket.self)
            #expect(atVendor.status == .pendingVendor && atVendor.tier == .vendor && atVendor.vendorId == vendor)
            #expect(try await db.outbox(source: "tier-queue") == ["vendor-bridge ticket.escalated"])
        }
    }

    @Test(.freshDatabase) func escalationToLevel4NeedsAVendor() async throws {
        try await withTierQueue(vendor: nil) { http, db in
            let specialist = AgentIdentity.fixture(tiers: [.specialist])
            let token = try await db.agentToken(specialist)
            let ticket = try await db.queued(tier: .specialist)
            let refused = try await http.send(.post, "/v1/tickets/\(ticket.id)/escalate", token: token, json: EscalateRequest(reason: "vendor"))
            #expect(refused.status == .unprocessableContent)
            #expect(try await db.store.find(ticket.id, on: db.client, logger: db.logger)?.status == .queued)
        }
    }

    @Test(.freshDatabase) func triagedEventQueuesOnceAndNeedsTheInternalToken() async throws {
        try await withTierQueue { http, db in
            let ticket = try await db.queued()
            // Put a ticket back to `triaged` is not a lifecycle move: make a fresh one through the store.
            let requester = try await db.requester("q@example.com")
            let draft = TicketDraft(impact: .high, urgency: .high, category: nil, channel: .api, subject: "s", description: "d", requesterID: requester)
            try await db.client.transaction(logger: db.logger) { connection in
                _ = try await db.store.insert(draft, event: EventDraft(type: .ticketCreated, actor: "test"), on: connection, now: Date(), logger: db.logger)
                _ = try await db.store.update(draft.id, event: EventDraft(type: .ticketTriaged, actor: "test"), on: connection, now: Date(), logger: db.logger)
                {
                    $0.status = .triaged
                    $0.tier = .firstLine
                }
            }
            let event = EventEnvelope(type: .ticketTriaged, ticketId: draft.id, occurredAt: Date(), data: ["tier": 1])
            #expect(try await http.send(.post, "/internal/v1/events", json: event).status == .unauthorized)
            #expect(try await http.send(.post, "/internal/v1/events", token: TestCredentials.adminToken, json: event).status == .forbidden)
            let first = try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event)
            #expect(try first.decode(EventBatchResult.self).results == [EventResult(id: event.id, status: .applied)])
            let repeated = try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: EventBatch(events: [event]))
            #expect(try repeated.decode(EventBatchResult.self).results == [EventResult(id: event.id, status: .duplicate)])
            let queued = try #require(try await db.store.find(draft.id, on: db.client, logger: db.logger))
            #expect(queued.status == .queued && queued.resolutionDueAt != nil && queued.firstResponseDueAt != nil)
            let events = try await db.store.events(of: draft.id, publicOnly: false, on: db.client, logger: db.logger)
            #expect(events.filter { $0.type == .ticketQueued }.count == 1)
            _ = ticket
        }
    }

    @Test func openAPIDocumentsEveryRoute() throws {
        let reader = TestCredentials.reader(database: try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d"))
        let runtime = try ServiceRuntime(configuration: try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: 8082))
        let deps = TierQueueDependencies(
            runtime: runtime, configuration: TierQueueConfiguration(tiers: [.firstLine]), vendorBridge: FakeVendorBridge(), intake: FakeIntake(),
            triage: FakeTriage())
        #expect(OpenAPICheck.documented(TierQueue.openAPI) == OpenAPICheck.served(buildRouter(deps)))
    }

    @Test func tiersConfiguration() throws {
        func tiers(_ value: String) throws -> Set<Tier> {
            try TierQueueConfiguration(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: ["TIERDESK_TIERS": value]))).tiers
        }
        #expect(try tiers("2") == [.backOffice])
        #expect(try tiers("1,3") == [.firstLine, .specialist])
        #expect(throws: ConfigurationError.self) { try tiers("4") }
        #expect(throws: ConfigurationError.self) { try tiers("one") }
    }
}
