import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import IntakeApp

/// Mail becoming replies and tickets, straight against PostgreSQL.
@Suite struct MailIntakeTests {
    func mailIntake(_ db: StoreFixture) -> MailIntake {
        MailIntake(
            intake: TicketIntake(tickets: db.store, requesters: RequesterStore()), tickets: db.store, messages: EmailMessageStore(), bounces: MailBounceStore(),
            requesterTokenKey: RequesterTokenKey(secret: TestCredentials.secret), replyAddresses: ReplyAddress(secret: TestCredentials.secret))
    }

    func receive(_ db: StoreFixture, _ mail: InboundEmail, at now: Date = Date()) async throws -> InboundEmailResult {
        let intake = mailIntake(db)
        return try await db.client.transaction(logger: db.logger) { connection in
            try await intake.receive(mail, on: connection, now: now, logger: db.logger)
        }
    }

    func mail(_ id: String, from: String = "dana@example.com", subject: String = "Printer jams", inReplyTo: String? = nil) -> InboundEmail {
        InboundEmail(from: from, to: "it@example.com", subject: subject, text: "The printer on floor 3 jams.", messageId: id, inReplyTo: inReplyTo)
    }

    @Test(.freshDatabase) func aReplyToAClosedTicketOpensANewOne() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let first = try await receive(db, mail("<1@x>"))
            #expect(first.outcome == .created && first.requesterToken != nil)
            try await client.execute("UPDATE tickets SET status = 'closed' WHERE id = \(first.ticketId)", logger: db.logger)
            let reply = try await receive(db, mail("<2@x>", subject: "Re: Printer jams", inReplyTo: "<1@x>"))
            #expect(reply.outcome == .created && reply.ticketId != first.ticketId)
        }
    }

    @Test(.freshDatabase) func theSameTextUnderAnotherMessageIDGetsNoToken() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let first = try await receive(db, mail("<a@x>"), at: now)
            let again = try await receive(db, mail("<b@x>"), at: now.addingTimeInterval(10))
            #expect(again.outcome == .duplicate && again.ticketId == first.ticketId && again.requesterToken == nil)
            let firstID = try #require(first.ticketId)
            let stored = try #require(try await db.store.find(firstID, on: client, logger: db.logger))
            #expect(stored.createdAt == now)
        }
    }
}
