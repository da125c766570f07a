import Foundation
import Logging
import PostgresNIO

/// Writes mail to the `mail_outbox` (migration 0018) in the caller's transaction, so a mail is
/// written exactly when the change that causes it commits. The writing service's replicas send it
/// (`MailDispatcher`); a mail server that is down delays it, never loses it.
public enum MailOutbox {
    /// Queues `mail` to be sent by `source`'s replicas. `kind` says what it is (`ticket.filed`,
    /// `agent.notification`, ...), `ticketID` which ticket's thread it belongs to.
    public static func enqueue(
        _ mail: OutgoingMail, kind: String, ticketID: UUID?, source: String, on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws {
        let document = try JSONCoding.string(mail)
        try await executor.execute(
            """
            INSERT INTO mail_outbox (id, source, kind, ticket_id, recipient, subject, message_id, mail, created_at)
            VALUES (\(UUID()), \(source), \(kind), \(ticketID), \(mail.to), \(mail.subject), \(mail.messageID), \(document)::jsonb, \(now))
            """, logger: logger)
    }
}
