import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IntakeApp
import NIOCore
import PostgresNIO
import Synchronization
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// The mail requesters receive, driven through the real routes of intake, tier-queue and the
/// console (in-process, on live ports, on the test's database) and read back from `mail_outbox`.
@Suite struct RequesterMailTests {
    /// Intake (whose hand-offs to itself reach it through `Relay`), tier-queue and the console, on one clock.
    struct System: Sendable {
        let intake: any TestClientProtocol
        let tierQueue: any TestClientProtocol
        let console: any TestClientProtocol
        let clock: ManualClock

        static func run(intakeSettings: [String: String] = [:], _ test: @Sendable (System) async throws -> Void) async throws {
            let clock = ManualClock(Date())
            let relay = Relay()
            try await relay.application.test(.live) { relayed in
                let selfURL = "http://127.0.0.1:\(relayed.port!)"
                let environment = [
                    "TIERDESK_INTAKE_URL": selfURL, "TIERDESK_RATE_LIMIT_PER_MINUTE": "100000", "TIERDESK_REMINDER_CHECK_SECONDS": "1",
                    "TIERDESK_PUBLIC_URL": "https://help.example.com/", "TIERDESK_MAIL_REPLY_DOMAIN": "help.example.com",
                ].merging(intakeSettings) { _, new in new }
                try await withLiveApp(as: .intake, environment: environment, { try await IntakeApp.buildApplication(reader: $0, clock: clock) }) { intake in
                    relay.target.withLock { $0 = "http://127.0.0.1:\(intake.port!)" }
                    try await withLiveApp(as: .tierQueue, environment: ["TIERDESK_INTAKE_URL": selfURL], TierQueueApp.buildApplication) { tierQueue in
                        let console = [
                            "TIERDESK_CONSOLE_SECRET": ConsoleSystem.secret, "TIERDESK_INTAKE_URL": "http://127.0.0.1:\(intake.port!)",
                            "TIERDESK_TIER_QUEUE_URL": "http://127.0.0.1:\(tierQueue.port!)", "TIERDESK_CONSOLE_INSECURE_COOKIES": "true",
                        ]
                        try await withLiveApp(as: .console, environment: console, { try await ConsoleApp.buildApplication(reader: $0, clock: clock) }) {
                            console in
                            try await test(System(intake: intake, tierQueue: tierQueue, console: console, clock: clock))
                        }
                    }
                }
            }
        }

        /// A ticket filed on the web, and its requester token.
        func file(_ request: SubmitTicketRequest = .fixture()) async throws -> (id: UUID, reference: String, token: String) {
            let created = try await intake.send(.post, "/v1/tickets", json: request).decode(SubmitTicketResponse.self)
            return (created.id, created.reference, try #require(created.requesterToken))
        }

        /// Moves a ticket to level 1's queue, as triage would, and an agent claims it.
        func intoWork(_ id: UUID) async throws {
            let store = TicketStore(source: "test")
            let now = clock.now()
            try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
                try await client.transaction(logger: TestDatabase.logger) { connection in
                    let logger = TestDatabase.logger
                    _ = try await store.update(
                        id, to: .triaged, event: EventDraft(type: .ticketTriaged, actor: "test"), on: connection, now: now, logger: logger
                    ) {
                        $0.tier = .firstLine
                    }
                    _ = try await store.update(id, to: .queued, event: EventDraft(type: .ticketQueued, actor: "test"), on: connection, now: now, logger: logger)
                    {
                        $0.requeue(tier: .firstLine, now: now)
                    }
                }
            }
            let agent = try await tierQueue.send(
                .post, "/v1/agents", token: TestCredentials.adminToken,
                json: CreateAgentRequest(name: "Ada", email: "ada-\(UUID().uuidString.prefix(8))@example.com", tiers: [1], skills: nil, wipLimit: nil)
            ).decode(Agent.self)
            let claimed = try await tierQueue.send(.post, "/v1/queues/1/claim", token: try #require(agent.token)).decode(Ticket.self)
            #expect(claimed.id == id)
        }

        /// An agent's action through tier-queue, as the admin.
        func work(_ id: UUID, _ action: String, _ body: some Encodable & Sendable) async throws {
            let response = try await tierQueue.send(.post, "/v1/tickets/\(id)/\(action)", token: TestCredentials.adminToken, json: body)
            #expect(response.status == .ok, "\(action): \(String(buffer: response.body))")
        }

        /// The ticket's mails, oldest first, once there are `count` (waiting for the hand-offs).
        func mails(_ id: UUID, count: Int) async throws -> [Mail] {
            try await HTTP.eventually {
                let mails = try await Mail.of(id)
                return mails.count >= count ? mails : nil
            }
        }
    }

    /// A row of `mail_outbox`.
    struct Mail: Sendable {
        var kind: String
        var recipient: String
        var subject: String
        var messageID: String
        var mail: OutgoingMail

        static func of(_ id: UUID) async throws -> [Mail] {
            try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
                var found: [Mail] = []
                let rows = try await client.query(
                    "SELECT kind, recipient, subject, message_id, mail::text FROM mail_outbox WHERE ticket_id = \(id) ORDER BY created_at, message_id",
                    logger: TestDatabase.logger)
                for try await (kind, recipient, subject, messageID, document) in rows.decode((String, String, String, String, String).self) {
                    found.append(
                        Mail(
                            kind: kind, recipient: recipient, subject: subject, messageID: messageID,
                            mail: try JSONCoding.decoder.decode(OutgoingMail.self, from: Data(document.utf8))))
                }
                return found
            }
        }
    }

    static let replyAddresses = ReplyAddress(secret: TestCredentials.secret)

    /// What every requester mail carries: the address, the tag, its Message-ID, the ticket's reply
    /// address, Auto-Submitted, and the thread of the ticket's mails before it.
    static func expectHeaders(_ mail: Mail, ticket id: UUID, reference: String, earlier: [String]) {
        #expect(mail.recipient == "dana@example.com")
        #expect(mail.mail.to == "dana@example.com")
        #expect(mail.subject.contains("[\(reference)]"))
        #expect(!mail.subject.contains(where: { $0.isNewline }))
        #expect(mail.messageID.hasPrefix("<") && mail.messageID.hasSuffix("@help.example.com>"))
        #expect(mail.mail.messageID == mail.messageID)
        #expect(replyAddresses.ticket(in: [mail.mail.replyTo ?? ""]) == id)
        #expect(mail.mail.replyTo?.hasSuffix("@help.example.com") == true)
        #expect(mail.mail.headers.contains(.init("Auto-Submitted", "auto-generated")))
        #expect(mail.mail.references == earlier)
        #expect(mail.mail.inReplyTo == earlier.last)
    }

    @Test(.freshDatabase) func aTicketsMailsThreadFromFiledThroughTheReminderToItsAutomaticResolution() async throws {
        try await System.run { system in
            let hostile = "<script>alert('x')</script> & VPN"
            let ticket = try await system.file(.fixture(subject: hostile))
            let filed = try await system.mails(ticket.id, count: 1)
            #expect(filed.map(\.kind) == ["ticket.filed"])
            Self.expectHeaders(filed[0], ticket: ticket.id, reference: ticket.reference, earlier: [])
            // The link carries the token in its fragment, the part no server sees.
            let link = "https://help.example.com/t/\(ticket.id.uuidString.lowercased())#token=\(ticket.token)"
            #expect(filed[0].mail.text.contains(link))
            let html = try #require(filed[0].mail.html)
            #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; VPN"))
            #expect(!html.contains("<script>"))
            #expect(html.contains("href=\"\(link)\""))

            try await system.intoWork(ticket.id)
            system.clock.advance(by: 1)
            try await system.work(ticket.id, "comments", CommentRequest(message: "Only for agents: <b>check the logs</b>", internal: true))
            try await system.work(ticket.id, "comments", CommentRequest(message: "Please restart.\r\nBcc: evil@example.com\n<script>x()</script>"))
            var mails = try await system.mails(ticket.id, count: 2)
            #expect(mails.map(\.kind) == ["ticket.filed", "ticket.commented"])
            Self.expectHeaders(mails[1], ticket: ticket.id, reference: ticket.reference, earlier: [filed[0].messageID])
            #expect(mails[1].mail.text.contains("Please restart.\r\nBcc: evil@example.com"))
            #expect(try #require(mails[1].mail.html).contains("&lt;script&gt;x()&lt;/script&gt;"))
            #expect(!mails.contains { $0.mail.text.contains("Only for agents") })

            system.clock.advance(by: 1)
            try await system.work(ticket.id, "pending", PendingRequest(reason: .awaitingCustomerInfo, note: "Which VPN client do you use?"))
            mails = try await system.mails(ticket.id, count: 3)
            #expect(mails[2].kind == "ticket.question")
            #expect(mails[2].mail.text.contains("Which VPN client do you use?"))
            Self.expectHeaders(mails[2], ticket: ticket.id, reference: ticket.reference, earlier: mails[..<2].map(\.messageID))

            // Three days on: one reminder, however many passes run.
            system.clock.advance(by: 3 * 86_400 + 60)
            mails = try await system.mails(ticket.id, count: 4)
            #expect(mails[3].kind == "ticket.reminder")
            #expect(mails[3].mail.text.contains("Which VPN client do you use?"))
            Self.expectHeaders(mails[3], ticket: ticket.id, reference: ticket.reference, earlier: mails[..<3].map(\.messageID))
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await Mail.of(ticket.id).count == 4)

            // Seven days into the wait: resolved for the requester, with an event that says why, and mailed.
            system.clock.advance(by: 4 * 86_400)
            mails = try await system.mails(ticket.id, count: 5)
            #expect(mails[4].kind == "ticket.resolved")
            #expect(mails[4].mail.text.contains("no answer from you in 7 days"))
            Self.expectHeaders(mails[4], ticket: ticket.id, reference: ticket.reference, earlier: mails[..<4].map(\.messageID))
            let view = try await system.intake.send(.get, "/v1/tickets/\(ticket.id)", token: ticket.token).decode(TicketDetail.self)
            #expect(view.ticket.status == .resolved)
            #expect(view.events.last?.type == .ticketResolved)
        }
    }

    @Test(.freshDatabase) func resolvedMailLinksPagesThatOnlyPostAndClosedMailFollowsTheClose() async throws {
        try await System.run { system in
            let ticket = try await system.file()
            _ = try await system.mails(ticket.id, count: 1)
            try await system.intoWork(ticket.id)
            system.clock.advance(by: 1)
            try await system.work(ticket.id, "resolve", ResolveRequest(resolution: "Reinstalled the <VPN> client.", code: .fixed))
            let mails = try await system.mails(ticket.id, count: 2)
            let resolved = mails[1]
            #expect(resolved.kind == "ticket.resolved")
            Self.expectHeaders(resolved, ticket: ticket.id, reference: ticket.reference, earlier: [mails[0].messageID])
            let id = ticket.id.uuidString.lowercased()
            for path in ["/t/\(id)/confirm", "/t/\(id)/reopen", "/t/\(id)/satisfaction"] {
                #expect(resolved.mail.text.contains("https://help.example.com\(path)#token=\(ticket.token)"))
            }
            #expect(try #require(resolved.mail.html).contains("Reinstalled the &lt;VPN&gt; client."))

            // The confirm link's page: without the ticket's session, the form that opens it from the
            // fragment and comes back; then a button that posts. Opening it changes nothing.
            let browser = Browser(client: system.console)
            let opened = try await browser.get("/t/\(id)/confirm")
            #expect(opened.text.contains("data-open-link") && opened.text.contains("name=\"next\" value=\"confirm\""))
            let back = try await browser.post("/t/\(id)/open", ["token": ticket.token, "next": "confirm"])
            #expect(back.location == "/t/\(id)/confirm")
            let page = try await browser.get("/t/\(id)/confirm")
            #expect(page.text.contains("action=\"/t/\(id)/confirm\""))
            #expect(try await system.intake.send(.get, "/v1/tickets/\(id)", token: ticket.token).decode(TicketDetail.self).ticket.status == .resolved)
            #expect(try await browser.get("/t/\(id)/reopen").text.contains("action=\"/t/\(id)/reply\""))
            // The survey's page: the question, whose form posts; the answer is changeable, and shown.
            #expect(try await browser.get("/t/\(id)/satisfaction").text.contains("action=\"/t/\(id)/satisfaction\""))
            let rated = try await browser.post("/t/\(id)/satisfaction", ["rating": "4", "comment": "Quick"])
            #expect(rated.location == "/t/\(id)?notice=rated")
            #expect(try await browser.get("/t/\(id)/satisfaction").text.contains("You rated it 4 of 5"))

            // An agent closes it: the closed mail. The requester's own confirmation would mail nobody.
            system.clock.advance(by: 1)
            try await system.work(ticket.id, "close", CloseRequest(note: "Closing after your confirmation by phone."))
            let closed = try await system.mails(ticket.id, count: 3)[2]
            #expect(closed.kind == "ticket.closed")
            #expect(closed.mail.text.contains("Closing after your confirmation by phone."))
            Self.expectHeaders(closed, ticket: ticket.id, reference: ticket.reference, earlier: mails.map(\.messageID))
        }
    }

    /// Every kind of requester mail, sent by intake's dispatcher through a real SMTP server that requires
    /// STARTTLS and AUTH, as the requester's mail server receives it: each once, with its Message-ID,
    /// its thread, the tag, the reply address, Auto-Submitted, a text and an HTML part, and the
    /// requester's hostile subject escaped in the HTML.
    @Test(.freshDatabase) func everyKindOfMailArrivesThroughARealSMTPServerThreadedAndEscaped() async throws {
        let server = try await SMTPTestServer()
        try await System.run(intakeSettings: server.environment) { system in
            let hostile = "<script>alert('x')</script> & VPN"
            let ticket = try await system.file(.fixture(subject: hostile))
            _ = try await system.mails(ticket.id, count: 1)
            try await system.intoWork(ticket.id)
            // One step at a time, each mail written before the next step (the outbox's order is the thread's).
            let steps: [(String, any Encodable & Sendable)] = [
                ("comments", CommentRequest(message: "Please restart the <b>client</b>.")),
                ("pending", PendingRequest(reason: .awaitingCustomerInfo, note: "Which VPN client do you use?")),
                ("resolve", ResolveRequest(resolution: "Reinstalled the client.", code: .fixed)),
                ("close", CloseRequest(note: "Closing as agreed by phone.")),
            ]
            for (index, (action, body)) in steps.enumerated() {
                system.clock.advance(by: 1)
                try await system.work(ticket.id, action, body)
                _ = try await system.mails(ticket.id, count: index + 2)
            }
            try await system.intake.send(.post, "/v1/requester-sign-in", json: SignInLinkRequest(email: "dana@example.com"))

            let received = try await server.waitForMessages(6)
            #expect(received.count == 6, "each mail arrives once")
            let outbox = try await Mail.of(ticket.id)
            #expect(outbox.map(\.kind) == ["ticket.filed", "ticket.commented", "ticket.question", "ticket.resolved", "ticket.closed"])
            let byID = Dictionary(received.compactMap { message in SMTPTestServer.header("Message-ID", in: message).map { ($0, message) } }) { a, _ in a }
            var earlier: [String] = []
            for mail in outbox {
                let message = try #require(byID[mail.messageID], "\(mail.kind) arrived")
                let header = { (name: String) in SMTPTestServer.header(name, in: message) }
                #expect(header("To")?.contains("dana@example.com") == true)
                #expect(header("From") == "Tierdesk <help@tierdesk.test>")
                #expect(header("Subject")?.contains("[\(ticket.reference)]") == true, "\(mail.kind): \(header("Subject") ?? "")")
                #expect(header("Auto-Submitted") == "auto-generated")
                #expect(Self.replyAddresses.ticket(in: [header("Reply-To") ?? ""]) == ticket.id)
                #expect(header("In-Reply-To") == earlier.last)
                #expect((header("References") ?? "").split(separator: " ").map(String.init) == earlier)
                #expect(header("Content-Type")?.hasPrefix("multipart/alternative") == true)
                let parsed = try InboundMessage(Array(message.utf8))
                #expect(parsed.text.contains(hostile) || mail.kind != "ticket.filed", "the text part says it as written")
                earlier.append(mail.messageID)
            }
            // The HTML part (quoted-printable, soft breaks joined) holds the requester's subject escaped, never as markup.
            let filed = try #require(byID[outbox[0].messageID]).replacingOccurrences(of: "=\r\n", with: "")
            let html = try #require(filed.components(separatedBy: "Content-Type: text/html").last)
            #expect(html.contains("&lt;script&gt;") && !html.contains("<script>alert"), "no markup from the requester in the HTML part")
            #expect(received.contains { SMTPTestServer.header("Subject", in: $0) == "Your sign-in link" }, "and the sign-in link")
        }
    }

    @Test(.freshDatabase) func mailThreadsOnTheRequestersOwnMessageAndAnAutomaticOneGetsNoAnswer() async throws {
        try await System.run(intakeSettings: ["TIERDESK_MAIL_GATEWAY_TOKEN": TestCredentials.mailGatewayToken]) { system in
            let human = InboundEmail(
                from: "Dana <dana@example.com>", to: "help@example.com", subject: "Printer jammed", text: "Third floor.", messageId: "<m1@mail.example.com>")
            let created = try await system.intake.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: human)
                .decode(InboundEmailResult.self)
            let (ticketID, reference) = (try #require(created.ticketId), try #require(created.reference))
            let filed = try await system.mails(ticketID, count: 1)[0]
            Self.expectHeaders(filed, ticket: ticketID, reference: reference, earlier: ["<m1@mail.example.com>"])

            // An out-of-office answer to it: noted for agents, and answered by no mail.
            let robot = InboundEmail(
                from: "dana@example.com", to: "help@example.com", subject: "Out of office [\(reference)]", text: "I am away.",
                messageId: "<ooo@mail.example.com>", inReplyTo: filed.messageID, autoSubmitted: "auto-replied")
            let automatic = try await system.intake.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: robot)
                .decode(InboundEmailResult.self)
            #expect(automatic.outcome != .created && automatic.automatic != nil)
            // Later hand-offs are applied (the filed mail of a later ticket written), yet the first ticket got no second mail.
            let later = try await system.file(.fixture(subject: "Another one"))
            _ = try await system.mails(later.id, count: 1)
            #expect(try await Mail.of(ticketID).count == 1)
        }
    }

    @Test(.freshDatabase) func anOperatorsTemplateFolderChangesTheMailAndKeepsTheTag() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "Your ticket is in: {{subject}}".write(toFile: folder + "/ticket.filed.subject.mustache", atomically: true, encoding: .utf8)
        try "<p>Ours: {{subject}}</p>".write(toFile: folder + "/ticket.filed.html.mustache", atomically: true, encoding: .utf8)
        try await System.run(intakeSettings: ["TIERDESK_MAIL_TEMPLATES": folder]) { system in
            let ticket = try await system.file(.fixture(subject: "Laptop <slow>"))
            let mail = try await system.mails(ticket.id, count: 1)[0]
            #expect(mail.subject == "[\(ticket.reference)] Your ticket is in: Laptop <slow>")
            #expect(mail.mail.html == "<p>Ours: Laptop &lt;slow&gt;</p>")
            #expect(mail.mail.text.contains("We received your request"))
        }
    }
}

/// Forwards every request to `target`: intake's hand-offs to itself, whose port is known only once it runs.
final class Relay: Sendable {
    let target = Mutex<String?>(nil)

    var application: some ApplicationProtocol {
        let router = Router()
        router.on("**", method: .post) { [self] request, _ -> Response in
            guard let base = self.target.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            var forwarded = HTTPClientRequest(url: base + request.uri.string)
            forwarded.method = .POST
            for field in request.headers where field.name.canonicalName != "host" { forwarded.headers.add(name: field.name.rawName, value: field.value) }
            forwarded.body = .bytes(try await request.body.collect(upTo: 16 << 20))
            let answer = try await HTTPClient.shared.execute(forwarded, timeout: .seconds(30))
            let body = try await answer.body.collect(upTo: 16 << 20)
            var headers = HTTPFields()
            if let type = answer.headers.first(name: "Content-Type") { headers[.contentType] = type }
            return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: body))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}
