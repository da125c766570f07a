import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Mail from the mail gateway (its own token, `TIERDESK_MAIL_GATEWAY_TOKEN`): a reply to a known
/// ticket (by `In-Reply-To`/`References` or a `[TD-<n>]` tag) is added to that ticket only when its
/// sender is the ticket's requester, or an active agent who may read the ticket (as that agent's
/// public comment); anything else opens a ticket. A Message-ID seen before answers what it did the
/// first time.
struct InboundEmailController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("v1/inbound/email", use: receive)
    }

    @Sendable func receive(request: Request, context: AppRequestContext) async throws -> JSONResponse<InboundEmailResult> {
        guard try context.authenticated() == .mailGateway else { throw Problem.forbidden("this endpoint is for the mail gateway's token") }
        let mail = try await request.decodeJSON(InboundEmail.self, context: context)
        try mail.validate()
        let (sender, name) = mail.sender
        let (intake, tickets, secret) = (deps.intake, deps.runtime.tickets, deps.secret)
        let logger = context.logger
        let result = try await deps.runtime.postgres.transaction(logger: logger) { connection -> InboundEmailResult in
            let now = Date()
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("email:" + mail.messageId), 0))", logger: logger)
            if let seen = try await ticketID(messageIDs: [mail.messageId], on: connection, logger: logger),
                let ticket = try await tickets.find(seen, on: connection, logger: logger)
            {
                return InboundEmailResult(outcome: .duplicate, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
            }
            if let target = try await thread(mail, sender: sender, on: connection, logger: logger) {
                do {
                    let ticket: Ticket
                    switch target.from {
                    case .requester:
                        ticket = try await intake.reply(to: target.ticket.id, message: mail.text, via: .email, on: connection, now: now, logger: logger)
                    case .agent(let agent):
                        let comment = EventDraft(
                            type: .ticketCommented, actor: TicketStore.actor(agent), data: ["message": .string(mail.text), "channel": "email"])
                        ticket = try await tickets.update(target.ticket.id, event: comment, on: connection, now: now, logger: logger) { ticket in
                            guard ticket.status != .closed else { throw TicketStoreError.invalidTransition(from: .closed, to: .closed) }
                        }
                    }
                    try await remember(mail.messageId, ticket: ticket.id, on: connection, now: now, logger: logger)
                    return InboundEmailResult(outcome: .threaded, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
                } catch let problem as any ProblemConvertible where problem.problem.status == 409 {
                    // A reply to a closed ticket: a mail gateway cannot act on a 409, so it opens a new ticket.
                }
            }
            let subject = String(mail.subject.trimmingCharacters(in: .whitespacesAndNewlines).prefix(SubmitTicketRequest.maxSubjectLength))
            let text = String(mail.text.prefix(SubmitTicketRequest.maxDescriptionLength))
            let submission = SubmitTicketRequest(
                requester: RequesterInput(email: sender, name: name), channel: .email, subject: subject.isEmpty ? "(no subject)" : subject,
                description: text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "(empty message)" : text)
            let details: [String: JSONValue] = [
                "messageId": .string(mail.messageId), "to": .optional(mail.to), "from": .string(mail.from),
                "truncated": .bool(text.count < mail.text.count || mail.subject.count > SubmitTicketRequest.maxSubjectLength),
            ]
            let (ticket, _) = try await intake.open(submission, channelDetails: details, on: connection, now: now, logger: logger)
            try await remember(mail.messageId, ticket: ticket.id, on: connection, now: now, logger: logger)
            return InboundEmailResult(
                outcome: .created, ticketId: ticket.id, reference: ticket.reference, status: ticket.status,
                requesterToken: Secrets.requesterToken(ticketID: ticket.id, secret: secret))
        }
        return JSONResponse(result, status: result.outcome == .created ? .created : .ok)
    }

    /// Who a threaded reply is from.
    enum Sender {
        case requester
        case agent(AgentIdentity)
    }

    /// The ticket a reply belongs to (by the message ids it answers, else by a `[TD-<n>]` tag) and
    /// who sent it, when the sender may write on it: the ticket's requester, or an active agent who
    /// may read it. A message id or a reference alone is not proof of anything: anyone can quote one.
    func thread(_ mail: InboundEmail, sender: String, on connection: PostgresConnection, logger: Logger) async throws -> (ticket: Ticket, from: Sender)? {
        let answered = [mail.inReplyTo].compactMap { $0 } + (mail.references ?? [])
        var id = try await ticketID(messageIDs: answered, on: connection, logger: logger)
        if id == nil, let number = mail.taggedReference {
            id = try await connection.first("SELECT id FROM tickets WHERE reference_number = \(number)", logger: logger) { try $0.get("id", as: UUID.self) }
        }
        let tickets = deps.runtime.tickets
        guard let id, let ticket = try await tickets.find(id, on: connection, logger: logger) else { return nil }
        let email = RequesterStore.normalize(sender)
        if RequesterStore.normalize(ticket.requester.email) == email { return (ticket, .requester) }
        // Agents are read here to recognise their mail; tier-queue alone writes them.
        let agent = try await connection.first(
            "SELECT id, tiers, skills, wip_limit FROM agents WHERE email = \(email) AND active", logger: logger
        ) { row in
            AgentIdentity(
                id: try row.get("id"), tiers: Set(try row.get("tiers", as: [Int16].self).compactMap { Tier(rawValue: Int($0)) }),
                skills: try row.get("skills"), wipLimit: Int(try row.get("wip_limit", as: Int32.self)))
        }
        if let agent, try await tickets.agentMayRead(ticket, agent: agent, on: connection, logger: logger) { return (ticket, .agent(agent)) }
        return nil
    }

    func ticketID(messageIDs: [String], on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        guard !messageIDs.isEmpty else { return nil }
        return try await connection.first(
            "SELECT ticket_id FROM email_messages WHERE message_id = ANY(\(messageIDs)::text[]) ORDER BY received_at LIMIT 1", logger: logger
        ) { try $0.get("ticket_id", as: UUID.self) }
    }

    func remember(_ messageID: String, ticket: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        try await connection.execute(
            "INSERT INTO email_messages (message_id, ticket_id, received_at) VALUES (\(messageID), \(ticket), \(now)) ON CONFLICT DO NOTHING",
            logger: logger)
    }
}
