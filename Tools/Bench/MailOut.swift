import ArgumentParser
import Foundation
import Logging
import TierdeskKit

/// Mail out: queues `--count` mails in the outbox (as `--source`, whose running replicas send them
/// to their SMTP server), releases them at once and measures how fast they leave: from the release
/// to the last `sent_at`. Checks that every one was sent and none is dead.
struct MailOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail", abstract: "Mails a second from the outbox to the SMTP server the running service sends through.")

    @Option var databaseURL: String
    @Option(help: "Mails to queue.") var count = 2000
    @Option(help: "The service whose replicas send them.") var source = "intake"
    @Option(help: "Seconds to wait for every mail to be sent.") var timeout = 300.0

    struct Report: Codable {
        var mails: Int
        var sent: Int
        var dead: Int
        var seconds: Double
        var perSecond: Double
    }

    func run() async throws {
        let logger = {
            var logger = Logger(label: "tierdesk-bench")
            logger.logLevel = .error
            return logger
        }()
        let (count, source, timeout) = (count, source, timeout)
        let run = UUID().uuidString.prefix(8).lowercased()
        let report = try await DatabaseSettings(url: databaseURL).withClient(logger: logger) { client -> Report in
            // Written held back (due in a day), in transactions of 500, then released in one statement.
            for start in stride(from: 0, to: count, by: 500) {
                try await client.transaction(logger: logger) { connection in
                    for n in start..<min(start + 500, count) {
                        let mail = OutgoingMail(
                            to: "requester\(n % 997)@bench.example.com", toName: "Bench Requester", subject: "[TD-\(n)] We have your request",
                            text: "Hello,\n\nyour request TD-\(n) is filed. Reply to this mail to add to it.\n\nThe help desk",
                            html: "<p>Hello,</p><p>your request <b>TD-\(n)</b> is filed. Reply to this mail to add to it.</p><p>The help desk</p>",
                            messageID: "<bench-\(run)-\(n)@bench.example.com>", replyTo: "reply+bench@bench.example.com",
                            headers: [.init("Auto-Submitted", "auto-generated")])
                        try await MailOutbox.enqueue(
                            mail, kind: "bench", ticketID: nil, source: source, on: connection, now: SystemClock().now(), logger: logger)
                    }
                    try await connection.execute(
                        "UPDATE mail_outbox SET next_attempt_at = now() + interval '1 day' WHERE kind = 'bench' AND sent_at IS NULL", logger: logger)
                }
            }
            let released = try await client.first(
                """
                UPDATE mail_outbox SET next_attempt_at = now() WHERE kind = 'bench' AND message_id LIKE \("<bench-\(run)-%")
                RETURNING clock_timestamp() AS at
                """, logger: logger
            ) { try $0.get("at", as: Date.self) }
            guard let released else { throw ValidationError("no mail was queued") }
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while true {
                let (sent, dead, last) = try await client.first(
                    """
                    SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent, count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead, max(sent_at) AS last
                    FROM mail_outbox WHERE message_id LIKE \("<bench-\(run)-%")
                    """, logger: logger
                ) { (Int(try $0.get("sent", as: Int64.self)), Int(try $0.get("dead", as: Int64.self)), try $0.get("last", as: Date?.self)) }!
                if sent + dead >= count || ContinuousClock.now > deadline {
                    let seconds = (last ?? released).timeIntervalSince(released)
                    return Report(mails: count, sent: sent, dead: dead, seconds: seconds, perSecond: seconds > 0 ? Double(sent) / seconds : 0)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try printJSON(report)
    }
}
