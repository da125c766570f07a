import Foundation
import Logging
import PostgresNIO

/// Writes mail to the `mail_outbox` (migration 0018) in the caller's transaction, so a mail is
/// written exactly when the change that causes it commits. The writing service's replicas send it
/// (`MailDispatcher`); a mail server that is down delays it, never loses it.
public enum MailOutbox {
    /// Kinds whose mail carries a one-time secret (a sign-in link): it rests in the outbox only while
    /// it waits; once sent or dead its parts are replaced by `removedText`, and it is never resent.
    public static let oneTimeKinds = ["sign_in"]
    public static let removedText = "(removed once sent or given up: it carried a one-time link)"

    /// Queues `mail` to be sent by `source`'s replicas. `kind` says what it is (`ticket.filed`,
    /// `agent.notification`, ...), `ticketID` which ticket's thread it belongs to.
    public static func enqueue(
        _ mail: OutgoingMail, kind: String, ticketID: UUID?, source: String, on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws {
        try await enqueue([Entry(mail, kind: kind, ticketID: ticketID)], source: source, on: executor, now: now, logger: logger)
    }

    /// One mail of a batch for `enqueue(_:source:on:now:logger:)`.
    public struct Entry: Sendable {
        public var mail: OutgoingMail
        public var kind: String
        public var ticketID: UUID?

        public init(_ mail: OutgoingMail, kind: String, ticketID: UUID?) {
            self.mail = mail
            self.kind = kind
            self.ticketID = ticketID
        }
    }

    /// Queues a batch of mails (a batch of hand-offs' mail) in one statement, in the caller's transaction.
    public static func enqueue(_ entries: [Entry], source: String, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        guard !entries.isEmpty else { return }
        let documents = try entries.map { try JSONCoding.string($0.mail) }
        try await executor.execute(
            """
            INSERT INTO mail_outbox (id, source, kind, ticket_id, recipient, subject, message_id, mail, created_at)
            SELECT m.id, \(source), m.kind, NULLIF(m.ticket_id, '')::uuid, m.recipient, m.subject, m.message_id, m.mail::jsonb, \(now)
            FROM unnest(\(entries.map { _ in UUID() })::uuid[], \(entries.map(\.kind))::text[], \(entries.map { $0.ticketID?.uuidString ?? "" })::text[],
                \(entries.map(\.mail.to))::text[], \(entries.map(\.mail.subject))::text[], \(entries.map(\.mail.messageID))::text[], \(documents)::text[])
                AS m(id, kind, ticket_id, recipient, subject, message_id, mail)
            """, logger: logger)
    }
}
