import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeApp
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// Each attack the security review reproduced against intake (issue 11), now refused.
@Suite struct SecurityTests {
    static let key = HTTPField.Name("Idempotency-Key")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func withIntake(
        _ environment: [String: String] = [:], clock: any WallClock = SystemClock(),
        _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(environment: environment, { try await IntakeApp.buildApplication(reader: $0, clock: clock) }) { http in
                try await test(http, StoreFixture(client: client))
            }
        }
    }

    /// 1. Knowing a colleague's email and a common subject used to hand out their token.
    @Test(.freshDatabase) func aDuplicateSubmissionNeverCarriesTheToken() async throws {
        try await withIntake { http, db in
            let victim = SubmitTicketRequest.fixture(email: "dana@example.com", subject: "Password reset", description: "Please reset my password.")
            let first = try await http.send(.post, "/v1/tickets", json: victim)
            #expect(first.status == .created)
            let created = try first.decode(SubmitTicketResponse.self)
            #expect(created.requesterToken != nil && created.duplicate == nil)
            let attack = try await http.send(.post, "/v1/tickets", json: victim)
            #expect(attack.status == .ok)
            let duplicate = try attack.decode(SubmitTicketResponse.self)
            #expect(duplicate.id == created.id && duplicate.duplicate == true && duplicate.requesterToken == nil)
            #expect(!String(buffer: attack.body).contains("tdr_"))
            #expect(try await db.count("tickets") == 1)
            // The token still opens the ticket for its holder.
            #expect(try await http.send(.get, "/v1/tickets/\(created.id)", token: created.requesterToken).status == .ok)
        }
    }

    /// 2. Stored idempotent answers kept the token in plain text for a day.
    @Test(.freshDatabase) func idempotentReplaysDeriveTheTokenInsteadOfStoringIt() async throws {
        try await withIntake { http, db in
            let headers: HTTPFields = [Self.key: "k-\(UUID())"]
            let first = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: headers).decode(SubmitTicketResponse.self)
            let token = try #require(first.requesterToken)
            let stored = try await db.client.all("SELECT response_body FROM idempotency_keys", logger: db.logger) {
                try $0.get("response_body", as: String.self)
            }
            #expect(stored.count == 1 && !stored[0].contains(token) && !stored[0].contains("tdr_"))
            let replay = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(), headers: headers)
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try replay.decode(SubmitTicketResponse.self).requesterToken == token)
        }
    }

    /// 3. An anonymous submission planted its own phone number on someone else's profile.
    @Test(.freshDatabase) func onlyAgentsAndTheAdminChangeAProfile() async throws {
        try await withIntake { http, db in
            var genuine = SubmitTicketRequest.fixture(email: "dana@example.com")
            genuine.requester.phone = "+41 44 111 11 11"
            let ticket = try await http.send(.post, "/v1/tickets", json: genuine).decode(SubmitTicketResponse.self)
            var attack = SubmitTicketRequest.fixture(email: "DANA@example.com", subject: "Call me to verify")
            attack.requester = RequesterInput(email: "DANA@example.com", name: "Mallory", phone: "+1 555 0100", organization: "Evil Inc")
            let planted = try await http.send(.post, "/v1/tickets", json: attack).decode(SubmitTicketResponse.self)
            let mail = InboundEmail(from: "Not Dana <dana@example.com>", to: "it@example.com", subject: "Printer", text: "Jams.", messageId: "<m1@x>")
            #expect(try await http.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: mail).status == .created)
            let stored = try #require(try await db.store.find(planted.id, on: db.client, logger: db.logger))
            #expect(stored.requester.name == "Dana Example" && stored.requester.phone == "+41 44 111 11 11" && stored.requester.organization == nil)
            // What the submission said is kept on its ticket, for the agent to weigh.
            #expect(stored.channelDetails["contact"] == ["name": "Mallory", "phone": "+1 555 0100", "organization": "Evil Inc"])

            // Only an agent who may read one of the requester's tickets, or the admin, edits the profile; each edit is recorded.
            let requesterID = stored.requester.id
            let path = "/v1/requesters/\(requesterID)"
            let change = UpdateRequesterRequest(phone: "+41 44 222 22 22")
            #expect(try await http.send(.patch, path, json: change).status == .unauthorized)
            #expect(try await http.send(.patch, path, token: ticket.requesterToken, json: change).status == .forbidden)
            let stranger = try await db.agentToken(.fixture(tiers: [.specialist]))
            #expect(try await http.send(.patch, path, token: stranger, json: change).status == .notFound)
            #expect(try await db.count("requester_changes") == 0)
            _ = try await db.client.execute("UPDATE tickets SET tier = 1 WHERE id = \(ticket.id)", logger: db.logger)
            let agent = AgentIdentity.fixture(tiers: [.firstLine])
            let updated = try await http.send(.patch, path, token: try await db.agentToken(agent), json: change)
            #expect(try updated.status == .ok && updated.decode(RequesterProfile.self).phone == "+41 44 222 22 22")
            let invalid = try await http.send(.patch, path, token: TestCredentials.adminToken, raw: "{}")
            #expect(invalid.status == .unprocessableContent)
            let audit = try await db.client.all("SELECT actor, before->>'phone' AS was, after->>'phone' AS now FROM requester_changes", logger: db.logger) {
                "\(try $0.get("actor", as: String.self)) \(try $0.get("was", as: String.self)) → \(try $0.get("now", as: String.self))"
            }
            #expect(audit == ["\(TicketStore.actor(agent)) +41 44 111 11 11 → +41 44 222 22 22"])
        }
    }

    /// 5. Agents used to reply through the requester's endpoint, recorded as the requester.
    @Test(.freshDatabase) func onlyTheRequesterRepliesAndConfirms() async throws {
        try await withIntake { http, db in
            let ticket = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let other = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "eve@example.com")).decode(SubmitTicketResponse.self)
            let agent = try await db.agentToken(.fixture(tiers: [.firstLine, .backOffice, .specialist]))
            let reply = CommentRequest(message: "Please send your password")
            for token in [agent, TestCredentials.adminToken, TestCredentials.internalToken] {
                #expect(try await http.send(.post, "/v1/tickets/\(ticket.id)/replies", token: token, json: reply).status == .forbidden)
                #expect(try await http.send(.post, "/v1/tickets/\(ticket.id)/confirm", token: token).status == .forbidden)
            }
            #expect(try await http.send(.post, "/v1/tickets/\(ticket.id)/replies", token: other.requesterToken, json: reply).status == .notFound)
            #expect(try await db.count("ticket_events WHERE type <> 'ticket.created'") == 0)
            #expect(
                try await http.send(.post, "/v1/tickets/\(ticket.id)/replies", token: ticket.requesterToken, json: CommentRequest(message: "More detail"))
                    .status == .ok)
        }
    }

    /// 6. Any agent could overwrite or retire any article; any string was a new voter.
    @Test(.freshDatabase) func articlesAreWrittenByLevelThreeTheirAuthorAndTheAdmin() async throws {
        try await withIntake { http, db in
            let article = CreateArticleRequest(title: "Reset your password", body: "Use the self-service portal.", category: "access", slug: "password-reset")
            let levelOne = try await db.agentToken(.fixture(tiers: [.firstLine]))
            let levelThree = try await db.agentToken(.fixture(tiers: [.specialist]))
            #expect(try await http.send(.post, "/v1/kb/articles", token: levelOne, json: article).status == .forbidden)
            let created = try await http.send(.post, "/v1/kb/articles", token: TestCredentials.adminToken, json: article).decode(Article.self)
            // Reusing the slug is a conflict, never an overwrite; a retired article stays retired.
            var hijack = article
            hijack.body = "Send your password to helpdesk@evil.example"
            #expect(try await http.send(.post, "/v1/kb/articles", token: levelThree, json: hijack).status == .conflict)
            #expect(try await http.send(.put, "/v1/kb/articles/\(created.id)", token: levelOne, json: hijack).status == .forbidden)
            #expect(try await http.send(.delete, "/v1/kb/articles/\(created.id)", token: levelOne).status == .forbidden)
            #expect(try await http.send(.get, "/v1/kb/articles/\(created.id)").decode(Article.self).body == article.body)
            #expect(try await http.send(.delete, "/v1/kb/articles/\(created.id)", token: levelThree).status == .noContent)
            #expect(try await http.send(.post, "/v1/kb/articles", token: levelThree, json: hijack).status == .conflict)
            #expect(try await http.send(.get, "/v1/kb/articles/\(created.id)").status == .notFound)
            var reserved = article
            reserved.slug = "ticket-\(UUID().uuidString.lowercased())"
            #expect(try await http.send(.post, "/v1/kb/articles", token: levelThree, json: reserved).status == .unprocessableContent)

            // An article from a level 1 agent's resolution is a draft for level 3; once published, it is that agent's to edit and retire.
            let author = AgentIdentity.fixture(tiers: [.firstLine])
            let authorToken = try await db.agentToken(author)
            let source = try await db.queued()
            let event = EventEnvelope(
                type: .kbPublished, ticketId: source.id, occurredAt: Date(),
                data: ["title": "Printer offline", "body": "Power-cycle it.", "authorLevel": 1, "authorAgentId": .string(author.id.uuidString.lowercased())])
            #expect(try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event).status == .ok)
            let published = try #require(
                try await db.client.first("SELECT id FROM kb_articles WHERE source_ticket_id = \(source.id)", logger: db.logger) {
                    try $0.get("id", as: UUID.self)
                })
            #expect(try await http.send(.get, "/v1/kb/articles/\(published)").status == .notFound, "a draft is not public")
            #expect(try await http.send(.post, "/v1/kb/articles/\(published)/publish", token: levelOne).status == .forbidden)
            let drafts = try await http.send(.get, "/v1/kb/drafts", token: levelThree).decode(Page<Article>.self)
            #expect(drafts.items.map(\.id) == [published] && drafts.items[0].status == .draft)
            #expect(try await http.send(.post, "/v1/kb/articles/\(published)/publish", token: levelThree).decode(Article.self).status == .published)
            #expect(try await http.send(.post, "/v1/kb/articles/\(published)/publish", token: levelThree).status == .notFound, "published once")
            var edit = CreateArticleRequest(title: "Printer offline", body: "Power-cycle it, then re-add it.")
            #expect(try await http.send(.put, "/v1/kb/articles/\(published)", token: levelOne, json: edit).status == .forbidden)
            #expect(try await http.send(.put, "/v1/kb/articles/\(published)", token: authorToken, json: edit).decode(Article.self).body == edit.body)
            edit.slug = "password-reset"
            #expect(try await http.send(.put, "/v1/kb/articles/\(published)", token: authorToken, json: edit).status == .conflict)
            #expect(try await http.send(.delete, "/v1/kb/articles/\(published)", token: authorToken).status == .noContent)

            // Votes: a served requester or an agent, once per person; nothing else counts.
            let target = try await http.send(.post, "/v1/kb/articles", token: levelThree, json: CreateArticleRequest(title: "VPN", body: "Reconnect.")).decode(
                Article.self)
            let votes = "/v1/kb/articles/\(target.id)/votes"
            #expect(try await http.send(.post, votes, json: VoteRequest(helpful: true)).status == .unauthorized)
            for forged in ["tdr_" + String(repeating: "A", count: 64), "tdr_\(UUID())", "tdr_x", "anything"] {
                #expect(try await http.send(.post, votes, token: forged, json: VoteRequest(helpful: true)).status == .unauthorized)
            }
            #expect(try await http.send(.post, votes, token: TestCredentials.adminToken, json: VoteRequest(helpful: true)).status == .forbidden)
            let one = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "sam@example.com", subject: "One")).decode(
                SubmitTicketResponse.self)
            let two = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "sam@example.com", subject: "Two")).decode(
                SubmitTicketResponse.self)
            try await db.client.execute(
                "INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at) VALUES (\(UUID()), \(one.id), 'ticket.claimed', \("agent:\(UUID())"), true, '{}', now())",
                logger: db.logger)
            for token in [one.requesterToken, two.requesterToken, one.requesterToken] {
                _ = try await http.send(.post, votes, token: token, json: VoteRequest(helpful: true))
            }
            #expect(try await http.send(.get, "/v1/kb/articles/\(target.id)").decode(Article.self).helpful == 1, "one person, one vote")
        }
    }

    /// 7. The mail gateway used the admin token, and threading trusted In-Reply-To from anyone; then
    /// an agent's address in `From` posted as that agent. Mail threads only by proof, never as an agent.
    @Test(.freshDatabase) func mailThreadsOnlyByProofAndNeverAsAnAgent() async throws {
        try await withIntake { http, db in
            let gateway = TestCredentials.mailGatewayToken
            let passed = MailAuthentication(spf: "pass", dkim: "pass", dmarc: "pass")
            func mail(_ id: String, from: String, inReplyTo: String? = nil, authentication: MailAuthentication? = nil) -> InboundEmail {
                InboundEmail(
                    from: from, to: "it@example.com", subject: "Re: Printer", text: "Text of \(id)", messageId: id, inReplyTo: inReplyTo,
                    authentication: authentication)
            }
            let opened = try await http.send(.post, "/v1/inbound/email", token: gateway, json: mail("<o@x>", from: "dana@example.com")).decode(
                InboundEmailResult.self)
            // The gateway's token opens nothing else.
            let openedID = try #require(opened.ticketId)
            #expect(try await http.send(.get, "/v1/tickets/\(openedID)", token: gateway).status == .forbidden)
            #expect(try await http.send(.post, "/v1/tickets", token: gateway, json: SubmitTicketRequest.fixture()).status == .forbidden)
            #expect(try await http.send(.get, "/v1/admin/dead-letters", token: gateway).status == .forbidden)
            // A stranger quoting the Message-ID gets a ticket of their own, even authenticated.
            let stranger = try await http.send(
                .post, "/v1/inbound/email", token: gateway, json: mail("<s@x>", from: "eve@example.com", inReplyTo: "<o@x>", authentication: passed)
            ).decode(InboundEmailResult.self)
            #expect(stranger.outcome == .created && stranger.ticketId != opened.ticketId)
            // An agent who may read the ticket gets a ticket of their own too: mail never writes as an agent.
            _ = try await db.client.execute("UPDATE tickets SET tier = 1 WHERE id = \(opened.ticketId)", logger: db.logger)
            let insider = AgentIdentity.fixture(tiers: [.firstLine])
            _ = try await db.agentToken(insider)
            let insiderMail = try await http.send(
                .post, "/v1/inbound/email", token: gateway,
                json: mail("<i@x>", from: "Agent <agent-\(insider.id.uuidString.lowercased())@example.com>", inReplyTo: "<o@x>", authentication: passed))
            #expect(try insiderMail.decode(InboundEmailResult.self).outcome == .created)
            // The requester threads only with DMARC passed.
            let unproven = try await http.send(.post, "/v1/inbound/email", token: gateway, json: mail("<u@x>", from: "DANA@example.com", inReplyTo: "<o@x>"))
            #expect(try unproven.decode(InboundEmailResult.self).ticketId != opened.ticketId)
            let requesterReply = try await http.send(
                .post, "/v1/inbound/email", token: gateway, json: mail("<r@x>", from: "DANA@example.com", inReplyTo: "<o@x>", authentication: passed))
            #expect(try requesterReply.decode(InboundEmailResult.self).ticketId == opened.ticketId)
            let actors = try await db.client.all("SELECT actor FROM ticket_events WHERE ticket_id = \(opened.ticketId) ORDER BY seq", logger: db.logger) {
                try $0.get("actor", as: String.self)
            }
            #expect(actors.count == 2 && actors.allSatisfy { $0.hasPrefix("requester:") })
        }
    }

    /// 8. Every bogus token cost a query, and nothing limited them. (Issue 23, item 8: the limit
    /// refuses the address's unknown tokens without a lookup, never a valid token.)
    @Test(.freshDatabase) func failedAuthenticationIsLimitedPerAddress() async throws {
        try await withIntake(["TIERDESK_AUTH_FAILURES_PER_MINUTE": "3"]) { http, db in
            let agent = try await db.agentToken(.fixture())
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn", token: agent).status == .ok)
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn", token: TestCredentials.adminToken).status == .ok)
            for bogus in ["tda_" + String(repeating: "A", count: 43), "tdv_nope", "Basic"] {
                #expect(
                    try await http.send(.get, "/v1/kb/search?q=vpn", headers: [.authorization: bogus == "Basic" ? "Basic abc" : "Bearer \(bogus)"]).status
                        == .unauthorized)
            }
            let blocked = try await http.send(.get, "/v1/kb/search?q=vpn", token: "tda_" + String(repeating: "B", count: 43))
            #expect(blocked.status == .tooManyRequests && Int(blocked.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // A client cannot pose as another address: the header of an untrusted peer is ignored.
            #expect(
                try await http.send(
                    .get, "/v1/kb/search?q=vpn", token: "tda_" + String(repeating: "C", count: 43), headers: [Self.forwardedFor: "203.0.113.9"]
                ).status == .tooManyRequests)
            // Valid tokens from the throttled address go on: an administrator's and an agent's it showed
            // before, and the bootstrap token, checked against its digest without a lookup.
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn", token: TestCredentials.adminToken).status == .ok)
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn", token: TestCredentials.bootstrapToken).status == .ok)
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn", token: agent).status == .ok)
            // Without a token, public reads go on.
            #expect(try await http.send(.get, "/v1/kb/search?q=vpn").status == .ok)
        }
    }

    @Test func malformedTokensAreRefusedWithoutADatabaseQuery() async throws {
        // A client whose pool never runs: any query would wait for ever.
        let client = try DatabaseSettings(url: "postgres://nobody@127.0.0.1:9/none").makeClient(poolSize: 1, logger: TestDatabase.logger)
        let authenticator = Authenticator(
            settings: AuthSettings(bootstrapToken: TestCredentials.bootstrapToken, internalToken: TestCredentials.internalToken), client: client)
        for token in ["tda_short", "tdv_" + String(repeating: "!", count: 43), "tdi_" + String(repeating: "a", count: 43), "tdr_abc", "random", ""] {
            let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { _ = try await authenticator.principal(for: token, logger: TestDatabase.logger) } catch let problem as Problem {
                        return problem.status == 401
                    }
                    return false
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(refused, "\(token) is refused at once")
        }
    }

    /// 9. Anyone could choose their address with X-Forwarded-For.
    @Test(.freshDatabase) func forwardedForCountsOnlyFromTrustedProxies() async throws {
        try await withIntake(["TIERDESK_RATE_LIMIT_PER_MINUTE": "2"]) { http, _ in
            for hop in ["198.51.100.1", "198.51.100.2"] { _ = try await http.send(.get, "/v1/kb/search?q=a", headers: [Self.forwardedFor: hop]) }
            #expect(try await http.send(.get, "/v1/kb/search?q=a", headers: [Self.forwardedFor: "198.51.100.3"]).status == .tooManyRequests)
        }
        try await withIntake(["TIERDESK_RATE_LIMIT_PER_MINUTE": "2", "TIERDESK_TRUSTED_PROXIES": "127.0.0.0/8, ::1"]) { http, _ in
            for _ in 0..<2 { _ = try await http.send(.get, "/v1/kb/search?q=a", headers: [Self.forwardedFor: "198.51.100.1"]) }
            #expect(try await http.send(.get, "/v1/kb/search?q=a", headers: [Self.forwardedFor: "198.51.100.1"]).status == .tooManyRequests)
            // Behind the trusted proxy, the right-most untrusted hop is the client: a spoofed left hop changes nothing.
            #expect(try await http.send(.get, "/v1/kb/search?q=a", headers: [Self.forwardedFor: "10.9.9.9, 198.51.100.1"]).status == .tooManyRequests)
            #expect(try await http.send(.get, "/v1/kb/search?q=a", headers: [Self.forwardedFor: "198.51.100.2"]).status == .ok)
        }
    }

    /// 10. The internal token made intake act on any event type.
    @Test(.freshDatabase) func intakeRefusesEventsItDoesNotConsume() async throws {
        try await withIntake { http, db in
            let ticket = try await db.queued()
            for type in [EventType.ticketClaimed, .ticketEscalated, .slaBreached] {
                let event = EventEnvelope(type: type, ticketId: ticket.id, occurredAt: Date(), data: [:])
                let refused = try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event)
                let result = try refused.decode(EventBatchResult.self).results
                #expect(result.map(\.status) == [.rejected] && result[0].reason?.contains("does not consume \(type.rawValue)") == true)
            }
            #expect(try await db.count("inbox") == 0)
        }
    }

    /// 11 (requesters) and 12. A requester token revoked by the admin; integration keys.
    @Test(.freshDatabase) func revokedTokensAndIntegrationKeysStopWorkingWithinTheCacheLifetime() async throws {
        let clock = ManualClock(Date())
        try await withIntake(clock: clock) { http, db in
            let ticket = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let path = "/v1/tickets/\(ticket.id)"
            #expect(try await http.send(.get, path, token: ticket.requesterToken).status == .ok)
            #expect(try await http.send(.post, path + "/requester-token", token: ticket.requesterToken).status == .forbidden)
            let rotated = try await http.send(.post, path + "/requester-token", token: TestCredentials.adminToken).decode(RequesterTokenResponse.self)
            #expect(rotated.requesterToken != ticket.requesterToken)
            #expect(try await http.send(.get, path, token: rotated.requesterToken).status == .ok)
            #expect(try await http.send(.post, "/v1/tickets/\(UUID())/requester-token", token: TestCredentials.adminToken).status == .notFound)

            // Integrations: created by the admin, shown once, hashed, limited per key, identifiable on every ticket.
            let request = CreateIntegrationRequest(name: "Zabbix", channels: [.api], ratePerMinute: 2)
            #expect(try await http.send(.post, "/v1/integrations", token: try await db.agentToken(.fixture()), json: request).status == .forbidden)
            let integration = try await http.send(.post, "/v1/integrations", token: TestCredentials.adminToken, json: request).decode(Integration.self)
            let key = try #require(integration.key)
            #expect(key.hasPrefix("tdi_"))
            let hash = try await db.client.first("SELECT key_hash FROM integrations", logger: db.logger) { try $0.get("key_hash", as: Data.self) }
            #expect(hash == Secrets.hash(key))
            #expect(try await http.send(.post, "/v1/integrations", token: TestCredentials.adminToken, json: request).status == .conflict)
            let listed = try await http.send(.get, "/v1/integrations", token: TestCredentials.adminToken).decode(Page<Integration>.self)
            #expect(listed.items.map(\.name) == ["Zabbix"] && listed.items[0].key == nil)
            let alert = SubmitTicketRequest.fixture(email: "monitoring@example.com", channel: .api, subject: "Disk full on db-3")
            let opened = try await http.send(.post, "/v1/tickets", token: key, json: alert).decode(SubmitTicketResponse.self)
            let stored = try #require(try await db.store.find(opened.id, on: db.client, logger: db.logger))
            #expect(stored.channelDetails["integration"]?["name"]?.stringValue == "Zabbix")
            let actor = try await db.client.first("SELECT actor FROM ticket_events WHERE ticket_id = \(opened.id)", logger: db.logger) {
                try $0.get("actor", as: String.self)
            }
            #expect(actor == "integration:\(integration.id.uuidString.lowercased())")
            #expect(try await http.send(.post, "/v1/tickets", token: key, json: SubmitTicketRequest.fixture(channel: .web)).status == .forbidden)
            _ = try await http.send(
                .post, "/v1/tickets", token: key, json: SubmitTicketRequest.fixture(email: "monitoring@example.com", channel: .api, subject: "CPU high"))
            #expect(
                try await http.send(.post, "/v1/tickets", token: key, json: SubmitTicketRequest.fixture(channel: .api, subject: "Third")).status
                    == .tooManyRequests)
            #expect(try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(subject: "Anonymous is limited apart")).status == .created)
            #expect(try await http.send(.delete, "/v1/integrations/\(integration.id)", token: TestCredentials.adminToken).status == .noContent)
            #expect(try await http.send(.delete, "/v1/integrations/\(integration.id)", token: TestCredentials.adminToken).status == .notFound)

            // Revoked on this replica's cache lifetime (5 s), as on every other.
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, path, token: ticket.requesterToken).status == .unauthorized)
            #expect(try await http.send(.get, path, token: rotated.requesterToken).status == .ok)
            #expect(try await http.send(.post, "/v1/tickets", token: key, json: alert).status == .unauthorized)
        }
    }
}
