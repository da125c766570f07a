import Foundation
import PostgresNIO
import Synchronization
import Testing
import TierdeskKit
import TierdeskTestSupport

@testable import ConsoleApp

/// The admin's outgoing-mail page: every service's mail with its status, filtered, and a resend
/// of a sent or dead mail (a mail still waiting is refused by intake, and the page says so).
@Suite struct OutgoingMailPageTests {
    /// A mail of `source`, sent or dead or waiting, with `subject`.
    func mail(_ subject: String, source: String, status: String) async throws -> UUID {
        let mail = OutgoingMail(to: "ann@example.com", subject: subject, text: "Hi", messageID: OutgoingMail.newMessageID(domain: "tierdesk.test"))
        let id = Mutex<UUID?>(nil)
        try await TestDatabase.withClient { client in
            try await MailOutbox.enqueue(mail, kind: "ticket.filed", ticketID: nil, source: source, on: client, now: Date(), logger: TestDatabase.logger)
            let change =
                switch status {
                case "sent": "sent_at = now()"
                case "dead": "dead_at = now(), last_error = '550 no such user'"
                default: "attempts = 0"
                }
            let found = try await client.first(
                PostgresQuery(unsafeSQL: "UPDATE mail_outbox SET \(change) WHERE message_id = $1 RETURNING id", binds: try PostgresBindings(mail.messageID)),
                logger: TestDatabase.logger
            ) { try $0.get("id", as: UUID.self) }
            id.withLock { $0 = found }
        }
        return try #require(id.withLock { $0 })
    }

    @Test(.freshDatabase) func theAdminSeesOutgoingMailAndResendsIt() async throws {
        try await ConsoleSystem.run { system in
            let sent = try await mail("[TD-1] Filed <b>", source: "intake", status: "sent")
            let dead = try await mail("[TD-2] Assigned to you", source: "tier-queue", status: "dead")
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let page = try await admin.get("/admin/mail")
            #expect(page.status == .ok && page.text.contains("id=\"outgoing-mail\""))
            #expect(page.text.contains("[TD-1] Filed &lt;b&gt;") && page.text.contains("550 no such user"), "every value escaped")
            #expect(page.text.contains("action=\"/admin/mail/\(sent.uuidString.lowercased())/resend\""))
            let deadOnly = try await admin.get("/admin/mail?status=dead")
            #expect(deadOnly.text.contains("[TD-2] Assigned to you") && !deadOnly.text.contains("[TD-1]"))

            let resent = try await admin.post("/admin/mail/\(dead.uuidString.lowercased())/resend")
            #expect(resent.location == "/admin/mail?notice=mail-queued")
            let after = try await admin.get(try #require(resent.location))
            #expect(after.text.contains("The mail is queued to be sent again"))
            #expect(!after.text.contains("action=\"/admin/mail/\(dead.uuidString.lowercased())/resend\""), "a queued mail has no resend")
            // Twice: intake refuses (409) and the page says why.
            let again = try await admin.post("/admin/mail/\(dead.uuidString.lowercased())/resend")
            let refused = try await admin.get(try #require(again.location))
            #expect(refused.text.contains("still waiting to be sent"))
        }
    }
}
