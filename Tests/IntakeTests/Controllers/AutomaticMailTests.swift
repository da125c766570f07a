import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import IntakeApp

/// Auto-replies and bounces through intake's mail gateway, over real HTTP against PostgreSQL:
/// automatic mail never opens, reopens or moves a ticket and is marked so nothing answers it; a
/// bounce marks the addresses intake mailed; a person's mail clears the mark.
@Suite struct AutomaticMailTests {
    func withIntake(_ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(IntakeApp.buildApplication) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    func inbound(_ http: any TestClientProtocol, _ mail: InboundEmail) async throws -> InboundEmailResult {
        let response = try await http.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: mail)
        #expect(response.status == .ok || response.status == .created)
        return try response.decode(InboundEmailResult.self)
    }

    func mail(
        from: String = "Dana <dana@example.com>", deliveredTo: String? = nil, subject: String = "Automatic reply: VPN",
        change: (inout InboundEmail) -> Void = { _ in }
    ) -> InboundEmail {
        var mail = InboundEmail(
            from: from, to: "help@example.com", deliveredTo: deliveredTo, subject: subject, text: "I am out of the office until Monday.",
            messageId: "<\(UUID())@mail.example>")
        change(&mail)
        return mail
    }

    @Test(.freshDatabase) func autoRepliesNeverOpenReopenOrMoveATicket() async throws {
        try await withIntake { http, db in
            let opened = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture()).decode(SubmitTicketResponse.self)
            let resolvedAt = Date(timeIntervalSinceNow: -3600)
            try await db.client.execute("UPDATE tickets SET status = 'resolved', updated_at = \(resolvedAt) WHERE id = \(opened.id)", logger: db.logger)
            let before = try #require(try await db.store.find(opened.id, on: db.client, logger: db.logger))
            let (tickets, mails) = (try await db.count("tickets"), try await db.count("mail_outbox"))
            let address = ReplyAddress(secret: TestCredentials.secret).make(ticketID: opened.id, domain: "reply.example.com")

            // Every mark of automatic mail, each sent to the ticket's reply address: a note for agents, nothing else.
            let marks: [(String, (inout InboundEmail) -> Void)] = [
                ("auto-submitted: auto-replied", { $0.autoSubmitted = "auto-replied" }), ("x-autoreply", { $0.xAutoreply = "yes" }),
                ("x-autorespond", { $0.xAutorespond = "1" }), ("precedence: bulk", { $0.precedence = "bulk" }),
                ("precedence: auto_reply", { $0.precedence = "auto_reply" }), ("null sender", { $0.returnPath = "<>" }),
                ("mailer-daemon", { $0.from = "MAILER-DAEMON@mx.example.com" }),
            ]
            for (reason, change) in marks {
                let noted = try await inbound(http, mail(deliveredTo: address, change: change))
                #expect(noted == InboundEmailResult(outcome: .noted, ticketId: opened.id, reference: opened.reference, status: .resolved, automatic: reason))
            }
            // Auto-Submitted: no is a person's mail.
            #expect(InboundEmail(from: "a@b.cd", subject: "", text: "", messageId: "<x>", autoSubmitted: "no").automatic == nil)

            let after = try #require(try await db.store.find(opened.id, on: db.client, logger: db.logger))
            #expect(after.status == .resolved && after.version == before.version && after.updatedAt == before.updatedAt)
            let trail = try await db.store.events(of: opened.id, publicOnly: false, on: db.client, logger: db.logger)
            let notes = trail.compactMap(TicketCommented.init)
            #expect(notes.count == marks.count && notes.allSatisfy { $0.audience == .agents && $0.automatic != nil && $0.from == "mail" })
            #expect(trail.filter { $0.type == .ticketCommented }.allSatisfy { $0.actor == "system:mail" })
            #expect(try await db.store.events(of: opened.id, publicOnly: true, on: db.client, logger: db.logger).allSatisfy { $0.type != .ticketCommented })
            let flagged = try await db.client.first(
                "SELECT count(*) AS n FROM email_messages WHERE ticket_id = \(opened.id) AND automatic IS NOT NULL", logger: db.logger
            ) { Int(try $0.get("n", as: Int64.self)) }
            #expect(flagged == marks.count)

            // Without the reply address (or DMARC), automatic mail belongs to no ticket and opens none.
            let stray = try await inbound(http, mail(from: "newsletter@example.org") { $0.precedence = "list" })
            #expect(stray == InboundEmailResult(outcome: .ignored, automatic: "precedence: list"))
            #expect(try await db.count("tickets") == tickets)
            #expect(try await db.count("mail_outbox") == mails)
            // The same auto-reply delivered twice is a duplicate, not a second note.
            let once = mail(deliveredTo: address) { $0.autoSubmitted = "auto-replied" }
            #expect(try await inbound(http, once).outcome == .noted)
            #expect(try await inbound(http, once).outcome == .duplicate)
        }
    }

    @Test(.freshDatabase) func aBounceMarksTheAddressesIntakeMailedUntilMailComesFromThem() async throws {
        try await withIntake { http, db in
            let opened = try await http.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "Dana@Example.com")).decode(
                SubmitTicketResponse.self)
            try await db.client.withConnection { connection in
                try await MailOutbox.enqueue(
                    OutgoingMail(to: "dana@example.com", subject: "[\(opened.reference)] Filed", text: "We have it.", messageID: "<filed-1@help.example.com>"),
                    kind: "ticket.filed", ticketID: opened.id, source: "intake", on: connection, now: Date(), logger: db.logger)
            }
            let report = MailBounceReport(
                failed: [
                    .init(address: "DANA@example.com", status: "5.1.1", diagnostic: "smtp; 550 5.1.1 User unknown"),
                    .init(address: "never-mailed@example.org", status: "5.1.1"),
                ], originalMessageId: "<filed-1@help.example.com>")
            let dsn = mail(from: "Mail Delivery System <MAILER-DAEMON@mx.example.com>", subject: "Undelivered Mail Returned to Sender") {
                $0.returnPath = "<>"
                $0.bounce = report
            }
            let bounced = try await inbound(http, dsn)
            #expect(bounced == InboundEmailResult(outcome: .bounced, automatic: "bounce", bouncing: ["DANA@example.com"]))
            let marked = try await db.client.all("SELECT address_normalized, status, bounces FROM mail_bounces", logger: db.logger) {
                "\(try $0.get("address_normalized", as: String.self)) \(try $0.get("status", as: String.self)) \(try $0.get("bounces", as: Int32.self))"
            }
            #expect(marked == ["dana@example.com 5.1.1 1"], "a bounce cannot mark an address Tierdesk never mailed")
            let ticket = try #require(try await db.store.find(opened.id, on: db.client, logger: db.logger))
            #expect(ticket.status == .new)
            #expect(try await db.count("tickets") == 1)

            // Another automatic mail from the address leaves the mark; the person writing again clears it.
            _ = try await inbound(http, mail(from: "dana@example.com") { $0.autoSubmitted = "auto-replied" })
            #expect(try await db.count("mail_bounces") == 1)
            let person = try await inbound(http, mail(from: "Dana <dana@example.com>", subject: "Printer again"))
            #expect(person.outcome == .created)
            #expect(try await db.count("mail_bounces") == 0)
        }
    }

    @Test(.freshDatabase) func attachmentsAreListedAndLimited() async throws {
        try await withIntake { http, db in
            let files = [MailAttachment(fileName: "screenshot.png", contentType: "image/png", size: 52_000)]
            let opened = try await inbound(http, mail(subject: "Error dialog") { $0.attachments = files })
            let openedID = try #require(opened.ticketId)
            let ticket = try #require(try await db.store.find(openedID, on: db.client, logger: db.logger))
            #expect(ticket.channelDetails["attachments"] == .array([["fileName": "screenshot.png", "contentType": "image/png", "size": 52_000]]))

            let address = ReplyAddress(secret: TestCredentials.secret).make(ticketID: ticket.id, domain: "reply.example.com")
            _ = try await inbound(http, mail(deliveredTo: address, subject: "Re: Error dialog") { $0.attachments = files })
            let reply = try #require(
                try await db.store.events(of: ticket.id, publicOnly: false, on: db.client, logger: db.logger).compactMap(TicketCommented.init).last)
            #expect(reply.attachments == files && reply.automatic == nil)

            let tooMany = mail { $0.attachments = Array(repeating: files[0], count: InboundEmail.maxAttachments + 1) }
            let refused = try await http.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: tooMany)
            #expect(try refused.status == .unprocessableContent && refused.problem().errors?.map(\.field) == ["attachments"])
            let badBounce = mail { $0.bounce = MailBounceReport(failed: [.init(address: "not an address")]) }
            let bad = try await http.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: badBounce)
            #expect(try bad.status == .unprocessableContent && bad.problem().errors?.map(\.field) == ["bounce.failed[0].address"])
            #expect(try await db.count("tickets") == 1)
        }
    }
}
