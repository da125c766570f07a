import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// How intake opens tickets and takes requesters' replies, whatever the channel.
public struct TicketIntake: Sendable {
    let tickets: TicketStore
    let requesters: RequesterStore
    /// An identical submission from the same requester within this window is a retry, not a new ticket.
    static let duplicateWindow: TimeInterval = 60
    /// A resolved ticket reopens on a reply within this window.
    static let reopenWindow: TimeInterval = 7 * 86_400

    /// Opens a ticket and hands it to triage, or returns the ticket an identical submission of the
    /// last minute opened (`duplicate`). Per requester, submissions are serialised by an advisory lock.
    /// The contact details a submission gives are kept on the ticket (`channelDetails.contact`),
    /// never written over the requester's stored profile. `actor` names who submitted when it is not
    /// the requester (an integration).
    func open(
        _ input: SubmitTicketRequest, channelDetails: [String: JSONValue] = [:], actor: String? = nil, on connection: PostgresConnection, now: Date,
        logger: Logger
    ) async throws -> (ticket: Ticket, duplicate: Bool) {
        let email = RequesterStore.normalize(input.requester.email)
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("intake:" + email), 0))", logger: logger)
        let existing = try await connection.first(
            """
            SELECT t.id FROM tickets t JOIN requesters r ON r.id = t.requester_id
            WHERE r.email_normalized = \(email) AND t.created_at > \(now.addingTimeInterval(-Self.duplicateWindow))
              AND t.channel = \(input.channel.rawValue) AND t.subject = \(input.subject) AND t.description = \(input.description)
            ORDER BY t.created_at LIMIT 1
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) }
        if let existing, let ticket = try await tickets.find(existing, on: connection, logger: logger) { return (ticket, true) }

        let requesterID = try await requesters.findOrCreate(input.requester, on: connection, now: now, logger: logger)
        var details = channelDetails
        if let contact = Self.contact(input.requester) { details["contact"] = contact }
        let draft = TicketDraft(
            impact: input.impact ?? .medium, urgency: input.urgency ?? .medium, category: input.category, channel: input.channel,
            subject: input.subject, description: input.description, requesterID: requesterID, metadata: input.metadata ?? [:],
            channelDetails: details)
        let event = EventDraft(
            id: draft.id, type: .ticketCreated, actor: actor ?? "requester:\(requesterID.uuidString.lowercased())",
            data: ["channel": .string(input.channel.rawValue)])
        let ticket = try await tickets.insert(draft, event: event, handOff: ["triage"], on: connection, now: now, logger: logger)
        logger.info("ticket submitted", metadata: ["ticket.id": "\(ticket.id)", "ticket.reference": "\(ticket.reference)", "channel": "\(input.channel.rawValue)"])
        return (ticket, false)
    }

    /// The name, phone and organization a submission gave, as the agent sees them beside the profile.
    static func contact(_ requester: RequesterInput) -> JSONValue? {
        let given = [("name", requester.name), ("phone", requester.phone), ("organization", requester.organization)].filter { $0.1 != nil }
        guard !given.isEmpty else { return nil }
        return .object(Dictionary(uniqueKeysWithValues: given.map { ($0.0, JSONValue.optional($0.1)) }))
    }

    /// The requester adds information. A ticket waiting on the customer, or resolved within the
    /// reopen window, goes back to its queue; a closed one (or one resolved long ago) is 409.
    func reply(to id: UUID, message: String, via channel: TierdeskModels.Channel, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Ticket {
        guard let current = try await tickets.find(id, on: connection, logger: logger) else { throw IntakeError.ticketNotFound }
        let reopening = current.status == .resolved && now.timeIntervalSince(current.updatedAt) <= Self.reopenWindow
        let event = EventDraft(
            type: reopening ? .ticketReopened : .ticketCommented, actor: "requester:\(current.requester.id.uuidString.lowercased())",
            data: ["message": .string(message), "from": "requester", "channel": .string(channel.rawValue)])
        return try await tickets.update(id, event: event, on: connection, now: now, logger: logger) { ticket in
            switch ticket.status {
            case .pendingCustomer, .resolved where reopening:
                ticket.requeue(tier: max(ticket.tier ?? .firstLine, .firstLine), now: now)
            case .resolved, .closed:
                throw IntakeError.ticketClosed(status: ticket.status)
            default:
                break
            }
        }
    }
}
