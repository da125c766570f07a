import Foundation
import HummingbirdTesting
import IntakeApp
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@Suite struct TicketControllerTests {
    func withIntake(_ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(IntakeApp.buildApplication) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    /// Every write takes its time from the service's clock, one instant per request.
    @Test(.freshDatabase) func timeComesFromTheInjectedClock() async throws {
        let clock = ManualClock()
        try await TestDatabase.withClient { client in
            try await withLiveApp({ try await IntakeApp.buildApplication(reader: $0, clock: clock) }) { http in
                let db = StoreFixture(client: client)
                let submitted = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
                let opened = clock.now()
                clock.advance(by: 3_600)
                _ = try await http.send(
                    .post, "/v1/tickets/\(submitted.id)/replies", token: submitted.requesterToken, json: CommentRequest(message: "Still broken"))
                let ticket = try #require(try await db.store.find(submitted.id, on: client, logger: db.logger))
                #expect(ticket.createdAt == opened && ticket.updatedAt == opened.addingTimeInterval(3_600))
                let times = try await client.all("SELECT at FROM ticket_events WHERE ticket_id = \(submitted.id) ORDER BY seq", logger: db.logger) {
                    try $0.get("at", as: Date.self)
                }
                #expect(times == [opened, opened.addingTimeInterval(3_600)])
            }
        }
    }

    @Test(.freshDatabase) func submitStoresTicketAndHandsItToTriage() async throws {
        try await withIntake { http, db in
            let response = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture())
            #expect(response.status == .created)
            let created = try response.decode(SubmitTicketResponse.self)
            #expect(created.status == .new && created.reference.hasPrefix("TD-"))
            #expect(response.headers[.location] == "/v1/tickets/\(created.id.uuidString.lowercased())")
            #expect(created.requesterToken == Secrets.requesterToken(ticketID: created.id, secret: TestCredentials.secret))
            let stored = try #require(try await db.store.find(created.id, on: db.client, logger: db.logger))
            #expect(stored.priority == .p2 && stored.requester.email == "dana@example.com" && stored.status == .new)
            // Intake hands the ticket to itself too, for the requester's mail (`RequesterMail`).
            #expect(try await db.outbox(source: "intake") == ["intake ticket.created", "triage ticket.created"])
        }
    }

    @Test(.freshDatabase) func requesterIsFoundByNormalizedEmailAndKeptAsItWas() async throws {
        try await withIntake { http, db in
            var first = SubmitTicketRequest.fixture(email: "Dana@Example.com")
            first.requester.phone = "+41 44 000 00 00"
            try await http.send(.post, "/v1/tickets", json: first)
            var second = SubmitTicketRequest.fixture(email: "  dana@example.COM ", subject: "Wi-Fi drops too")
            second.requester.organization = "Example AG"
            try await http.send(.post, "/v1/tickets", json: second)
            #expect(try await db.count("requesters") == 1)
            let requester = try #require(
                try await db.client.first("SELECT phone, organization FROM requesters", logger: db.logger) {
                    (try $0.get("phone", as: String?.self), try $0.get("organization", as: String?.self))
                })
            // The first submission created the profile; the second's details stay on its ticket only.
            #expect(requester.0 == "+41 44 000 00 00" && requester.1 == nil)
        }
    }

    static let badBodies: [(String, String, Int, [String])] = [
        ("not JSON", "{nope", 400, []),
        ("empty body", "", 400, []),
        ("array", "[]", 422, []),
        ("missing requester", #"{"channel":"web","subject":"s","description":"d"}"#, 422, ["requester"]),
        ("bad email", #"{"requester":{"email":"nope"},"channel":"web","subject":"s","description":"d"}"#, 422, ["requester.email"]),
        ("unknown channel", #"{"requester":{"email":"a@b.co"},"channel":"fax","subject":"s","description":"d"}"#, 422, ["channel"]),
        ("unknown impact", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"s","description":"d","impact":"huge"}"#, 422, ["impact"]),
        ("subject not a string", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":5,"description":"d"}"#, 422, ["subject"]),
        ("blank subject", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"  ","description":"d"}"#, 422, ["subject"]),
        (
            "long subject", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":""# + String(repeating: "x", count: 201) + #"","description":"d"}"#,
            422, ["subject"]
        ),
        ("control character", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"bell\u0007","description":"d"}"#, 422, ["subject"]),
        ("bad category", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"s","description":"d","category":"Not Slug"}"#, 422, ["category"]),
        ("null description", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"s","description":null}"#, 422, ["description"]),
        // PostgreSQL cannot store U+0000: found by the fuzzer as a 500.
        (
            "NUL in metadata", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"s","description":"d","metadata":{"k":"a\u0000b"}}"#, 422,
            ["metadata"]
        ),
        (
            "NUL in a metadata key", #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"s","description":"d","metadata":{"k\u0000":[1]}}"#, 422,
            ["metadata"]
        ),
    ]

    @Test(.freshDatabase, arguments: badBodies)
    func badInputIsAProblemAndStoresNothing(name: String, body: String, status: Int, fields: [String]) async throws {
        try await withIntake { http, db in
            let response = try await http.send(.post, "/v1/tickets", raw: body)
            #expect(response.status.code == status, "\(name)")
            let problem = try response.problem()
            #expect(problem.status == status)
            for field in fields { #expect(problem.errors?.contains { $0.field == field } == true, "\(name): \(problem)") }
            #expect(try await db.count("tickets") == 0)
            #expect(try await db.count("requesters") == 0)
            #expect(try await db.count("outbox") == 0)
        }
    }

    @Test(.freshDatabase) func limitsAndMediaTypes() async throws {
        try await withIntake { http, db in
            let huge = #"{"requester":{"email":"a@b.co"},"channel":"web","subject":"s","description":""# + String(repeating: "x", count: 1 << 20) + "\"}"
            #expect(try await http.send(.post, "/v1/tickets", raw: huge).status == .contentTooLarge)
            let form = try await http.send(.post, "/v1/tickets", raw: "a=b", headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(try form.status.code == 415 && form.problem().status == 415)
            let latin1 = try await http.executeRequest(
                uri: "/v1/tickets", method: .post, headers: [.contentType: "application/json"], body: .init(bytes: [0x7B, 0xFF, 0xFE, 0x7D]))
            #expect(latin1.status == .badRequest)
            #expect(try await db.count("tickets") == 0)
            let unknown = try await http.send(.get, "/v1/nothing-here")
            #expect(try unknown.status == .notFound && unknown.problem().status == 404)
            let badToken = try await http.send(.post, "/v1/tickets", token: "tda_not-a-real-token", json: SubmitTicketRequest.fixture())
            #expect(try badToken.status == .unauthorized && badToken.problem().status == 401)
        }
    }

    @Test(.freshDatabase) func requesterSeesOnlyTheirTicketAndPublicHistory() async throws {
        try await withIntake { http, db in
            let mine = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let theirs = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "eve@example.com")).decode(
                SubmitTicketResponse.self)
            try await db.client.transaction(logger: db.logger) { connection in
                try await db.store.record(
                    EventDraft(type: .ticketCommented, actor: "agent:x", isPublic: false, data: ["message": "internal note"]), ticketID: mine.id,
                    on: connection, now: Date(), logger: db.logger)
            }
            let view = try await http.send(.get, "/v1/tickets/\(mine.id)", token: mine.requesterToken)
            #expect(view.status == .ok)
            let detail = try view.decode(TicketDetail.self)
            #expect(detail.ticket.id == mine.id && detail.events.map(\.type) == [.ticketCreated])
            #expect(try await http.send(.get, "/v1/tickets/\(mine.id)", token: TestCredentials.adminToken).decode(TicketDetail.self).events.count == 2)
            #expect(try await http.send(.get, "/v1/tickets/\(theirs.id)", token: mine.requesterToken).status == .notFound)
            #expect(try await http.send(.get, "/v1/tickets/\(mine.id)").status == .unauthorized)
            #expect(try await http.send(.get, "/v1/tickets/\(mine.id)", token: TestCredentials.internalToken).status == .forbidden)
            #expect(try await http.send(.get, "/v1/tickets/\(UUID())", token: TestCredentials.adminToken).status == .notFound)
            #expect(try await http.send(.get, "/v1/tickets/not-a-uuid", token: TestCredentials.adminToken).status == .notFound)
        }
    }

    @Test(.freshDatabase) func replyBringsPendingAndRecentlyResolvedTicketsBack() async throws {
        try await withIntake { http, db in
            let agent = AgentIdentity.fixture()
            let pending = try await db.inProgress(agent: agent)
            _ = try await db.change(pending.id) { $0.status = .pendingCustomer }
            let token = Secrets.requesterToken(ticketID: pending.id, secret: TestCredentials.secret)
            let reply = try await http.send(.post, "/v1/tickets/\(pending.id)/replies", token: token, json: CommentRequest(message: "Here is the log"))
            #expect(reply.status == .ok)
            let back = try reply.decode(TicketDetail.self)
            #expect(back.ticket.status == .queued && back.ticket.tier == .firstLine && back.ticket.assigneeId == nil)

            let resolved = try await db.inProgress(agent: agent)
            _ = try await db.change(resolved.id) { $0.status = .resolved }
            let reopened = try await http.send(
                .post, "/v1/tickets/\(resolved.id)/replies", token: Secrets.requesterToken(ticketID: resolved.id, secret: TestCredentials.secret),
                json: CommentRequest(message: "It is broken again"))
            let reopenedDetail = try reopened.decode(TicketDetail.self)
            #expect(reopenedDetail.ticket.status == .queued && reopenedDetail.events.last?.type == .ticketReopened)

            let closed = try await db.inProgress(agent: agent)
            _ = try await db.change(closed.id) { $0.status = .resolved }
            _ = try await db.change(closed.id) { $0.status = .closed }
            let refused = try await http.send(
                .post, "/v1/tickets/\(closed.id)/replies", token: Secrets.requesterToken(ticketID: closed.id, secret: TestCredentials.secret),
                json: CommentRequest(message: "hello?"))
            #expect(try refused.status == .conflict && refused.problem().status == 409)
            let empty = try await http.send(.post, "/v1/tickets/\(pending.id)/replies", token: token, json: CommentRequest(message: ""))
            #expect(empty.status == .unprocessableContent)
        }
    }

    @Test func openAPIDocumentsEveryRoute() throws {
        let reader = TestCredentials.reader(database: try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d"))
        let runtime = try ServiceRuntime(
            configuration: try TierdeskConfiguration(reader: reader, serviceName: Intake.serviceName, defaultPort: 8080, keys: IntakeDependencies.keyPurposes))
        let router = IntakeApp.buildRouter(try IntakeDependencies(runtime: runtime, configuration: IntakeConfiguration()))
        #expect(OpenAPICheck.documented(Intake.openAPI) == OpenAPICheck.served(router))
        #expect(Intake.openAPI.hasPrefix("openapi: 3.1"))
    }
}

@Suite struct DeadLetterTests {
    @Test(.freshDatabase) func undeliverableHandOffsAreListedAndCanBeRetried() async throws {
        try await TestDatabase.withClient { client in
            // Triage (and intake itself, for the requester's mail) are unreachable and one attempt is all
            // there is: the hand-offs are dead-lettered, not dropped.
            try await withLiveApp(environment: ["TIERDESK_OUTBOX_MAX_ATTEMPTS": "1"], IntakeApp.buildApplication) { http in
                let created = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
                let dead = try await HTTP.eventually { () -> Page<DeadLetter>? in
                    let page = try await http.send(.get, "/v1/admin/dead-letters", token: TestCredentials.adminToken).decode(Page<DeadLetter>.self)
                    return page.items.count < 2 ? nil : page
                }
                #expect(dead.items.map(\.eventId) == [created.id, created.id] && Set(dead.items.map(\.destination)) == ["intake", "triage"])
                #expect(dead.items.allSatisfy { $0.lastError != nil })
                #expect(try await http.send(.get, "/v1/admin/dead-letters", token: created.requesterToken).status == .forbidden)
                let retry = try await http.send(.post, "/v1/admin/dead-letters/\(created.id)/retry", token: TestCredentials.adminToken)
                #expect(retry.status == .accepted)
                #expect(try await http.send(.post, "/v1/admin/dead-letters/\(UUID())/retry", token: TestCredentials.adminToken).status == .notFound)
                let metrics = String(buffer: try await http.send(.get, "/metrics").body)
                #expect(metrics.contains("tierdesk_outbox_dead_letters_total"))
            }
            let rows = try await client.first("SELECT count(*) AS n FROM outbox", logger: TestDatabase.logger) { try $0.get("n", as: Int64.self) }
            #expect(rows == 2)
        }
    }
}
