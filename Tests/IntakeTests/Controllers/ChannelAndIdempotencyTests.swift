import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeApp
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@Suite struct ChannelAndIdempotencyTests {
    func withIntake(
        _ environment: [String: String] = [:], _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(environment: environment, IntakeApp.buildApplication) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    func email(
        _ id: String, from: String = "Dana Example <dana@example.com>", subject: String = "Printer on floor 3 jams", text: String = "It jams on every job.",
        inReplyTo: String? = nil, references: [String]? = nil, authentication: MailAuthentication? = MailAuthentication(dmarc: "pass")
    ) -> InboundEmail {
        InboundEmail(
            from: from, to: "it@example.com", subject: subject, text: text, messageId: id, inReplyTo: inReplyTo, references: references,
            authentication: authentication)
    }

    /// An anonymous submission's key: at least 128 random bits.
    static func randomKey() -> HTTPFields { [HTTPField.Name("Idempotency-Key")!: Secrets.base64URL(Secrets.randomBytes(24))] }

    @Test(.freshDatabase) func sameKeySameBodyReplaysAndAnotherBodyIs422() async throws {
        try await withIntake { http, db in
            let key = Self.randomKey()
            let first = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: key)
            let again = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: key)
            #expect(first.status == .created && again.status == .created)
            #expect(String(buffer: first.body) == String(buffer: again.body))
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(subject: "Something else"), headers: key)
            #expect(try other.status == .unprocessableContent && other.problem().errors?.first?.field == "Idempotency-Key")
            let badKey = try await http.send(
                .post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 300)])
            #expect(badKey.status == .unprocessableContent)
            #expect(try await db.count("tickets") == 1)
        }
    }

    @Test(.freshDatabase) func twentyConcurrentRequestsWithOneKeyCreateOneTicket() async throws {
        try await withIntake { http, db in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "storm-\(UUID())"]
            let ids = try await withThrowingTaskGroup(of: (Int, UUID).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await http.send(
                            .post, "/v1/tickets", json: SubmitTicketRequest.fixture(description: "Concurrent retry storm"), headers: key)
                        return (response.status.code, try response.decode(SubmitTicketResponse.self).id)
                    }
                }
                return try await group.reduce(into: [(Int, UUID)]()) { $0.append($1) }
            }
            #expect(ids.allSatisfy { $0.0 == 201 })
            #expect(Set(ids.map(\.1)).count == 1)
            #expect(try await db.count("tickets") == 1)
            #expect(try await db.outbox(source: "intake") == ["intake ticket.created", "triage ticket.created"])
        }
    }

    /// A new requester's first submissions, sent at once (each one statement that finds or creates
    /// the requester): one requester, every ticket its own, each first event naming that requester.
    @Test(.freshDatabase) func aNewRequestersConcurrentFirstSubmissionsShareOneRequester() async throws {
        try await withIntake { http, db in
            let email = "first-\(UUID().uuidString.lowercased())@example.com"
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        var input = SubmitTicketRequest.fixture(subject: "Problem \(index)")
                        input.requester = RequesterInput(email: email.uppercased(), name: "First")
                        return try await http.send(.post, "/v1/tickets", json: input).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created })
            let requesters = try await db.client.all(
                "SELECT id, email FROM requesters WHERE email_normalized = \(email)", logger: db.logger
            ) { (try $0.get("id", as: UUID.self), try $0.get("email", as: String.self)) }
            #expect(requesters.count == 1 && requesters.first?.1 == email.uppercased())
            let actors = try await db.client.all(
                "SELECT DISTINCT e.actor FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.requester_id = \(requesters.first?.0)",
                logger: db.logger
            ) { try $0.get("actor", as: String.self) }
            #expect(actors == ["requester:\(requesters.first?.0.uuidString.lowercased() ?? "")"])
            #expect(try await db.count("tickets") == 12)
        }
    }

    @Test(.freshDatabase) func keysExpireAfter24Hours() async throws {
        try await withIntake { http, db in
            let key = Self.randomKey()
            _ = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: key)
            try await db.client.execute("UPDATE idempotency_keys SET created_at = created_at - interval '25 hours'", logger: db.logger)
            try await db.client.execute("UPDATE tickets SET created_at = created_at - interval '25 hours'", logger: db.logger)
            let later = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(subject: "A new problem"), headers: key)
            #expect(later.status == .created && later.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            #expect(try await db.count("tickets") == 2)
        }
    }

    @Test(.freshDatabase) func identicalSubmissionWithinAMinuteIsARetry() async throws {
        try await withIntake { http, db in
            let first = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let retry = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: " DANA@example.com"))
            #expect(try retry.decode(SubmitTicketResponse.self).id == first.id)
            let different = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(description: "Also the Wi-Fi."))
            #expect(try different.decode(SubmitTicketResponse.self).id != first.id)
            try await db.client.execute("UPDATE tickets SET created_at = created_at - interval '61 seconds'", logger: db.logger)
            let later = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture())
            #expect(try later.decode(SubmitTicketResponse.self).id != first.id)
            #expect(try await db.count("tickets") == 3)
        }
    }

    @Test(.freshDatabase) func rateLimitsAnswer429WithRetryAfter() async throws {
        try await withIntake(["TIERDESK_RATE_LIMIT_PER_MINUTE": "1000", "TIERDESK_REQUESTER_RATE_LIMIT_PER_MINUTE": "3"]) { http, db in
            for index in 0..<3 {
                #expect(try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(subject: "Issue \(index)")).status == .created)
            }
            let limited = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(subject: "Issue 4"))
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try limited.problem().status == 429)
            // Another requester is not held back by this one.
            #expect(try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "other@example.com")).status == .created)
            #expect(try await db.count("tickets") == 4)
        }
        try await withIntake(["TIERDESK_RATE_LIMIT_PER_MINUTE": "2"]) { http, _ in
            _ = try await http.send(.get, "/v1/kb/search?q=vpn")
            _ = try await http.send(.get, "/v1/kb/search?q=vpn")
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn").status == .tooManyRequests)
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn", token: TestCredentials.adminToken).status == .ok)  // staff are not limited
            #expect(try await http.send(.get, "/health/live").status == .ok)
        }
    }

    @Test(.freshDatabase) func chatKeepsItsTranscriptAndPhoneNeedsAnAgent() async throws {
        try await withIntake { http, db in
            var chat = SubmitTicketRequest.fixture(channel: .chat)
            chat.transcript = [ChatLine(from: "dana", text: "VPN is down"), ChatLine(from: "bot", text: "Have you restarted?")]
            #expect(try await http.send(.post, "/v1/tickets", json: chat).status == .forbidden, "chat is what a chat integration proves")
            let widget = try await IntegrationStore().create(
                CreateIntegrationRequest(name: "Chat widget", channels: [.chat]), defaultRate: 100, on: db.client, now: Date(), logger: db.logger)
            let created = try await http.send(.post, "/v1/tickets", token: widget.key, json: chat).decode(SubmitTicketResponse.self)
            let stored = try #require(try await db.store.find(created.id, on: db.client, logger: db.logger))
            #expect(stored.channel == .chat && stored.channelDetails["transcript"]?.array?.count == 2)
            var misplaced = SubmitTicketRequest.fixture(channel: .web)
            misplaced.transcript = [ChatLine(from: "x", text: "y")]
            #expect(try await http.send(.post, "/v1/tickets", json: misplaced).status == .unprocessableContent)

            let phone = SubmitTicketRequest.fixture(email: "caller@example.com", channel: .phone)
            #expect(try await http.send(.post, "/v1/tickets", json: phone).status == .forbidden)
            let agent = AgentIdentity.fixture()
            let token = try await db.agentToken(agent)
            let call = try await http.send(.post, "/v1/tickets", token: token, json: phone).decode(SubmitTicketResponse.self)
            let callTicket = try #require(try await db.store.find(call.id, on: db.client, logger: db.logger))
            #expect(callTicket.channelDetails["takenBy"]?.stringValue == agent.id.uuidString.lowercased())
        }
    }

    @Test(.freshDatabase) func emailRepliesThreadOntoTheirTicket() async throws {
        try await withIntake { http, db in
            let admin = TestCredentials.mailGatewayToken
            #expect(try await http.send(.post, "/v1/inbound/email", json: email("<a1@mail>")).status == .unauthorized)
            #expect(try await http.send(.post, "/v1/inbound/email", token: TestCredentials.adminToken, json: email("<a1@mail>")).status == .forbidden)
            let opened = try await http.send(.post, "/v1/inbound/email", token: admin, json: email("<a1@mail>"))
            #expect(opened.status == .created)
            let first = try opened.decode(InboundEmailResult.self)
            #expect(first.outcome == .created && first.requesterToken != nil)
            let (firstID, firstReference) = (try #require(first.ticketId), try #require(first.reference))
            // The gateway retries the same message: nothing new.
            #expect(
                try await http.send(.post, "/v1/inbound/email", token: admin, json: email("<a1@mail>")).decode(InboundEmailResult.self).outcome == .duplicate)
            // With DMARC passed for the requester's own address: a reply by In-Reply-To, then one by References only, then one by the subject tag.
            let byHeader = try await http.send(
                .post, "/v1/inbound/email", token: admin, json: email("<a2@mail>", subject: "Re: Printer", text: "Still jams", inReplyTo: "<a1@mail>"))
            #expect(
                try byHeader.decode(InboundEmailResult.self)
                    == InboundEmailResult(outcome: .threaded, ticketId: first.ticketId, reference: first.reference, status: .new))
            let byReferences = try await http.send(
                .post, "/v1/inbound/email", token: admin, json: email("<a3@mail>", subject: "Re: Re: Printer", references: ["<zz@elsewhere>", "<a2@mail>"]))
            #expect(try byReferences.decode(InboundEmailResult.self).ticketId == first.ticketId)
            let byTag = try await http.send(.post, "/v1/inbound/email", token: admin, json: email("<a4@mail>", subject: "Update [\(firstReference)]"))
            #expect(try byTag.decode(InboundEmailResult.self).ticketId == first.ticketId)
            // A stranger quoting the tag does not get onto someone else's ticket.
            let stranger = try await http.send(
                .post, "/v1/inbound/email", token: admin, json: email("<a5@mail>", from: "eve@example.com", subject: "Re: [\(firstReference)]"))
            #expect(try stranger.decode(InboundEmailResult.self).outcome == .created)
            let events = try await db.store.events(of: firstID, publicOnly: false, on: db.client, logger: db.logger)
            #expect(events.filter { $0.type == .ticketCommented }.count == 3)
            #expect(try await db.count("tickets") == 2)
            let bad = try await http.send(.post, "/v1/inbound/email", token: admin, raw: #"{"from":"not an address","subject":"s","text":"t","messageId":""}"#)
            #expect(try bad.status == .unprocessableContent && Set(bad.problem().errors?.map(\.field) ?? []) == ["from", "messageId"])
        }
    }

    @Test(.freshDatabase) func requesterProfileIsForAgentsAndConfirmCloses() async throws {
        try await withIntake { http, db in
            let created = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let ticket = try #require(try await db.store.find(created.id, on: db.client, logger: db.logger))
            #expect(try await http.send(.get, "/v1/requesters/\(ticket.requester.id)", token: created.requesterToken).status == .forbidden)
            let profile = try await http.send(.get, "/v1/requesters/\(ticket.requester.id)", token: TestCredentials.adminToken).decode(RequesterProfile.self)
            #expect(profile.email == "dana@example.com" && profile.tickets.map(\.id) == [created.id])
            #expect(try await http.send(.get, "/v1/requesters/\(UUID())", token: TestCredentials.adminToken).status == .notFound)

            #expect(try await http.send(.post, "/v1/tickets/\(created.id)/confirm", token: created.requesterToken).status == .conflict)  // not resolved yet
            _ = try await db.change(created.id) { $0.status = .resolved }
            let closed = try await http.send(.post, "/v1/tickets/\(created.id)/confirm", token: created.requesterToken)
            #expect(try closed.decode(Ticket.self).status == .closed)
        }
    }
}

extension JSONValue {
    var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
