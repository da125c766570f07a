import Foundation
import Synchronization
import Testing
import TierdeskKit
import TierdeskTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Mail out with the real intake executable and a real SMTP server (aiosmtpd, STARTTLS and AUTH).
@Suite struct MailOutTests {
    /// A replica killed (SIGKILL) while it sends a few hundred mails: after a restart every mail has
    /// arrived. A mail can arrive twice only if the kill fell between the server's 250 and the
    /// row's mark (one UPDATE per connection in flight): at most one mail per SMTP connection.
    @Test(.freshDatabase) func aReplicaKilledWhileSendingLosesNoMail() async throws {
        let twice = try await stopWhileSending(with: SIGKILL)
        #expect(twice <= 4, "at most the one mail in flight per connection (4) arrives twice; \(twice) did")
    }

    /// Stopped gracefully (SIGTERM) while sending: the mail in flight is marked, the rest handed
    /// back; after a restart every mail has arrived exactly once.
    @Test(.freshDatabase) func aReplicaStoppedWhileSendingSendsEveryMailOnce() async throws {
        #expect(try await stopWhileSending(with: SIGTERM) == 0)
    }

    /// Sends 300 mails through intake, stops it with `signal` a third of the way, starts it again and
    /// waits for every mail; returns how many arrived twice.
    func stopWhileSending(with signal: Int32) async throws -> Int {
        // PIPELINING offered, as Postfix and Exim do; four connections (the default).
        let server = try await SMTPTestServer(pipelining: true)
        let total = 300
        let environment = server.environment.merging([
            "TIERDESK_SMTP_TIMEOUT_MS": "2000", "TIERDESK_OUTBOX_LEASE_MS": "3000", "TIERDESK_SMTP_BATCH_SIZE": "50",
        ]) { _, new in new }
        let cluster = try Cluster(database: try TestDatabase.settings(), extra: environment)
        defer { _ = cluster.stop() }
        let mails = (0..<total).map { n in
            OutgoingMail(
                to: "requester\(n)@example.com", subject: "[TD-\(n)] Filed", text: "Ticket TD-\(n) is filed.",
                messageID: OutgoingMail.newMessageID(domain: "tierdesk.test"))
        }
        try await TestDatabase.withClient { client in
            for mail in mails {
                try await MailOutbox.enqueue(mail, kind: "ticket.filed", ticketID: nil, source: "intake", on: client, now: Date(), logger: TestDatabase.logger)
            }
        }
        try await cluster.start(["intake"])
        // Kill it in the middle of sending.
        _ = try await HTTP.eventually(timeout: .seconds(60)) { try server.messages().count >= total / 3 ? true : nil }
        cluster.signal("intake", signal)
        let atKill = try server.messages().count
        try cluster.launch("intake")
        try await cluster.waitReady("intake")
        let sent = Mutex(0)
        _ = try await HTTP.eventually(timeout: .seconds(90)) {
            try await TestDatabase.withClient { client in
                let count = try await client.first("SELECT count(*) AS n FROM mail_outbox WHERE sent_at IS NOT NULL", logger: TestDatabase.logger) {
                    Int(try $0.get("n", as: Int64.self))
                }
                sent.withLock { $0 = count ?? 0 }
            }
            return sent.withLock { $0 } == total ? true : nil
        }
        #expect(sent.withLock { $0 } == total)
        let received = try server.messageIDs()
        #expect(Set(received) == Set(mails.map(\.messageID)), "every mail arrived")
        let twice = received.count - Set(received).count
        print("mail out: signal \(signal) to intake at \(atKill) of \(total) mails received; after the restart \(received.count) received, \(twice) twice")
        return twice
    }
}
