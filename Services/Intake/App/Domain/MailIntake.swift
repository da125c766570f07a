import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Mail from the mail gateway becomes a reply or a ticket. Mail never acts as an agent, and `From`
/// alone proves nothing. A message threads onto a ticket as its requester's reply when it was sent
/// to the ticket's reply address (`ReplyAddress`, with its MAC), or when the gateway reports that
/// the sender passed DMARC and the sender is the ticket's requester (found by `In-Reply-To`,
/// `References` or a `[TD-<n>]` tag); anything else opens a ticket. A Message-ID seen before answers
/// what it did the first time.
///
/// Automatic mail (`InboundEmail.automatic`: auto-replies, bulk mail, bounces) never opens,
/// reopens or moves a ticket, so an auto-responder answering the help desk's mail cannot loop: an
/// auto-reply that threads onto a ticket (by the same proof as a reply) is kept as an internal note
/// for agents, marked `automatic` (on the event and in `email_messages`) so nothing is sent in
/// answer; one that threads nowhere is dropped. A bounce marks its failed recipients as bouncing
/// (`MailBounceStore`); a person's mail clears its sender's mark.
struct MailIntake: Sendable {
    let intake: TicketIntake
    let tickets: TicketStore
    let messages: EmailMessageStore
    let bounces: MailBounceStore
    let requesterTokenKey: RequesterTokenKey
    let replyAddresses: ReplyAddress

    /// Files one message in the caller's transaction.
    func receive(_ mail: InboundEmail, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> InboundEmailResult {
        try await messages.lock(mail.messageId, on: connection, logger: logger)
        if let seen = try await messages.ticketID(messageIDs: [mail.messageId], on: connection, logger: logger),
            let ticket = try await tickets.find(seen, on: connection, logger: logger)
        {
            return InboundEmailResult(
                outcome: .duplicate, ticketId: ticket.id, reference: ticket.reference, status: ticket.status, automatic: mail.automatic)
        }
        if let reason = mail.automatic { return try await receiveAutomatic(mail, reason: reason, on: connection, now: now, logger: logger) }
        try await bounces.clear(mail.sender.email, on: connection, logger: logger)
        if let target = try await thread(mail, on: connection, logger: logger),
            let ticket = try await append(mail, to: target, on: connection, now: now, logger: logger)
        {
            try await messages.remember(mail.messageId, ticket: ticket.id, on: connection, now: now, logger: logger)
            return InboundEmailResult(outcome: .threaded, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
        }
        let verified = mail.authentication?.passed ?? false
        let opened = try await intake.open(
            submission(mail), channelDetails: details(mail), submittedBy: .mail, requesterVerified: verified, on: connection, now: now, logger: logger)
        try await messages.remember(mail.messageId, ticket: opened.id, on: connection, now: now, logger: logger)
        // A duplicate's token is never answered: the same text under another Message-ID proves nothing.
        return InboundEmailResult(
            outcome: opened.duplicate ? .duplicate : .created, ticketId: opened.id, reference: opened.reference, status: opened.status,
            requesterToken: opened.duplicate ? nil : requesterTokenKey.token(ticketID: opened.id))
    }

    /// Automatic mail: a bounce marks its addresses; an auto-reply that threads becomes an internal
    /// note (the ticket's row, status and times untouched); anything else is dropped.
    func receiveAutomatic(_ mail: InboundEmail, reason: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws
        -> InboundEmailResult
    {
        if let report = mail.bounce, !report.failed.isEmpty {
            let marked = try await bounces.mark(report, messageID: mail.messageId, on: connection, now: now, logger: logger)
            logger.notice("mail bounced", metadata: ["mail.message_id": "\(mail.messageId)", "mail.bouncing": "\(marked)"])
            return InboundEmailResult(outcome: .bounced, automatic: reason, bouncing: marked)
        }
        guard let target = try await thread(mail, on: connection, logger: logger),
            let ticket = try await tickets.find(target, on: connection, logger: logger)
        else {
            logger.info("automatic mail for no ticket dropped", metadata: ["mail.message_id": "\(mail.messageId)", "mail.automatic": "\(reason)"])
            return InboundEmailResult(outcome: .ignored, automatic: reason)
        }
        let note = TicketCommented(
            message: "Automatic mail from \(mail.from) (\(reason)): \(mail.subject)\n\n\(String(mail.text.prefix(SubmitTicketRequest.maxDescriptionLength)))",
            audience: .agents, from: "mail", channel: .email, attachments: mail.attachments, automatic: reason)
        try await tickets.record(EventDraft(note, actor: "system:mail", isPublic: false), ticketID: ticket.id, on: connection, now: now, logger: logger)
        try await messages.remember(mail.messageId, ticket: ticket.id, automatic: reason, on: connection, now: now, logger: logger)
        return InboundEmailResult(outcome: .noted, ticketId: ticket.id, reference: ticket.reference, status: ticket.status, automatic: reason)
    }

    /// Adds the requester's reply to its ticket; nil when the ticket is closed (or resolved too long
    /// ago), since a mail gateway cannot act on a refusal: the mail then opens a new ticket.
    func append(_ mail: InboundEmail, to id: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Ticket? {
        do {
            return try await intake.reply(to: id, message: mail.text, via: .email, attachments: mail.attachments, on: connection, now: now, logger: logger)
        } catch IntakeError.ticketClosed {
            return nil
        }
    }

    /// The ticket a reply belongs to, when the message proves it may write there: sent to the
    /// ticket's reply address, or from its requester with DMARC passed. A message id, a reference or
    /// a `From` line alone is not proof of anything: anyone can write one.
    func thread(_ mail: InboundEmail, on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        if let id = replyAddresses.ticket(in: [mail.deliveredTo, mail.to].compactMap { $0 }),
            try await tickets.find(id, on: connection, logger: logger) != nil
        {
            return id
        }
        guard mail.authentication?.passed == true else { return nil }
        let answered = [mail.inReplyTo].compactMap { $0 } + (mail.references ?? [])
        var id = try await messages.ticketID(messageIDs: answered, on: connection, logger: logger)
        if id == nil, let number = mail.taggedReference {
            id = try await connection.first("SELECT id FROM tickets WHERE reference_number = \(number)", logger: logger) { try $0.get("id", as: UUID.self) }
        }
        guard let id, let ticket = try await tickets.find(id, on: connection, logger: logger) else { return nil }
        return RequesterStore.normalize(ticket.requester.email) == RequesterStore.normalize(mail.sender.email) ? id : nil
    }

    /// A new ticket from a message: subject and text cut to the limits (and flagged when cut).
    func submission(_ mail: InboundEmail) -> SubmitTicketRequest {
        let subject = String(mail.subject.trimmingCharacters(in: .whitespacesAndNewlines).prefix(SubmitTicketRequest.maxSubjectLength))
        let text = String(mail.text.prefix(SubmitTicketRequest.maxDescriptionLength))
        return SubmitTicketRequest(
            requester: RequesterInput(email: mail.sender.email, name: mail.sender.name), channel: .email, subject: subject.isEmpty ? "(no subject)" : subject,
            description: text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "(empty message)" : text)
    }

    /// What the ticket keeps of the message: its ids, whether its sender was proven, whether it was
    /// cut, and the files it carried (listed for agents, not stored).
    func details(_ mail: InboundEmail) -> [String: JSONValue] {
        var details: [String: JSONValue] = [
            "messageId": .string(mail.messageId), "to": .optional(mail.to), "from": .string(mail.from),
            "authenticated": .bool(mail.authentication?.passed ?? false),
            "truncated": .bool(mail.text.count > SubmitTicketRequest.maxDescriptionLength || mail.subject.count > SubmitTicketRequest.maxSubjectLength),
        ]
        if let files = mail.attachments, !files.isEmpty {
            details["attachments"] = .array(
                files.map { .object(["fileName": .optional($0.fileName), "contentType": .string($0.contentType), "size": .number(Double($0.size))]) })
        }
        return details
    }
}
