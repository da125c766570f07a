import Foundation

/// Who submitted a ticket, as intake proved it. What an anonymous caller types is their statement;
/// an agent, the admin and an integration key vouch for what they send (DESIGN "Trust follows proof").
public enum SubmittedBy: String, Sendable, Codable, CaseIterable {
    /// Nobody vouched: a web form, or a mail whose sender was not authenticated.
    case requester
    case agent, admin, integration
    /// The mail gateway; the requester's address is proven only when the mail passed authentication.
    case mail

    /// Whether the submitter vouches for the category, impact and urgency it sets.
    public var vouches: Bool { self == .agent || self == .admin || self == .integration }
}

/// What intake's `ticket.created` tells triage about a submission.
public struct SubmissionFacts: Sendable, Equatable {
    /// The fields intake filled in because the requester gave none.
    public var defaulted: Set<String>
    public var submittedBy: SubmittedBy
    /// The requester's address is proven: a submitter that vouches, or mail that passed SPF/DKIM/DMARC.
    public var requesterVerified: Bool

    public init(defaulted: Set<String> = [], submittedBy: SubmittedBy = .requester, requesterVerified: Bool = false) {
        self.defaulted = defaulted
        self.submittedBy = submittedBy
        self.requesterVerified = requesterVerified
    }

    /// Reads a `ticket.created` event's data; anything missing or unknown is the least trusted reading.
    public init(data: JSONValue) {
        let created = TicketCreated(data: data)
        self.init(
            defaulted: Set(created?.defaulted ?? []), submittedBy: created?.submittedBy ?? .requester, requesterVerified: created?.requesterVerified ?? false)
    }
}

/// `ticket.created`: the channel, and what intake proved of the submission (`SubmissionFacts`).
public struct TicketCreated: EventPayload {
    public static let eventType = EventType.ticketCreated
    public var channel: Channel?
    public var defaulted: [String]?
    public var submittedBy: SubmittedBy?
    public var requesterVerified: Bool?

    public init(channel: Channel, facts: SubmissionFacts) {
        self.channel = channel
        defaulted = facts.defaulted.sorted()
        submittedBy = facts.submittedBy
        requesterVerified = facts.requesterVerified
    }
}

/// What a requester may see of their ticket: the public trail through an allow-list per event type,
/// every member of staff shown as "the help desk", the contact details of their own submission
/// (never the stored profile), and no agent, vendor, skill or integration of the desk.
public enum RequesterView {
    /// How the trail names everybody who is not the requester.
    public static let helpDesk = "help desk"

    /// The data keys a requester reads of each event type; nil: the requester never sees the event.
    /// A switch without `default`, so a new event type cannot be added without deciding.
    public static func allowedKeys(_ type: EventType) -> Set<String>? {
        switch type {
        case .ticketCreated: ["channel"]
        case .ticketTriaged: ["tier", "priority", "category"]
        case .ticketQueued: ["tier"]
        case .ticketClaimed: []
        case .ticketCommented: ["message", "channel", "from"]
        case .ticketPending: ["on", "reason"]
        case .ticketEscalated, .ticketDeescalated: ["toTier"]
        case .ticketResolved: ["resolution", "code"]
        case .ticketReopened: ["message", "channel", "from"]
        case .ticketClosed: ["confirmed", "rejected", "reason"]
        case .vendorCaseOpened, .vendorUpdated: []
        case .ticketReassigned, .collaboratorAdded, .collaboratorRemoved, .problemLinked, .problemStorm, .kbPublished, .vendorMessageSent,
            .vendorOverdue, .vendorCaseClosed, .slaWarning, .slaBreached:
            nil
        }
    }

    /// An event as the requester sees it, or nil when it is not theirs to see. `isPublic` is the
    /// flag the writer set (an internal note is never shown, whatever its type).
    public static func event(_ event: TicketEvent, isPublic: Bool = true) -> TicketEvent? {
        guard isPublic, let keys = allowedKeys(event.type) else { return nil }
        var shown = event
        if case .object(let data) = event.data {
            // An allowed key still never carries who inside the desk did it (`agent:<id>`, `system:triage`).
            shown.data = .object(data.filter { keys.contains($0.key) && !isActor($0.value) })
        } else {
            shown.data = [:]
        }
        shown.actor = event.actor.hasPrefix("requester") ? "requester" : helpDesk
        // The triage rejection reason is written for the requester; a close note never is.
        if event.type == .ticketClosed, event.data["rejected"]?.boolValue != true { shown.data = shown.data.removing("reason") }
        return shown
    }

    /// Whether a value names somebody inside the desk the way the trail does (`agent:<id>`,
    /// `system:triage`, `admin`): one word, so a message that merely starts so is kept.
    static func isActor(_ value: JSONValue) -> Bool {
        guard let text = value.stringValue, !text.contains(where: \.isWhitespace) else { return false }
        return text == "admin" || ["agent:", "admin:", "system:", "integration:", "vendor:"].contains { text.hasPrefix($0) }
    }

    /// The ticket as its requester sees it: the contact details this submission gave (`contact`),
    /// with no assignee, vendor, skills, metadata or channel details.
    public static func ticket(_ ticket: Ticket) -> Ticket {
        var shown = ticket
        let contact = ticket.channelDetails["contact"]
        shown.requester = Requester(
            id: ticket.requester.id, email: ticket.requester.email, name: contact?["name"]?.stringValue, phone: contact?["phone"]?.stringValue,
            organization: contact?["organization"]?.stringValue)
        shown.assigneeId = nil
        shown.vendorId = nil
        shown.requiredSkills = []
        shown.metadata = [:]
        shown.channelDetails = [:]
        return shown
    }
}

extension JSONValue {
    /// An object without `key`; anything else as it is.
    public func removing(_ key: String) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object[key] = nil
        return .object(object)
    }
}
