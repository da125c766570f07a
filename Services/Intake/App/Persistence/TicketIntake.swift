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
    /// A ticket takes at most this many replies from its requester: a stolen link or a loop of
    /// auto-replies cannot grow its trail without end.
    static let maxReplies = 500

    /// Opens a ticket and hands it to triage, or answers the ticket an identical submission of the
    /// same requester opened in the last minute (`duplicate`). One statement, one round trip, no
    /// transaction of its own (`TicketStore.submit`): the requester (found, or created from this
    /// submission), then the ticket with its event and hand-off. The contact details a submission
    /// gives are kept on the ticket (`channelDetails.contact`), never written over a stored profile.
    /// `actor` names who submitted when it is not the requester (an integration).
    /// `submittedBy` and `requesterVerified` say who vouches for the submission (`SubmissionFacts`),
    /// which triage reads to decide what the submission's statements may steer.
    func open(
        _ input: SubmitTicketRequest, channelDetails: [String: JSONValue] = [:], actor: String? = nil, submittedBy: SubmittedBy,
        requesterVerified: Bool, on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws -> TicketStore.Opened {
        var details = channelDetails
        if let contact = Self.contact(input.requester) { details["contact"] = contact }
        let email = input.requester.email.trimmingCharacters(in: .whitespacesAndNewlines)
        let submitter = TicketStore.Submitter(
            email: email, normalizedEmail: RequesterStore.normalize(email), name: input.requester.name, phone: input.requester.phone,
            organization: input.requester.organization)
        let draft = TicketDraft(
            impact: input.impact ?? .medium, urgency: input.urgency ?? .medium, category: input.category, channel: input.channel,
            subject: input.subject, description: input.description, requesterID: UUID.timeOrdered(at: now), metadata: input.metadata ?? [:],
            channelDetails: details)
        // Triage fills the defaulted ones from the ticket's category when the requester gave none.
        let facts = SubmissionFacts(
            defaulted: Set([input.impact == nil ? "impact" : nil, input.urgency == nil ? "urgency" : nil].compactMap { $0 }), submittedBy: submittedBy,
            requesterVerified: requesterVerified)
        let data = TicketCreated(channel: input.channel, facts: facts).data
        // Intake hands the new ticket to itself too: the requester's mail is written off this hot path (`RequesterMail`).
        let opened = try await tickets.submit(
            draft, by: submitter, actor: actor, eventData: data, handOff: ["triage", "intake"], duplicateSince: now.addingTimeInterval(-Self.duplicateWindow),
            on: executor, now: now, logger: logger)
        if !opened.duplicate {
            logger.info(
                "ticket submitted", metadata: ["ticket.id": "\(opened.id)", "ticket.reference": "\(opened.reference)", "channel": "\(input.channel.rawValue)"])
        }
        return opened
    }

    /// The name, phone and organization a submission gave, as the agent sees them beside the profile.
    static func contact(_ requester: RequesterInput) -> JSONValue? {
        let given = [("name", requester.name), ("phone", requester.phone), ("organization", requester.organization)].filter { $0.1 != nil }
        guard !given.isEmpty else { return nil }
        return .object(Dictionary(uniqueKeysWithValues: given.map { ($0.0, JSONValue.optional($0.1)) }))
    }

    /// The requester adds information. A ticket waiting on the customer, or resolved within the
    /// reopen window, goes back to its queue; a closed one (or one resolved long ago) is 409.
    /// `attachments` lists the files a reply by mail carried.
    func reply(
        to id: UUID, message: String, via channel: TierdeskModels.Channel, attachments: [MailAttachment]? = nil, on connection: PostgresConnection,
        now: Date, logger: Logger
    ) async throws -> Ticket {
        guard let current = try await tickets.find(id, on: connection, logger: logger) else { throw IntakeError.ticketNotFound }
        let replies =
            try await connection.first(
                """
                SELECT count(*) AS replies FROM ticket_events
                WHERE ticket_id = \(id) AND type IN ('ticket.commented', 'ticket.reopened') AND actor LIKE 'requester%'
                """, logger: logger
            ) { Int(try $0.get("replies", as: Int64.self)) } ?? 0
        guard replies < Self.maxReplies else { throw IntakeError.tooManyReplies(Self.maxReplies) }
        let reopening = current.status == .resolved && now.timeIntervalSince(current.updatedAt) <= Self.reopenWindow
        let actor = "requester:\(current.requester.id.uuidString.lowercased())"
        let event =
            reopening
            ? EventDraft(TicketReopened(message: message, from: "requester", channel: channel, attachments: attachments), actor: actor)
            : EventDraft(TicketCommented(message: message, from: "requester", channel: channel, attachments: attachments), actor: actor)
        // tier-queue re-arms (or resumes) the SLA clock of a ticket the reply brings back to its queue.
        let backToQueue = reopening || current.status == .pendingCustomer
        // A ticket at level 4 comes back to the level that escalated it, never to level 4's unserved queue.
        let tier = try await tickets.reopeningTier(of: current, on: connection, logger: logger)
        return try await tickets.update(id, event: event, handOff: backToQueue ? ["tier-queue"] : [], on: connection, now: now, logger: logger) { ticket in
            switch ticket.status {
            case .pendingCustomer,
                .resolved where reopening:
                ticket.requeue(tier: tier, now: now)
            case .resolved, .closed:
                throw IntakeError.ticketClosed(status: ticket.status)
            default:
                break
            }
        }
    }
}
