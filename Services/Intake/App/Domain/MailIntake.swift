import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Mail from the mail gateway becomes a reply or a ticket. A reply to a known ticket (by
/// `In-Reply-To`/`References`, or a `[TD-<n>]` tag) is added to that ticket only when its sender is
/// the ticket's requester, or an active agent who may read the ticket (as that agent's public
/// comment); anything else opens a ticket. A Message-ID seen before answers what it did the first time.
struct MailIntake: Sendable {
    let intake: TicketIntake
    let tickets: TicketStore
    let messages: EmailMessageStore
    let requesterTokenKey: RequesterTokenKey

    /// Who a threaded reply is from.
    enum Sender {
        case requester
        case agent(AgentIdentity)
    }

    /// Files one message in the caller's transaction.
    func receive(_ mail: InboundEmail, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> InboundEmailResult {
        try await messages.lock(mail.messageId, on: connection, logger: logger)
        if let seen = try await messages.ticketID(messageIDs: [mail.messageId], on: connection, logger: logger),
            let ticket = try await tickets.find(seen, on: connection, logger: logger)
        {
            return InboundEmailResult(outcome: .duplicate, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
        }
        if let target = try await thread(mail, on: connection, logger: logger),
            let ticket = try await append(mail, to: target.ticket.id, from: target.from, on: connection, now: now, logger: logger)
        {
            try await messages.remember(mail.messageId, ticket: ticket.id, on: connection, now: now, logger: logger)
            return InboundEmailResult(outcome: .threaded, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
        }
        let opened = try await intake.open(submission(mail), channelDetails: details(mail), on: connection, now: now, logger: logger)
        try await messages.remember(mail.messageId, ticket: opened.id, on: connection, now: now, logger: logger)
        // A duplicate's token is never answered: the same text under another Message-ID proves nothing.
        return InboundEmailResult(
            outcome: opened.duplicate ? .duplicate : .created, ticketId: opened.id, reference: opened.reference, status: opened.status,
            requesterToken: opened.duplicate ? nil : requesterTokenKey.token(ticketID: opened.id))
    }

    /// Adds a reply to its ticket; nil when the ticket is closed (or resolved too long ago), since a
    /// mail gateway cannot act on a refusal: the mail then opens a new ticket.
    func append(_ mail: InboundEmail, to id: UUID, from sender: Sender, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Ticket? {
        do {
            switch sender {
            case .requester:
                return try await intake.reply(to: id, message: mail.text, via: .email, on: connection, now: now, logger: logger)
            case .agent(let agent):
                let comment = EventDraft(type: .ticketCommented, actor: TicketStore.actor(agent), data: ["message": .string(mail.text), "channel": "email"])
                return try await tickets.update(id, event: comment, on: connection, now: now, logger: logger) { ticket in
                    guard ticket.status != .closed else { throw IntakeError.ticketClosed(status: ticket.status) }
                }
            }
        } catch IntakeError.ticketClosed {
            return nil
        }
    }

    /// The ticket a reply belongs to and who sent it, when the sender may write on it. A message id
    /// or a reference alone is not proof of anything: anyone can quote one.
    func thread(_ mail: InboundEmail, on connection: PostgresConnection, logger: Logger) async throws -> (ticket: Ticket, from: Sender)? {
        let answered = [mail.inReplyTo].compactMap { $0 } + (mail.references ?? [])
        var id = try await messages.ticketID(messageIDs: answered, on: connection, logger: logger)
        if id == nil, let number = mail.taggedReference {
            id = try await connection.first("SELECT id FROM tickets WHERE reference_number = \(number)", logger: logger) { try $0.get("id", as: UUID.self) }
        }
        guard let id, let ticket = try await tickets.find(id, on: connection, logger: logger) else { return nil }
        let email = RequesterStore.normalize(mail.sender.email)
        if RequesterStore.normalize(ticket.requester.email) == email { return (ticket, .requester) }
        // Agents are read here to recognise their mail; tier-queue alone writes them.
        let agent = try await connection.first("SELECT id, tiers, skills, wip_limit FROM agents WHERE email = \(email) AND active", logger: logger) { row in
            AgentIdentity(
                id: try row.get("id"), tiers: Set(try row.get("tiers", as: [Int16].self).compactMap { Tier(rawValue: Int($0)) }),
                skills: try row.get("skills"), wipLimit: Int(try row.get("wip_limit", as: Int32.self)))
        }
        if let agent, try await tickets.agentMayRead(ticket, agent: agent, on: connection, logger: logger) { return (ticket, .agent(agent)) }
        return nil
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
            "truncated": .bool(mail.text.count > SubmitTicketRequest.maxDescriptionLength || mail.subject.count > SubmitTicketRequest.maxSubjectLength),
        ]
    }
}
