import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Mail from a mail gateway (admin token): a reply to a known ticket, by `In-Reply-To`/`References`
/// or a `[TD-<n>]` tag from the ticket's own requester, is added to that ticket; anything else opens
/// one. A Message-ID seen before answers what it did the first time.
struct InboundEmailController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("v1/inbound/email", use: receive)
    }

    @Sendable func receive(request: Request, context: AppRequestContext) async throws -> JSONResponse<InboundEmailResult> {
        try context.requireAdmin()
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
                    let ticket = try await intake.reply(to: target, message: mail.text, via: .email, on: connection, now: now, logger: logger)
                    try await remember(mail.messageId, ticket: ticket.id, on: connection, now: now, logger: logger)
                    return InboundEmailResult(outcome: .threaded, ticketId: ticket.id, reference: ticket.reference, status: ticket.status)
                } catch let problem as Problem where problem.status == 409 {
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

    /// The ticket a reply belongs to: by the message ids it answers, else by a `[TD-<n>]` tag when
    /// the sender is the ticket's requester (a reference alone is not proof of anything).
    func thread(_ mail: InboundEmail, sender: String, on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        let answered = [mail.inReplyTo].compactMap { $0 } + (mail.references ?? [])
        if let id = try await ticketID(messageIDs: answered, on: connection, logger: logger) { return id }
        guard let number = mail.taggedReference else { return nil }
        return try await connection.first(
            """
            SELECT t.id FROM tickets t JOIN requesters r ON r.id = t.requester_id
            WHERE t.reference_number = \(number) AND r.email_normalized = \(RequesterStore.normalize(sender))
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) }
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
