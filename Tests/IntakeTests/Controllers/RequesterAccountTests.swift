import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeApp
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// A requester's own tickets (issue 25, item 6) and the satisfaction question (item 5), against
/// the running intake and a real PostgreSQL: a single-use link by mail, hashed at rest and good for
/// 15 minutes; a session that reads all of that requester's tickets and nobody else's; one answer
/// per resolved ticket, changeable for 7 days; the reports over the answers.
@Suite struct RequesterAccountTests {
    func withIntake(
        clock: ManualClock = ManualClock(Date()), _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture, ManualClock) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(
                environment: ["TIERDESK_PUBLIC_URL": "https://help.example.com", "TIERDESK_MAIL_REPLY_DOMAIN": "help.example.com"],
                { try await IntakeApp.buildApplication(reader: $0, clock: clock) }
            ) { http in try await test(http, StoreFixture(client: client), clock) }
        }
    }

    /// The keys of the sign-in mails sent to `email`, oldest first, read from the mail outbox the way
    /// the requester reads the mail: from the link in its text.
    func mailedKeys(_ db: StoreFixture, to email: String) async throws -> [String] {
        let texts = try await db.client.all(
            "SELECT mail->>'text' AS text FROM mail_outbox WHERE kind = 'sign_in' AND recipient = \(email) ORDER BY created_at, id", logger: db.logger
        ) { try $0.get("text", as: String.self) }
        return try texts.map { text in
            let match = try #require(text.firstMatch(of: /https:\/\/help\.example\.com\/sign-in#token=([A-Za-z0-9_-]+)/))
            return String(match.output.1)
        }
    }

    func signIn(_ http: any TestClientProtocol, _ db: StoreFixture, email: String) async throws -> RequesterSession {
        #expect(try await http.send(.post, "/v1/requester-sign-in", json: SignInLinkRequest(email: email)).status == .accepted)
        let key = try #require(try await mailedKeys(db, to: email).last)
        let answer = try await http.send(.post, "/v1/requester-sessions", json: RequesterSessionRequest(key: key))
        #expect(answer.status == .created)
        return try answer.decode(RequesterSession.self)
    }

    @Test(.freshDatabase) func aRequesterSignsInOnceByAMailedLinkAndReadsAllTheirTicketsAndNobodyElses() async throws {
        try await withIntake { http, db, clock in
            var filed: [SubmitTicketResponse] = []
            for subject in ["VPN drops", "Printer jams"] {
                filed.append(
                    try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "ana@example.com", subject: subject)).decode())
                clock.advance(by: 60)
            }
            let other = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "bo@example.com")).decode(
                SubmitTicketResponse.self)

            // An unknown address gets the same answer and no mail.
            #expect(try await http.send(.post, "/v1/requester-sign-in", json: SignInLinkRequest(email: "nobody@example.com")).status == .accepted)
            #expect(try await db.count("mail_outbox") == 0)
            #expect(try await db.count("requester_sign_in_links") == 0)

            #expect(try await http.send(.post, "/v1/requester-sign-in", json: SignInLinkRequest(email: " ANA@Example.com ")).status == .accepted)
            let key = try #require(try await mailedKeys(db, to: "ana@example.com").first)
            let mail = try #require(
                try await db.client.first("SELECT mail::text AS mail FROM mail_outbox", logger: db.logger) { try $0.get("mail", as: String.self) })
            let sent = try JSONCoding.decoder.decode(OutgoingMail.self, from: Data(mail.utf8))
            #expect(sent.headers.contains(OutgoingMail.Header("Auto-Submitted", "auto-generated")) && sent.messageID.hasSuffix("@help.example.com>"))
            #expect(sent.html?.contains("href=\"https://help.example.com/sign-in#token=\(key)\"") == true)
            // Only the key's hash rests in the database.
            let stored = try await db.client.all("SELECT key_hash FROM requester_sign_in_links", logger: db.logger) { try $0.get("key_hash", as: Data.self) }
            #expect(stored == [Secrets.hash(key)])

            let answer = try await http.send(.post, "/v1/requester-sessions", json: RequesterSessionRequest(key: key))
            #expect(answer.status == .created)
            let session = try answer.decode(RequesterSession.self)
            #expect(session.token.hasPrefix("tdp_") && session.email == "ana@example.com")
            let again = try await http.send(.post, "/v1/requester-sessions", json: RequesterSessionRequest(key: key))
            #expect(again.status == .unauthorized, "a link works once")
            #expect(try again.problem().type.hasSuffix("sign-in-link-invalid"))
            let verified = try await db.client.first(
                "SELECT email_verified_at FROM requesters WHERE email_normalized = 'ana@example.com'", logger: db.logger
            ) { try $0.get("email_verified_at", as: Date?.self) }
            #expect(abs(try #require(verified ?? nil).timeIntervalSince(clock.now())) < 0.001, "the sign-in verified the address")

            let mine = try await http.send(.get, "/v1/me/tickets", token: session.token).decode(Page<RequesterTicketSummary>.self)
            #expect(mine.items.map(\.id) == filed.reversed().map(\.id) && mine.nextCursor == nil, "theirs, newest first")
            let first = try await http.send(.get, "/v1/me/tickets?limit=1", token: session.token).decode(Page<RequesterTicketSummary>.self)
            let cursor = try #require(first.nextCursor)
            let second = try await http.send(.get, "/v1/me/tickets?limit=1&cursor=\(cursor)", token: session.token).decode(
                Page<RequesterTicketSummary>.self)
            #expect(first.items.map(\.id) + second.items.map(\.id) == filed.reversed().map(\.id))

            let detail = try await http.send(.get, "/v1/tickets/\(filed[0].id)", token: session.token).decode(TicketDetail.self)
            #expect(detail.ticket.assigneeId == nil && detail.events.allSatisfy { RequesterView.allowedKeys($0.type) != nil }, "the requester's view")
            #expect(try await http.send(.get, "/v1/tickets/\(other.id)", token: session.token).status == .notFound)
            let reply = CommentRequest(message: "More detail")
            #expect(try await http.send(.post, "/v1/tickets/\(filed[1].id)/replies", token: session.token, json: reply).status == .ok)
            #expect(try await http.send(.post, "/v1/tickets/\(other.id)/replies", token: session.token, json: reply).status == .notFound)
            #expect(try await http.send(.get, "/v1/me/tickets", token: other.requesterToken).status == .forbidden, "a ticket's link is not a sign-in")

            #expect(try await http.send(.delete, "/v1/requester-sessions/current", token: session.token).status == .noContent)
            clock.advance(by: 6)  // past the authenticator's 5 s memory of the token
            #expect(try await http.send(.get, "/v1/me/tickets", token: session.token).status == .unauthorized)
        }
    }

    @Test(.freshDatabase) func aLinkLastsFifteenMinutesAndOpenLinksAreFew() async throws {
        try await withIntake { http, db, clock in
            _ = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "cy@example.com"))
            for _ in 0..<5 { _ = try await http.send(.post, "/v1/requester-sign-in", json: SignInLinkRequest(email: "cy@example.com")) }
            let keys = try await mailedKeys(db, to: "cy@example.com")
            #expect(keys.count == RequesterAccountStore.maxOpenLinks, "more requests while links are open mail nothing")
            clock.advance(by: RequesterAccountStore.linkLifetime)
            let late = try await http.send(.post, "/v1/requester-sessions", json: RequesterSessionRequest(key: keys[0]))
            #expect(late.status == .unauthorized, "15 minutes and it is gone")
            #expect(try await db.count("requester_sessions") == 0)
            _ = try await http.send(.post, "/v1/requester-sign-in", json: SignInLinkRequest(email: "cy@example.com"))
            #expect(try await mailedKeys(db, to: "cy@example.com").count == keys.count + 1, "expired links no longer count")
            for bad in [
                #"{"email": "not an address"}"#, #"{}"#, #"{"email": 5}"#,
            ] {
                let refused = try await http.send(.post, "/v1/requester-sign-in", raw: bad)
                #expect(refused.status == .unprocessableContent || refused.status == .badRequest, "\(bad)")
            }
            let tooLong = try await http.send(.post, "/v1/requester-sessions", json: RequesterSessionRequest(key: String(repeating: "a", count: 201)))
            #expect(tooLong.status == .unprocessableContent)
        }
    }

    @Test(.freshDatabase) func theRequesterRatesAResolvedTicketOnceAndMayChangeItForSevenDays() async throws {
        try await withIntake { http, db, clock in
            let agent = AgentIdentity.fixture(tiers: [.firstLine])
            let agentToken = try await db.agentToken(agent)
            let requester = try await db.requester("eve@example.com")
            let ticket = try await db.queued(requester: requester)
            let token = Secrets.requesterToken(ticketID: ticket.id, secret: TestCredentials.secret)
            let good = SatisfactionRequest(rating: 4, comment: "Quick, thanks")
            let early = try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: token, json: good)
            #expect(early.status == .conflict, "asked once it is resolved")
            #expect(try early.problem().type.hasSuffix("not-resolved"))
            _ = try await db.change(ticket.id) {
                $0.status = .inProgress
                $0.assigneeId = agent.id
            }
            _ = try await db.change(ticket.id) { $0.status = .resolved }

            for bad in [
                SatisfactionRequest(rating: 0), SatisfactionRequest(rating: 6), SatisfactionRequest(rating: 3, comment: String(repeating: "x", count: 2001)),
            ] {
                #expect(try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: token, json: bad).status == .unprocessableContent)
            }
            #expect(try await db.count("satisfaction_answers") == 0)
            let other = try await db.queued()
            let stranger = Secrets.requesterToken(ticketID: other.id, secret: TestCredentials.secret)
            #expect(try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: stranger, json: good).status == .notFound)
            #expect(try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: agentToken, json: good).status == .forbidden)
            #expect(try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", json: good).status == .unauthorized)

            let answered = try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: token, json: good).decode(Satisfaction.self)
            #expect(answered.rating == 4 && answered.comment == "Quick, thanks" && abs(answered.answeredAt.timeIntervalSince(clock.now())) < 0.001)
            clock.advance(by: 86_400)
            let changed = try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: token, json: SatisfactionRequest(rating: 2))
                .decode(Satisfaction.self)
            #expect(changed.rating == 2 && changed.comment == nil && changed.answeredAt == answered.answeredAt)
            #expect(try await http.send(.get, "/v1/tickets/\(ticket.id)/satisfaction", token: agentToken).decode(Satisfaction.self) == changed)
            #expect(try await http.send(.get, "/v1/tickets/\(other.id)/satisfaction", token: TestCredentials.adminToken).status == .notFound)

            clock.advance(by: Satisfaction.changeableFor)
            let late = try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: token, json: SatisfactionRequest(rating: 5))
            #expect(late.status == .conflict)
            #expect(try late.problem().type.hasSuffix("satisfaction-final"))
            #expect(try await http.send(.get, "/v1/tickets/\(ticket.id)/satisfaction", token: token).decode(Satisfaction.self).rating == 2)

            // The reports: level 3 agents and the admin.
            let from = RFC3339.format(answered.answeredAt.addingTimeInterval(-60))
            for by in SatisfactionGrouping.allCases {
                let report = try await http.send(.get, "/v1/reports/satisfaction?by=\(by.rawValue)&from=\(from)", token: TestCredentials.adminToken)
                    .decode(SatisfactionReport.self)
                #expect(report.rows.count == 1 && report.rows[0].answers == 1 && report.rows[0].averageRating == 2 && report.rows[0].goodShare == 0)
                switch by {
                case .level: #expect(report.rows[0].key == "1")
                case .agent: #expect(report.rows[0].key == agent.id.uuidString.lowercased() && report.rows[0].name == "Agent")
                case .category: #expect(report.rows[0].key == "network")
                case .vendor: #expect(report.rows[0].key == nil)
                case .week: #expect(report.rows[0].key?.count == 10)
                }
            }
            #expect(try await http.send(.get, "/v1/reports/satisfaction", token: agentToken).status == .forbidden, "level 1 sees no reports")
            let level3 = try await db.agentToken(.fixture(tiers: [.specialist]))
            #expect(try await http.send(.get, "/v1/reports/satisfaction?by=agent&from=\(from)", token: level3).status == .ok)
            #expect(try await http.send(.get, "/v1/reports/satisfaction?by=mood", token: level3).status == .unprocessableContent)
        }
    }

    @Test(.freshDatabase) func aSignedInRequesterRatesTheirOwnTicketsOnly() async throws {
        try await withIntake { http, db, _ in
            let ana = try await db.requester("ana@example.com")
            let ticket = try await db.queued(requester: ana)
            _ = try await db.change(ticket.id) {
                $0.status = .inProgress
                $0.assigneeId = UUID()
            }
            _ = try await db.change(ticket.id) { $0.status = .resolved }
            let bo = try await db.queued(requester: try await db.requester("bo@example.com"))
            let session = try await signIn(http, db, email: "ana@example.com")
            #expect(
                try await http.send(.put, "/v1/tickets/\(ticket.id)/satisfaction", token: session.token, json: SatisfactionRequest(rating: 5)).status
                    == .ok)
            #expect(
                try await http.send(.put, "/v1/tickets/\(bo.id)/satisfaction", token: session.token, json: SatisfactionRequest(rating: 5)).status == .notFound)
            let mine = try await http.send(.get, "/v1/me/tickets", token: session.token).decode(Page<RequesterTicketSummary>.self)
            #expect(mine.items.map(\.satisfaction) == [5])
        }
    }
}
