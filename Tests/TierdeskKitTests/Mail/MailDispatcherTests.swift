import Foundation
import PostgresNIO
import Testing
import TierdeskModels
import TierdeskTestSupport

@testable import TierdeskKit

/// The mail dispatcher against real PostgreSQL and a real SMTP server (aiosmtpd with STARTTLS and
/// AUTH): mail written to the outbox leaves once, waits out a server that is down, and a bad mail
/// is dead-lettered without holding up the others.
@Suite struct MailDispatcherTests {
    static let logger = TestDatabase.logger

    func dispatcher(_ server: SMTPTestServer, client: PostgresClient, lease: Duration = .seconds(30), password: String? = nil) throws -> MailDispatcher {
        var settings = server.settings(timeout: .seconds(2))
        if let password { settings.credentials?.password = password }
        return MailDispatcher(
            source: "intake", client: client, smtp: try SMTPClient(settings: settings),
            settings: MailDispatchSettings(
                batchSize: 20, connections: 2, maxAttempts: 1000, maxBackoff: .milliseconds(200), lease: lease, pollInterval: .milliseconds(50)),
            clock: SystemClock(), logger: Self.logger)
    }

    /// Writes `count` mails to the outbox (source intake), each in its own transaction like a service does.
    @discardableResult
    func enqueue(
        _ count: Int, client: PostgresClient, ticketID: UUID? = nil, kind: String = "ticket.filed", _ change: (inout OutgoingMail) -> Void = { _ in }
    ) async throws -> [OutgoingMail] {
        var mails: [OutgoingMail] = []
        for n in 0..<count {
            var mail = OutgoingMail(
                to: "requester\(n)@example.com", subject: "[TD-\(n)] Filed", text: "Your ticket TD-\(n) is filed.", html: "<p>Filed</p>",
                messageID: OutgoingMail.newMessageID(domain: "tierdesk.test"), headers: [.init("Auto-Submitted", "auto-generated")])
            change(&mail)
            try await client.transaction(logger: Self.logger) { connection in
                try await MailOutbox.enqueue(
                    mail, kind: kind, ticketID: ticketID, source: "intake", on: connection, now: Date(timeIntervalSince1970: 1_796_000_000),
                    logger: Self.logger)
            }
            mails.append(mail)
        }
        return mails
    }

    func counts(_ client: PostgresClient) async throws -> (sent: Int, dead: Int, waiting: Int) {
        try await client.first(
            """
            SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent, count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
                   count(*) FILTER (WHERE sent_at IS NULL AND dead_at IS NULL) AS waiting FROM mail_outbox
            """, logger: Self.logger
        ) { (Int(try $0.get("sent", as: Int64.self)), Int(try $0.get("dead", as: Int64.self)), Int(try $0.get("waiting", as: Int64.self))) }!
    }

    @Test(.freshDatabase) func aServerDownForAWhileDelaysMailAndEveryMailArrivesOnce() async throws {
        let server = try await SMTPTestServer()
        server.stop()
        try await TestDatabase.withClient { client in
            let mails = try await enqueue(60, client: client)
            let running = Task { try await dispatcher(server, client: client).run() }
            defer { running.cancel() }
            // Down: attempts fail and every mail waits, none dead.
            _ = try await HTTP.eventually(timeout: .seconds(30)) {
                try await client.first("SELECT min(attempts) AS a FROM mail_outbox", logger: Self.logger) { try $0.get("a", as: Int32.self) }! >= 2 ? true : nil
            }
            #expect(try await counts(client) == (0, 0, 60))
            let error = try await client.first("SELECT last_error FROM mail_outbox LIMIT 1", logger: Self.logger) { try $0.get("last_error", as: String?.self) }
            #expect(error??.contains("cannot connect") == true)
            // Up again: everything arrives, exactly once.
            try await server.start()
            _ = try await HTTP.eventually(timeout: .seconds(60)) { try await counts(client).sent == 60 ? true : nil }
            let received = try server.messageIDs()
            #expect(received.count == 60)
            #expect(Set(received) == Set(mails.map(\.messageID)))
        }
    }

    @Test(.freshDatabase) func aMailThatCannotBeWrittenIsDeadAndTheOthersGo() async throws {
        let server = try await SMTPTestServer()
        try await TestDatabase.withClient { client in
            try await enqueue(3, client: client)
            let bad = try await enqueue(1, client: client) { $0.subject = "hi\r\nBcc: victim@example.com" }[0]
            try await enqueue(3, client: client)
            let running = Task { try await dispatcher(server, client: client).run() }
            defer { running.cancel() }
            _ = try await HTTP.eventually(timeout: .seconds(30)) { try await counts(client) == (6, 1, 0) ? true : nil }
            #expect(try await server.waitForMessages(6).count == 6)
            #expect(try !server.messageIDs().contains(bad.messageID))
            let error = try await client.first("SELECT last_error FROM mail_outbox WHERE dead_at IS NOT NULL", logger: Self.logger) {
                try $0.get("last_error", as: String.self)
            }
            #expect(error?.contains("Subject holds a line break") == true)
        }
    }

    @Test(.freshDatabase) func aWrongPasswordKeepsMailWaitingNotDead() async throws {
        let server = try await SMTPTestServer()
        try await TestDatabase.withClient { client in
            try await enqueue(2, client: client)
            let running = Task { try await dispatcher(server, client: client, password: "wrong").run() }
            defer { running.cancel() }
            _ = try await HTTP.eventually(timeout: .seconds(30)) {
                try await client.first("SELECT min(attempts) AS a FROM mail_outbox", logger: Self.logger) { try $0.get("a", as: Int32.self) }! >= 2 ? true : nil
            }
            #expect(try await counts(client) == (0, 0, 2))
            #expect(try server.messages().isEmpty)
        }
    }

    @Test(.freshDatabase) func aDeadReplicasLeaseRunsOutAndItsLateMarkChangesNothing() async throws {
        let server = try await SMTPTestServer()
        try await TestDatabase.withClient { client in
            let mail = try await enqueue(1, client: client)[0]
            // Another replica's lease: attempt 1, for a second.
            try await client.execute(
                "UPDATE mail_outbox SET attempts = 1, next_attempt_at = now() + interval '1 second'", logger: Self.logger)
            let running = Task { try await dispatcher(server, client: client).run() }
            defer { running.cancel() }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try server.messages().isEmpty, "not while the lease holds")
            _ = try await HTTP.eventually(timeout: .seconds(30)) { try await counts(client).sent == 1 ? true : nil }
            #expect(try server.messageIDs() == [mail.messageID])
            let late = try await client.first(
                "UPDATE mail_outbox SET dead_at = now() WHERE attempts = 1 AND sent_at IS NULL RETURNING 1 AS one", logger: Self.logger
            ) { _ in true }
            #expect(late == nil)
        }
    }

    /// A sign-in link rests in the outbox only while it waits: once sent, its parts are gone, and it is never sent again.
    @Test(.freshDatabase) func aOneTimeLinkIsForgottenOnceSentAndNeverResent() async throws {
        let server = try await SMTPTestServer()
        try await TestDatabase.withClient { client in
            let key = "KEY-\(UUID().uuidString)"
            let mails = try await enqueue(1, client: client, kind: "sign_in") {
                $0.text = "Sign in: https://help.example.com/sign-in#token=\(key)"
                $0.html = "<a href=\"https://help.example.com/sign-in#token=\(key)\">Sign in</a>"
            }
            try await enqueue(1, client: client)
            let running = Task { try await dispatcher(server, client: client).run() }
            defer { running.cancel() }
            _ = try await HTTP.eventually(timeout: .seconds(30)) { try await counts(client).sent == 2 ? true : nil }
            let received = try await server.waitForMessages(2)
            // Quoted-printable: soft line breaks joined.
            #expect(received.contains { $0.replacingOccurrences(of: "=\r\n", with: "").contains(key) }, "the requester got the link")
            let stored = try await client.all("SELECT kind, mail::text AS mail FROM mail_outbox", logger: Self.logger) {
                (try $0.get("kind", as: String.self), try $0.get("mail", as: String.self))
            }
            #expect(!stored.contains { $0.1.contains(key) }, "no row keeps the key")
            #expect(stored.first { $0.0 == "sign_in" }?.1.contains(MailOutbox.removedText) == true)
            #expect(stored.first { $0.0 == "ticket.filed" }?.1.contains("is filed") == true, "other mail is kept as sent")
            let id = try #require(
                try await client.first("SELECT id FROM mail_outbox WHERE message_id = \(mails[0].messageID)", logger: Self.logger) {
                    try $0.get("id", as: UUID.self)
                })
            #expect(try await OutgoingMailStore().resend(id, on: client, logger: Self.logger) == .oneTime)
        }
    }

    @Test(.freshDatabase) func theAdminListsAndResendsWithTheSameMessageID() async throws {
        let server = try await SMTPTestServer()
        try await TestDatabase.withClient { client in
            let ticket = UUID()
            let mails = try await enqueue(2, client: client, ticketID: ticket)
            try await enqueue(1, client: client) { $0.subject = "bad\nsubject" }
            let store = OutgoingMailStore()
            let queued = try await store.list(status: .queued, ticketID: nil, limit: 50, after: nil, on: client, logger: Self.logger)
            #expect(queued.items.count == 3)
            let id = queued.items.first { $0.messageId == mails[0].messageID }!.id
            #expect(try await store.resend(id, on: client, logger: Self.logger) == .alreadyQueued)
            #expect(try await store.resend(UUID(), on: client, logger: Self.logger) == .notFound)

            let running = Task { try await dispatcher(server, client: client).run() }
            _ = try await HTTP.eventually(timeout: .seconds(30)) { try await counts(client) == (2, 1, 0) ? true : nil }
            running.cancel()
            _ = await running.result

            let ofTicket = try await store.list(status: nil, ticketID: ticket, limit: 1, after: nil, on: client, logger: Self.logger)
            #expect(ofTicket.items.count == 1 && ofTicket.items[0].status == .sent && ofTicket.nextCursor != nil)
            let next = try await store.list(
                status: nil, ticketID: ticket, limit: 1, after: Cursor.instantAndID(ofTicket.nextCursor!), on: client, logger: Self.logger)
            #expect(next.items.count == 1 && next.nextCursor == nil && next.items[0].id != ofTicket.items[0].id)
            let dead = try await store.list(status: .dead, ticketID: nil, limit: 50, after: nil, on: client, logger: Self.logger)
            #expect(dead.items.count == 1 && dead.items[0].lastError?.contains("line break") == true)

            guard case .queued(let again) = try await store.resend(id, on: client, logger: Self.logger) else { throw TestSetupError("not resent") }
            #expect(again.status == .queued && again.messageId == mails[0].messageID && again.attempts == 0)
            let resending = Task { try await dispatcher(server, client: client).run() }
            defer { resending.cancel() }
            _ = try await HTTP.eventually(timeout: .seconds(30)) { try await counts(client) == (2, 1, 0) ? true : nil }
            let received = try await server.waitForMessages(3)
            #expect(received.compactMap { SMTPTestServer.header("Message-ID", in: $0) }.filter { $0 == mails[0].messageID }.count == 2)
        }
    }
}
