import Foundation

/// The requester as shown on a ticket.
public struct Requester: Sendable, Codable, Equatable {
    public var id: UUID
    public var email: String
    public var name: String?
    public var phone: String?
    public var organization: String?

    public init(id: UUID, email: String, name: String? = nil, phone: String? = nil, organization: String? = nil) {
        self.id = id
        self.email = email
        self.name = name
        self.phone = phone
        self.organization = organization
    }
}

/// A ticket as both views show it. The agent view adds events, history and articles.
public struct Ticket: Sendable, Codable, Equatable {
    public var id: UUID
    public var reference: String
    public var status: TicketStatus
    public var tier: Tier?
    public var priority: Priority
    public var impact: Impact
    public var urgency: Urgency
    public var category: String?
    public var channel: Channel
    public var subject: String
    public var description: String
    public var requester: Requester
    public var assigneeId: UUID?
    public var requiredSkills: [String]
    public var vendorId: UUID?
    public var firstResponseDueAt: Date?
    public var resolutionDueAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int
    /// What the client attached at submission.
    public var metadata: [String: JSONValue]
    /// What the channel said: email message ids, a chat transcript, the agent who took a call.
    public var channelDetails: [String: JSONValue]

    public init(
        id: UUID, reference: String, status: TicketStatus, tier: Tier?, priority: Priority, impact: Impact,
        urgency: Urgency, category: String?, channel: Channel, subject: String, description: String,
        requester: Requester, assigneeId: UUID?, requiredSkills: [String], vendorId: UUID?,
        firstResponseDueAt: Date?, resolutionDueAt: Date?, createdAt: Date, updatedAt: Date, version: Int,
        metadata: [String: JSONValue] = [:], channelDetails: [String: JSONValue] = [:]
    ) {
        self.metadata = metadata
        self.channelDetails = channelDetails
        self.id = id
        self.reference = reference
        self.status = status
        self.tier = tier
        self.priority = priority
        self.impact = impact
        self.urgency = urgency
        self.category = category
        self.channel = channel
        self.subject = subject
        self.description = description
        self.requester = requester
        self.assigneeId = assigneeId
        self.requiredSkills = requiredSkills
        self.vendorId = vendorId
        self.firstResponseDueAt = firstResponseDueAt
        self.resolutionDueAt = resolutionDueAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// `TD-<n>`, the reference people say on the phone.
    public static func reference(number: Int64) -> String { "TD-\(number)" }
}

/// One line of a ticket's audit trail.
public struct TicketEvent: Sendable, Codable, Equatable {
    public var id: UUID
    public var type: EventType
    public var at: Date
    public var actor: String
    public var data: JSONValue
    /// The status and level the event left the ticket in; absent when it did not change them.
    public var status: TicketStatus?
    public var tier: Tier?

    public init(id: UUID, type: EventType, at: Date, actor: String, data: JSONValue, status: TicketStatus? = nil, tier: Tier? = nil) {
        self.id = id
        self.type = type
        self.at = at
        self.actor = actor
        self.data = data
        self.status = status
        self.tier = tier
    }
}
