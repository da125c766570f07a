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
struct MailIntake: Sendable {
    let intake: TicketIntake
    let tickets: TicketStore
    let messages: EmailMessageStore
    let requesterTokenKey: RequesterTokenKey
    let replyAddresses: ReplyAddress

    /// Files one message in the caller's transaction.
    func receive(_ mail: InboundEmail, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> InboundEmailResult {
        try await messages.lock(mail.messageId, on: connection, logger: logger)
        if let seen = try await messages.ticketID(messageIDs: [mail.messageId], on: connection, logger: logger),
            let ticket = try await tickets.find(seen, on: connection, logger: logger)
        {
            return InboundEmailResult(outcome: .duplicate, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
        }
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

    /// Adds the requester's reply to its ticket; nil when the ticket is closed (or resolved too long
    /// ago), since a mail gateway cannot act on a refusal: the mail then opens a new ticket.
    func append(_ mail: InboundEmail, to id: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Ticket? {
        do {
            return try await intake.reply(to: id, message: mail.text, via: .email, on: connection, now: now, logger: logger)
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

    func details(_ mail: InboundEmail) -> [String: JSONValue] {
        [
            "messageId": .string(mail.messageId), "to": .optional(mail.to), "from": .string(mail.from),
            "authenticated": .bool(mail.authentication?.passed ?? false),
            "truncated": .bool(mail.text.count > SubmitTicketRequest.maxDescriptionLength || mail.subject.count > SubmitTicketRequest.maxSubjectLength),
            // What says a machine sent it (`RequesterMail.openedByAutomaticMail`): no mail answers it.
            "headers": .object((mail.headers ?? [:]).mapValues { .string($0) }),
        ]
    }
}
