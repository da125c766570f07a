import Foundation
import TierdeskModels

/// What a new ticket starts as.
public struct TicketDraft: Sendable {
    public var id: UUID
    public var status: TicketStatus
    public var tier: Tier?
    public var impact: Impact
    public var urgency: Urgency
    public var category: String?
    public var channel: TierdeskModels.Channel
    public var subject: String
    public var description: String
    public var requesterID: UUID
    public var metadata: [String: JSONValue]
    public var channelDetails: [String: JSONValue]

    public init(
        id: UUID = .timeOrdered(), status: TicketStatus = .new, tier: Tier? = nil, impact: Impact, urgency: Urgency, category: String?,
        channel: TierdeskModels.Channel, subject: String, description: String, requesterID: UUID, metadata: [String: JSONValue] = [:],
        channelDetails: [String: JSONValue] = [:]
    ) {
        self.channelDetails = channelDetails
        self.id = id
        self.status = status
        self.tier = tier
        self.impact = impact
        self.urgency = urgency
        self.category = category
        self.channel = channel
        self.subject = subject
        self.description = description
        self.requesterID = requesterID
        self.metadata = metadata
    }
}

/// One line for the audit trail; handed to peers too when the change names destinations.
public struct EventDraft: Sendable {
    public var id: UUID
    public var type: EventType
    public var actor: String
    public var isPublic: Bool
    public var data: JSONValue

    public init(id: UUID = .timeOrdered(), type: EventType, actor: String, isPublic: Bool = true, data: JSONValue = [:]) {
        self.id = id
        self.type = type
        self.actor = actor
        self.isPublic = isPublic
        self.data = data
    }
}

/// A checked change of one ticket, ready for `TicketStore.save`: the ticket as read and locked,
/// as it will be, and the event (with its hand-offs) that records the change.
public struct TicketChange: Sendable {
    public let before: Ticket
    public let after: Ticket
    public let event: EventDraft
    public let handOff: [String]

    /// `target` is the lifecycle move the change makes (checked even when it is a self-loop such as
    /// a move to another tier's queue); `from`, when given, the statuses the move may start from (an
    /// action narrower than the lifecycle, such as escalating a ticket that is being worked);
    /// `change` edits the ticket and may throw to refuse; any other status change must also be
    /// allowed by the lifecycle.
    public init(
        _ current: Ticket, to target: TicketStatus? = nil, from: Set<TicketStatus>? = nil, event: EventDraft, handOff: [String] = [],
        _ change: (inout Ticket) throws -> Void = { _ in }
    ) throws {
        if let from, !from.contains(current.status) {
            throw TicketStoreError.invalidTransition(from: current.status, to: target ?? current.status)
        }
        var ticket = current
        if let target {
            guard current.status.canTransition(to: target) else { throw TicketStoreError.invalidTransition(from: current.status, to: target) }
            ticket.status = target
        }
        try change(&ticket)
        if ticket.status != current.status && !current.status.canTransition(to: ticket.status) {
            throw TicketStoreError.invalidTransition(from: current.status, to: ticket.status)
        }
        before = current
        after = ticket
        self.event = event
        self.handOff = handOff + (Self.mailsRequester(event) && !handOff.contains("intake") ? ["intake"] : [])
    }

    /// The events the requester is mailed about (intake writes the mail): public comments, pending,
    /// resolved and closed written by anyone but the requester. Every writer's change hands them to
    /// intake here, the one place that decides it.
    public static let requesterMailed: Set<EventType> = [.ticketCommented, .ticketPending, .ticketResolved, .ticketClosed]

    /// Whether `event` goes to intake for the requester's mail.
    static func mailsRequester(_ event: EventDraft) -> Bool {
        event.isPublic && requesterMailed.contains(event.type) && !event.actor.hasPrefix("requester")
    }
}
