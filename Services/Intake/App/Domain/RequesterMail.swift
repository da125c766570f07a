import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// What requesters receive by mail: their ticket filed (`ticket.created`, handed by intake to
/// itself), a public agent comment, a question while the ticket waits on them, the resolution
/// (with "confirm", "still broken" and the survey), the close, and a reminder while it waits on
/// them (`RequesterReminders`). Each mail is written to `mail_outbox` in the transaction that
/// applies the event that causes it, threaded onto the ticket's earlier mail (and the requester's
/// own message, when the ticket came by mail), with `[TD-n]` in the subject, the ticket's reply
/// address and `Auto-Submitted: auto-generated`. No mail goes to an address that cannot take one,
/// for an internal note or for the requester's own doing; automatic mail opens no ticket and its notes are internal (`MailIntake`).
struct RequesterMail: Sendable {
    /// A mail's kind: the template set it is written from, and `mail_outbox.kind`.
    enum Kind: String, Sendable, CaseIterable {
        case filed = "ticket.filed"
        case commented = "ticket.commented"
        case question = "ticket.question"
        case reminder = "ticket.reminder"
        case resolved = "ticket.resolved"
        case closed = "ticket.closed"
    }

    /// The service whose replicas send requesters' mail.
    static let source = "intake"
    /// The sign-in mail's kind (`RequesterAccountController`): about no ticket.
    static let signInKind = "sign_in"

    let templates: MailTemplates
    let links: RequesterLinks
    let replyAddresses: ReplyAddress
    let replyDomain: String

    /// The mail an event calls for, and its message (the comment, the question, the resolution, the
    /// reason for a close); nil for none. Intake is handed only public events of others than the
    /// requester (`TicketChange.requesterMailed`); this also leaves out what mails nobody: an
    /// internal note, a wait on a vendor, a Level 0 self-service resolution, the requester's own
    /// confirmation, a ticket triage refused (a rule's rejection: often spam, never answered).
    static func kind(of event: EventEnvelope) -> (Kind, message: String?)? {
        switch event.type {
        case .ticketCreated:
            return (.filed, nil)
        case .ticketCommented:
            guard let comment = TicketCommented(data: event.data), comment.audience != .agents, comment.from != "requester" else { return nil }
            return (.commented, comment.message)
        case .ticketPending:
            guard let pending = TicketPending(data: event.data), pending.on == .customer else { return nil }
            return (.question, pending.note)
        case .ticketResolved:
            guard let resolved = TicketResolved(data: event.data), resolved.tier != Tier.selfService.rawValue else { return nil }
            return (.resolved, resolved.resolution)
        case .ticketClosed:
            guard let closed = TicketClosed(data: event.data), closed.rejected != true, closed.confirmed != true else { return nil }
            return (.closed, closed.reason ?? closed.note)
        default:
            return nil
        }
    }

    /// Writes the mail `events` call for, in the caller's transaction: one read of their tickets and
    /// one insert for the whole batch.
    func write(for events: [EventEnvelope], on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        let wanted = events.compactMap { event in event.ticketId.flatMap { id in Self.kind(of: event).map { (id, $0.0, $0.message) } } }
        guard !wanted.isEmpty else { return }
        var threads = try await Self.threads(of: wanted.map(\.0), on: connection, logger: logger)
        var entries: [MailOutbox.Entry] = []
        for (id, kind, message) in wanted {
            guard let thread = threads[id] else { continue }
            guard let mail = compose(kind, message: message, thread: thread) else {
                logger.info("no mail: the requester has no address that takes one", metadata: ["ticket.id": "\(id)", "mail.kind": "\(kind.rawValue)"])
                continue
            }
            threads[id]?.messageIDs.append(mail.messageID)
            entries.append(MailOutbox.Entry(mail, kind: kind.rawValue, ticketID: id))
        }
        try await MailOutbox.enqueue(entries, source: Self.source, on: connection, now: now, logger: logger)
        if !entries.isEmpty { logger.debug("requester mail written", metadata: ["mails": "\(entries.count)"]) }
    }

    /// The mail of `kind` to the ticket's requester, or nil when their address cannot take one.
    /// `values` adds to what every template gets.
    func compose(_ kind: Kind, message: String?, thread: Thread, values extra: [String: String] = [:]) -> OutgoingMail? {
        guard Self.deliverable(thread.email) else { return nil }
        let token = links.token(thread.ticketID, generation: thread.tokenGeneration)
        var values: [String: Any] = ["reference": thread.reference, "subject": thread.subject, "ticketLink": links.ticket(thread.ticketID, token: token)]
        if let name = thread.name, !name.isEmpty { values["name"] = name }
        if let message, !message.isEmpty { values["message"] = message }
        if kind == .resolved {
            values["confirmLink"] = links.confirm(thread.ticketID, token: token)
            values["reopenLink"] = links.reopen(thread.ticketID, token: token)
            values["surveyLink"] = links.survey(thread.ticketID, token: token)
        }
        values.merge(extra) { _, new in new }
        guard let rendered = templates.render(kind.rawValue, values) else { return nil }
        // The tag threads a reply whatever the template says: an operator's subject without it gets it in front.
        let tag = "[\(thread.reference)]"
        let subject = rendered.subject.contains(tag) ? rendered.subject : MailTemplates.oneLine(tag + " " + rendered.subject)
        // The thread's first message and its latest ones: References stays short on a long ticket.
        let references = thread.messageIDs.count > 20 ? [thread.messageIDs[0]] + thread.messageIDs.suffix(19) : thread.messageIDs
        return OutgoingMail(
            to: thread.email, toName: thread.name.map(MailTemplates.oneLine), subject: subject, text: rendered.text, html: rendered.html,
            messageID: OutgoingMail.newMessageID(domain: replyDomain), inReplyTo: thread.messageIDs.last, references: references,
            replyTo: replyAddresses.make(ticketID: thread.ticketID, domain: replyDomain),
            headers: [.init("Auto-Submitted", "auto-generated"), .init("X-Auto-Response-Suppress", "All")])
    }

    /// The mail that carries a sign-in link to `address`; nil when the address cannot take one. It
    /// belongs to no ticket's thread and has no reply address.
    func signIn(key: String, to address: String, name: String?) -> OutgoingMail? {
        guard Self.deliverable(address) else { return nil }
        var values: [String: Any] = ["signInLink": links.signIn(key: key)]
        if let name, !name.isEmpty { values["name"] = name }
        guard let rendered = templates.render(Self.signInKind, values) else { return nil }
        return OutgoingMail(
            to: address, toName: name.map(MailTemplates.oneLine), subject: rendered.subject, text: rendered.text, html: rendered.html,
            messageID: OutgoingMail.newMessageID(domain: replyDomain),
            headers: [.init("Auto-Submitted", "auto-generated"), .init("X-Auto-Response-Suppress", "All")])
    }

    /// Whether `address` can be written to and carries nothing but an address: one `@`, no white
    /// space, controls or list and header punctuation.
    static func deliverable(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return (3...254).contains(address.count) && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !address.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F || "<>,;:\"()[]\\".unicodeScalars.contains($0) }
    }

    /// What a ticket's mail needs: its requester, its token's generation (the link must open it),
    /// and its thread so far.
    struct Thread: Sendable {
        var ticketID: UUID
        var reference: String
        var subject: String
        var email: String
        var name: String?
        var tokenGeneration: Int
        /// The thread's Message-IDs, oldest first: the requester's mails (`email_messages`) and ours.
        var messageIDs: [String]
    }

    /// The threads of `ids` (unknown ids are left out), in one statement.
    static func threads(of ids: [UUID], on connection: PostgresConnection, logger: Logger) async throws -> [UUID: Thread] {
        let rows = try await connection.all(
            """
            SELECT t.id, t.reference_number, t.subject, r.email, r.name, COALESCE(g.generation, 0) AS generation,
                ARRAY(SELECT m.message_id FROM (
                    SELECT e.message_id, e.received_at AS at, 0 AS mine FROM email_messages e WHERE e.ticket_id = t.id
                    UNION ALL
                    SELECT o.message_id, o.created_at, 1 FROM mail_outbox o WHERE o.ticket_id = t.id AND o.source = \(source)) m
                    ORDER BY m.at, m.mine, m.message_id) AS thread
            FROM tickets t JOIN requesters r ON r.id = t.requester_id LEFT JOIN requester_token_generations g ON g.ticket_id = t.id
            WHERE t.id = ANY(\(ids))
            """, logger: logger
        ) { row in
            return Thread(
                ticketID: try row.get("id"), reference: Ticket.reference(number: try row.get("reference_number")), subject: try row.get("subject"),
                email: try row.get("email"), name: try row.get("name"), tokenGeneration: Int(try row.get("generation", as: Int32.self)),
                messageIDs: try row.get("thread"))
        }
        return Dictionary(rows.map { ($0.ticketID, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// The requester's links in mail, on the console (`TIERDESK_PUBLIC_URL`). The ticket's token rides
/// in the fragment (`#token=`), which browsers never send to a server, so no access log or proxy
/// keeps it; the page's script posts it to the console, which opens the ticket's session. A link
/// never changes anything by being opened: "confirm" and "still broken" open a page whose button posts.
struct RequesterLinks: Sendable {
    let base: String
    let tokens: RequesterTokenKey

    func token(_ id: UUID, generation: Int) -> String { tokens.token(ticketID: id, generation: generation) }
    func ticket(_ id: UUID, token: String) -> String { "\(base)/t/\(Self.path(id))#token=\(token)" }
    func confirm(_ id: UUID, token: String) -> String { "\(base)/t/\(Self.path(id))/confirm#token=\(token)" }
    func reopen(_ id: UUID, token: String) -> String { "\(base)/t/\(Self.path(id))/reopen#token=\(token)" }
    /// The satisfaction question's page.
    func survey(_ id: UUID, token: String) -> String { "\(base)/t/\(Self.path(id))/satisfaction#token=\(token)" }
    /// A sign-in link: its key in the fragment, as a ticket's token.
    func signIn(key: String) -> String { "\(base)/sign-in#token=\(key)" }

    static func path(_ id: UUID) -> String { id.uuidString.lowercased() }
}
