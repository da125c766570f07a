import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// Sends this service's `mail_outbox` rows (`source`) over SMTP. Each of `settings.connections`
/// loops leases up to `batchSize` due rows with `SKIP LOCKED` and sends them over one SMTP session
/// (one TLS handshake per batch, not per mail). A row is marked sent right after the server's 250,
/// fenced by its attempt number: a send that finishes after its lease ran out (and another replica
/// leased the row again) changes nothing. A 4xx reply, a timeout or a lost connection retries the
/// mail with exponential backoff and jitter; a 5xx reply, or the last attempt, dead-letters it
/// (kept for the admin list and its resend). Nothing is dropped; sent rows are pruned after the
/// retention, in small batches.
///
/// What remains: a replica that dies between the server's 250 and its mark's commit leaves the row
/// leased; after the lease another replica sends that mail again, with the same Message-ID. The
/// window is one UPDATE (2-3 ms on the shared two-core machine, about as long as the mail's own SMTP
/// exchange), for the one mail each connection has in flight: a SIGKILL sends about half the
/// connections' current mails twice (MailOutTests: 2-4 of 300 with four connections); SIGTERM none.
/// SMTP cannot close it: marking before the 250 would trade the duplicate for a possible loss.
public struct MailDispatcher: Service {
    let source: String
    let client: PostgresClient
    let smtp: SMTPClient
    let settings: MailDispatchSettings
    let clock: any WallClock
    let doorbell: Doorbell?
    let logger: Logger

    public init(
        source: String, client: PostgresClient, smtp: SMTPClient, settings: MailDispatchSettings, clock: any WallClock, doorbell: Doorbell? = nil,
        logger: Logger
    ) {
        self.source = source
        self.client = client
        self.smtp = smtp
        var settings = settings
        // A batch stops at half its lease; one mail waits for four replies at most.
        settings.lease = max(settings.lease, smtp.settings.timeout * 4)
        self.settings = settings
        self.clock = clock
        self.doorbell = doorbell
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "mail dispatcher sends over SMTP",
            metadata: ["smtp.host": "\(smtp.settings.host)", "smtp.port": "\(smtp.settings.port)", "smtp.tls": "\(smtp.settings.tls.rawValue)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for connection in 0..<settings.connections { group.addTask { await sendLoop(pruning: connection == 0) } }
                await group.waitForAll()
            }
        }
    }

    func sendLoop(pruning: Bool) async {
        var lastPrune: ContinuousClock.Instant?
        while !Task.isCancelled {
            let leased = await sendDue()
            if pruning && lastPrune.map({ ContinuousClock.now - $0 > .seconds(600) }) ?? true {
                await pruneSent()
                lastPrune = .now
            }
            if leased < settings.batchSize {
                if let doorbell { await doorbell.wait(timeout: settings.pollInterval) } else { try? await Task.sleep(for: settings.pollInterval) }
            }
        }
    }

    /// One leased row.
    struct Due: Sendable {
        var id: UUID
        /// The attempt this lease is: its fencing token.
        var attempts: Int
        var kind: String
        var document: String
    }

    /// Leases up to `$3` due rows of source `$1` for `$2` seconds, oldest due first (`mail_outbox_due_idx`).
    struct LeaseDue: HotStatement {
        static let sql = """
            UPDATE mail_outbox m SET attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
            FROM (SELECT id FROM mail_outbox
                  WHERE source = $1 AND sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
                  ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
            WHERE m.id = due.id
            RETURNING m.id, m.attempts, m.kind, m.mail::text AS mail
            """
        let bindings: PostgresBindings
    }

    /// Leases one batch and sends it over one session; returns how many rows it leased.
    func sendDue() async -> Int {
        let batch: [Due]
        do {
            batch = try await client.all(LeaseDue(bindings: try PostgresBindings(source, settings.lease.seconds, settings.batchSize)), logger: logger) { row in
                Due(id: try row.get("id"), attempts: Int(try row.get("attempts", as: Int32.self)), kind: try row.get("kind"), document: try row.get("mail"))
            }
        } catch {
            logger.warning("mail lease failed", metadata: ["error": "\(String(reflecting: error))"])
            return 0
        }
        guard !batch.isEmpty else { return 0 }
        let started = ContinuousClock.now
        let connection: SMTPConnection
        do {
            connection = try await smtp.connect()
        } catch {
            // The server is down or refuses this client (a wrong password, no STARTTLS): a setting to
            // fix or an outage to wait out, never the mails' fault, so they wait and retry.
            Counter(label: "tierdesk_mail_session_failures_total", dimensions: [("source", source)]).increment()
            logger.error("mail: cannot open an SMTP session", metadata: ["error": "\(error)", "smtp.host": "\(smtp.settings.host)"])
            for row in batch { await failed(row, error: error.description, permanent: false) }
            return batch.count
        }
        var remaining = batch[...]
        while let row = remaining.popFirst() {
            // Shutdown, or a batch slow enough to near its lease: the rest go back in line now.
            if Task.isCancelled || ContinuousClock.now - started > settings.lease / 2 {
                let handedBack = [row] + Array(remaining)
                await Self.uncancelled { await release(handedBack) }
                break
            }
            guard let outcome = await send(row, over: connection) else {
                // At once, before the next mail: the window in which a crash sends this mail twice
                // is this one UPDATE, for one mail per connection.
                await Self.uncancelled { await markSent(row) }
                continue
            }
            let rest = outcome.leavesConnectionUsable ? [] : Array(remaining)
            await Self.uncancelled {
                await failed(row, error: outcome.description, permanent: outcome.isPermanent)
                for other in rest { await failed(other, error: outcome.description, permanent: false) }
            }
            if !rest.isEmpty { break }
        }
        await connection.close()
        Timer(label: "tierdesk_mail_batch_seconds", dimensions: [("source", source)], preferredDisplayUnit: .seconds).record(
            duration: ContinuousClock.now - started)
        return batch.count
    }

    /// Runs bookkeeping to its end even when shutdown cancelled the loop: a mail the server took
    /// must be marked, or it goes again after the lease.
    static func uncancelled(_ work: @escaping @Sendable () async -> Void) async {
        await Task { await work() }.value
    }

    /// Sends one row; nil when the server took it, else why not. A row that cannot be written as a
    /// message (undecodable, an injected line break) is refused as permanent: no retry can fix it.
    func send(_ row: Due, over connection: SMTPConnection) async -> SMTPError? {
        let message: String
        let mail: OutgoingMail
        do {
            mail = try JSONCoding.decoder.decode(OutgoingMail.self, from: Data(row.document.utf8))
            message = try MIMEMessage.render(mail, from: smtp.settings.from, date: clock.now())
        } catch {
            return .rejected(command: "the message", reply: SMTPReply(code: 554, lines: ["cannot be written: \(error)"]))
        }
        do {
            try await connection.send(message, from: smtp.settings.from.address, to: mail.to)
            return nil
        } catch {
            return error
        }
    }

    /// SQL for the row's `mail` once it left or was given up: a one-time kind's parts replaced
    /// (`MailOutbox.oneTimeKinds`; constants of this code, quoted here).
    static let forgetOneTimeSecret: String = {
        func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        return "CASE WHEN kind IN (\(MailOutbox.oneTimeKinds.map(literal).joined(separator: ", "))) "
            + "THEN mail || jsonb_build_object('text', \(literal(MailOutbox.removedText))::text, 'html', NULL) ELSE mail END"
    }()

    /// Marks a row sent, fenced by its attempt: a lease that ran out changes nothing. One statement
    /// (2-3 ms on the shared machine, as long as the SMTP exchange of a mail): an asynchronous commit
    /// in its own transaction measured no shorter (2026-12-05, issue 25).
    func markSent(_ row: Due) async {
        do {
            try await client.execute(
                """
                UPDATE mail_outbox SET sent_at = now(), last_error = NULL, mail = \(unescaped: Self.forgetOneTimeSecret)
                WHERE id = \(row.id) AND attempts = \(Int32(row.attempts)) AND sent_at IS NULL AND dead_at IS NULL
                """, logger: logger)
            Counter(label: "tierdesk_mail_sent_total", dimensions: [("source", source), ("kind", row.kind)]).increment()
        } catch {
            // The lease runs out and the mail goes again: a duplicate, never a loss.
            logger.warning("mail bookkeeping failed", metadata: ["mail.id": "\(row.id)", "error": "\(String(reflecting: error))"])
        }
    }

    /// A failed attempt: dead-lettered when permanent or the last one, else due again after a backoff.
    func failed(_ row: Due, error: String, permanent: Bool) async {
        let dead = permanent || row.attempts >= settings.maxAttempts
        do {
            if dead {
                try await client.execute(
                    """
                    UPDATE mail_outbox SET dead_at = now(), last_error = \(error), mail = \(unescaped: Self.forgetOneTimeSecret)
                    WHERE id = \(row.id) AND attempts = \(Int32(row.attempts)) AND sent_at IS NULL AND dead_at IS NULL
                    """, logger: logger)
                Counter(label: "tierdesk_mail_dead_letters_total", dimensions: [("source", source)]).increment()
                logger.error("mail dead-lettered", metadata: ["mail.id": "\(row.id)", "mail.kind": "\(row.kind)", "error": "\(error)"])
            } else {
                try await client.execute(
                    """
                    UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => \(backoff(attempt: row.attempts).seconds)), last_error = \(error)
                    WHERE id = \(row.id) AND attempts = \(Int32(row.attempts)) AND sent_at IS NULL AND dead_at IS NULL
                    """, logger: logger)
                Counter(label: "tierdesk_mail_retries_total", dimensions: [("source", source)]).increment()
                logger.debug("mail will be retried", metadata: ["mail.id": "\(row.id)", "error": "\(error)"])
            }
        } catch {
            logger.warning("mail bookkeeping failed", metadata: ["mail.id": "\(row.id)", "error": "\(String(reflecting: error))"])
        }
    }

    /// Puts leased rows that were not tried back in line at once (their attempt stays counted).
    func release(_ rows: [Due]) async {
        guard !rows.isEmpty else { return }
        do {
            try await client.execute(
                """
                UPDATE mail_outbox m SET next_attempt_at = now()
                FROM unnest(\(rows.map(\.id))::uuid[], \(rows.map { Int32($0.attempts) })::int[]) AS r(id, attempts)
                WHERE m.id = r.id AND m.attempts = r.attempts AND m.sent_at IS NULL AND m.dead_at IS NULL
                """, logger: logger)
        } catch {
            logger.warning("mail bookkeeping failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Exponential from one second, capped, with jitter (half fixed, half random).
    func backoff(attempt: Int) -> Duration {
        let exponential = pow(2.0, Double(min(attempt - 1, 30)))
        let capped = min(exponential, settings.maxBackoff.seconds)
        return .milliseconds(Int(capped * 1000 * Double.random(in: 0.5...1.0)))
    }

    /// Deletes this service's mail sent before the retention, 1,000 rows per statement.
    func pruneSent() async {
        do {
            while !Task.isCancelled {
                let removed = try await client.all(
                    """
                    DELETE FROM mail_outbox WHERE id IN (
                        SELECT id FROM mail_outbox WHERE source = \(source) AND sent_at < now() - make_interval(secs => \(settings.retention.seconds)) LIMIT 1000)
                    RETURNING 1 AS one
                    """, logger: logger
                ) { _ in 1 }.count
                if removed < 1000 { return }
            }
        } catch {
            logger.debug("mail pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
