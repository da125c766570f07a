import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeApp
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// Issue 23's attacks on intake, replayed against the running service and a real PostgreSQL: what
/// an anonymous caller may set, what a requester may read, and what mail may do. Each refusal is
/// shown to have stored nothing.
@Suite struct TrustBoundaryTests {
    func withIntake(_ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(IntakeApp.buildApplication) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    static let admin = TestCredentials.adminToken

    @Test(.freshDatabase) func anAnonymousCallerFilesOnTheWebWithNoMetadata() async throws {
        try await withIntake { http, db in
            let agent = try await db.agentToken(.fixture())
            for channel in [TierdeskModels.Channel.api, .chat, .email, .phone] {
                let response = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(channel: channel))
                #expect(response.status == .forbidden, "anonymous on \(channel.rawValue)")
            }
            var withMetadata = SubmitTicketRequest.fixture()
            withMetadata.metadata = ["alertId": "4711"]
            #expect(try await http.send(.post, "/v1/tickets", json: withMetadata).status == .forbidden)
            #expect(
                try await http.send(.post, "/v1/tickets", token: agent, json: SubmitTicketRequest.fixture(channel: .email)).status == .forbidden,
                "email comes only through the mail gateway, even from an agent")
            #expect(try await db.count("tickets") == 0, "no refusal stored anything")
            // What a caller proves it may set: an agent on api with metadata.
            withMetadata.channel = .api
            #expect(try await http.send(.post, "/v1/tickets", token: agent, json: withMetadata).status == .created)
            let facts = try await db.client.query("SELECT data::text FROM ticket_events WHERE type = 'ticket.created'", logger: db.logger)
            for try await text in facts.decode(String.self) {
                let data = try JSONCoding.decoder.decode(JSONValue.self, from: Data(text.utf8))
                #expect(SubmissionFacts(data: data) == SubmissionFacts(defaulted: [], submittedBy: .agent, requesterVerified: true))
            }
        }
    }

    /// The attack: a second submission under somebody's email read back the name and phone stored for them.
    @Test(.freshDatabase) func aRequesterReadsTheContactDetailsOfTheirOwnSubmissionNeverTheProfile() async throws {
        try await withIntake { http, db in
            var first = SubmitTicketRequest.fixture(email: "erik@example.com")
            first.requester = RequesterInput(email: "erik@example.com", name: "Erik Larsson", phone: "+46 8 555 0100", organization: "Nordlicht")
            _ = try await http.send(.post, "/v1/tickets", json: first).decode(SubmitTicketResponse.self)
            var second = SubmitTicketRequest.fixture(email: "erik@example.com", subject: "Something else")
            second.requester = RequesterInput(email: "erik@example.com")
            let opened = try await http.send(.post, "/v1/tickets", json: second).decode(SubmitTicketResponse.self)
            let view = try await http.send(.get, "/v1/tickets/\(opened.id)", token: opened.requesterToken).decode(TicketDetail.self)
            #expect(view.ticket.requester.name == nil && view.ticket.requester.phone == nil && view.ticket.requester.organization == nil)
            #expect(view.ticket.requester.email == "erik@example.com")
        }
    }

    /// Every event type, written with the data staff write (agent ids, hand-off fields, notes, internal
    /// parts), read by the requester: only the allow-listed keys, staff as "help desk".
    @Test(.freshDatabase) func theRequesterReadsThePublicTrailThroughAnAllowListPerEventType() async throws {
        try await withIntake { http, db in
            let opened = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let agent = "agent:\(UUID().uuidString.lowercased())"
            let staffData: JSONValue = [
                "message": "Hello", "reason": "needs network access", "note": "between us", "handOff": ["tried": "restart"], "fromTier": 1, "toTier": 2,
                "vendorId": .string(UUID().uuidString), "agentId": .string(UUID().uuidString), "from": .string(agent), "to": .string(agent),
                "internal": ["explanation": "rule 4"], "resolution": "Fixed", "code": "fixed", "on": "customer", "channel": "web",
            ]
            try await db.client.transaction(logger: db.logger) { connection in
                for type in EventType.allCases {
                    try await db.store.record(
                        EventDraft(type: type, actor: agent, data: staffData), ticketID: opened.id, on: connection, now: Date(), logger: db.logger)
                }
            }
            try await db.client.execute("UPDATE tickets SET assignee_id = \(UUID()) WHERE id = \(opened.id)", logger: db.logger)
            let view = try await http.send(.get, "/v1/tickets/\(opened.id)", token: opened.requesterToken).decode(TicketDetail.self)
            #expect(view.ticket.assigneeId == nil && view.ticket.channelDetails.isEmpty && view.ticket.metadata.isEmpty)
            let shownTypes = Set(view.events.map(\.type))
            for type in EventType.allCases {
                #expect(shownTypes.contains(type) == (RequesterView.allowedKeys(type) != nil), "\(type.rawValue) shown only when allow-listed")
            }
            for event in view.events {
                let keys = Set(event.data.objectKeys)
                #expect(keys.isSubset(of: RequesterView.allowedKeys(event.type) ?? []), "\(event.type.rawValue) shows \(keys)")
                #expect(event.actor == RequesterView.helpDesk || event.actor == "requester")
                #expect(!String(describing: event.data).contains("agent:"))
            }
            #expect(view.events.first { $0.type == .ticketEscalated }?.data == ["toTier": 2], "no reason, hand-off or vendor for the requester")
        }
    }

    @Test(.freshDatabase) func aPublicArticleNamesNoTicketAndNoAgent() async throws {
        try await withIntake { http, db in
            let ticket = try await db.queued()
            let author = UUID()
            let id = try #require(
                try await KnowledgeBaseStore().publish(
                    CreateArticleRequest(title: "VPN fix", body: "Reinstall."), sourceTicketID: ticket.id, authorLevel: .specialist, authorAgentID: author,
                    on: db.client, now: Date(), logger: db.logger))
            let anonymous = String(buffer: try await http.send(.get, "/v1/kb/articles/\(id)").body)
            #expect(!anonymous.contains("sourceTicketId") && !anonymous.contains("authorAgentId") && !anonymous.contains(author.uuidString.lowercased()))
            let staff = try await http.send(.get, "/v1/kb/articles/\(id)", token: Self.admin).decode(Article.self)
            #expect(staff.sourceTicketId == ticket.id && staff.authorAgentId == author)
        }
    }

    func mail(from: String, subject: String, deliveredTo: String? = nil, authentication: MailAuthentication? = nil) -> InboundEmail {
        InboundEmail(
            from: from, to: "it@example.com", deliveredTo: deliveredTo, subject: subject, text: "More on this (\(UUID())).",
            messageId: "<\(UUID())@mail.example>",
            authentication: authentication)
    }

    func inbound(_ http: any TestClientProtocol, _ mail: InboundEmail) async throws -> InboundEmailResult {
        try await http.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: mail).decode(InboundEmailResult.self)
    }

    /// The attack: a mail with an agent's address in `From` and the ticket's `[TD-n]` became a public
    /// comment in that agent's name. Mail never acts as an agent, and `From` proves nothing.
    @Test(.freshDatabase) func mailNeverImpersonatesAndThreadsOnlyByProof() async throws {
        try await withIntake { http, db in
            let agent = AgentIdentity.fixture()
            _ = try await db.agentToken(agent)
            let opened = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let tag = "Re: [\(opened.reference)] VPN"
            let forged = try await inbound(http, mail(from: "agent-\(agent.id.uuidString.lowercased())@example.com", subject: tag))
            #expect(forged.outcome == .created && forged.ticketId != opened.id, "an agent's address opens a new ticket")
            let unproven = try await inbound(http, mail(from: "Dana <dana@example.com>", subject: tag))
            #expect(unproven.outcome == .created, "the requester's address without authentication proves nothing")
            let failed = try await inbound(http, mail(from: "dana@example.com", subject: tag, authentication: MailAuthentication(spf: "pass", dmarc: "fail")))
            #expect(failed.outcome == .created)
            let proven = try await inbound(http, mail(from: "dana@example.com", subject: tag, authentication: MailAuthentication(dmarc: "pass")))
            #expect(proven.outcome == .threaded && proven.ticketId == opened.id, "DMARC passed for the requester's own address")
            let address = ReplyAddress(secret: TestCredentials.secret).make(ticketID: opened.id, domain: "reply.example.com")
            let replied = try await inbound(http, mail(from: "someone@elsewhere.example", subject: "Re: VPN", deliveredTo: address.uppercased()))
            #expect(replied.outcome == .threaded && replied.ticketId == opened.id, "the reply address carries its own proof, in any case")
            let altered = address.replacingOccurrences(of: ".", with: ".0", options: [], range: address.range(of: "."))
            let refused = try await inbound(http, mail(from: "someone@elsewhere.example", subject: "Re: VPN", deliveredTo: altered))
            #expect(refused.outcome == .created, "an altered MAC is no reply address")
            let trail = try await db.store.events(of: opened.id, publicOnly: false, on: db.client, logger: db.logger)
            #expect(trail.allSatisfy { !$0.actor.hasPrefix("agent:") }, "no mail wrote as an agent")
            #expect(trail.filter { $0.type == .ticketCommented }.count == 2)
        }
    }

    /// A predictable key (an alert id) would let anybody who guesses it and the body fetch the replay and its token.
    @Test(.freshDatabase) func anAnonymousIdempotencyKeyMustBeUnguessable() async throws {
        try await withIntake { http, db in
            let guessable: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "alert-4711"]
            let refused = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: guessable)
            #expect(try refused.status == .unprocessableContent && refused.problem().errors?.first?.field == "Idempotency-Key")
            #expect(try await db.count("tickets") == 0)
            let random: HTTPFields = [HTTPField.Name("Idempotency-Key")!: Secrets.base64URL(Secrets.randomBytes(24))]
            #expect(try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: random).status == .created)
            let agent = try await db.agentToken(.fixture())
            #expect(
                try await http.send(.post, "/v1/tickets", token: agent, json: SubmitTicketRequest.fixture(subject: "Other"), headers: guessable).status
                    == .created, "a key scoped to an authenticated caller may be any key")
        }
    }

    @Test(.freshDatabase) func aTicketTakesABoundedNumberOfReplies() async throws {
        try await withIntake { http, db in
            let opened = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            try await db.client.execute(
                """
                INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
                SELECT gen_random_uuid(), \(opened.id), 'ticket.commented', 'requester:x', true, '{}', now() FROM generate_series(1, 500)
                """, logger: db.logger)
            let reply = try await http.send(.post, "/v1/tickets/\(opened.id)/replies", token: opened.requesterToken, json: CommentRequest(message: "One more"))
            #expect(try reply.status == .conflict && reply.problem().type.hasSuffix("too-many-replies"))
        }
    }

    @Test(.freshDatabase) func votesComeFromRequestersAnAgentServed() async throws {
        try await withIntake { http, db in
            let article = try #require(
                try await KnowledgeBaseStore().publish(
                    CreateArticleRequest(title: "Printer", body: "Power cycle."), on: db.client, now: Date(), logger: db.logger))
            let opened = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let vote = { try await http.send(.post, "/v1/kb/articles/\(article)/votes", token: opened.requesterToken, json: VoteRequest(helpful: true)) }
            #expect(try await vote().status == .forbidden, "filing a ticket is not enough to vote")
            try await db.client.transaction(logger: db.logger) { connection in
                try await db.store.record(
                    EventDraft(type: .ticketCommented, actor: "agent:\(UUID().uuidString.lowercased())", data: ["message": "On it"]), ticketID: opened.id,
                    on: connection, now: Date(), logger: db.logger)
            }
            #expect(try await vote().status == .ok)
        }
    }
}

extension JSONValue {
    /// An object's keys; none for anything else.
    var objectKeys: [String] {
        if case .object(let members) = self { return Array(members.keys) }
        return []
    }
}
