import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// What mail in shows on the agent's ticket page: the files a mail carried, and that mail to the
/// requester bounces.
@Suite struct AgentTicketMailTests {
    @Test(.freshDatabase) func theTicketPageListsAttachmentsAndMarksABouncingRequester() async throws {
        try await ConsoleSystem.run { system in
            let mail = InboundEmail(
                from: "Dana <dana@example.com>", subject: "Error dialog <b>", text: "See the screenshot.", messageId: "<m1@mail.example>",
                attachments: [MailAttachment(fileName: "screen<1>.png", contentType: "image/png", size: 52_000)])
            let opened = try await system.intake.send(.post, "/v1/inbound/email", token: TestCredentials.mailGatewayToken, json: mail).decode(
                InboundEmailResult.self)
            let id = try #require(opened.ticketId)
            let admin = system.browser()
            try await admin.signIn(TestCredentials.adminToken)
            let before = try await admin.get("/agent/tickets/\(id)")
            #expect(before.status == .ok && before.text.contains("screen&lt;1&gt;.png") && before.text.contains("image/png, 52000 bytes"))
            #expect(!before.text.contains("id=\"requester-bouncing\""))

            try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
                try await client.execute(
                    """
                    INSERT INTO mail_bounces (address_normalized, address, status, diagnostic, message_id, first_bounced_at, last_bounced_at)
                    VALUES ('dana@example.com', 'dana@example.com', '5.1.1', 'smtp; 550 "no such user"', '<dsn@mx>', now(), now())
                    """, logger: TestDatabase.logger)
            }
            let after = try await admin.get("/agent/tickets/\(id)")
            #expect(after.text.contains("id=\"requester-bouncing\"") && after.text.contains("mail bounces (5.1.1)"))
            #expect(after.text.contains("title=\"smtp; 550 &quot;no such user&quot;\""), "the diagnostic is escaped")
        }
    }
}
