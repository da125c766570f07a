import Foundation

/// The requester's contact details as submitted.
public struct RequesterInput: Sendable, Codable, Equatable {
    public var email: String
    public var name: String?
    public var phone: String?
    public var organization: String?

    public init(email: String, name: String? = nil, phone: String? = nil, organization: String? = nil) {
        self.email = email
        self.name = name
        self.phone = phone
        self.organization = organization
    }
}

/// `POST /v1/tickets`.
public struct SubmitTicketRequest: Sendable, Codable, Equatable {
    public var requester: RequesterInput
    public var channel: Channel
    public var subject: String
    public var description: String
    public var impact: Impact?
    public var urgency: Urgency?
    public var category: String?
    public var metadata: [String: JSONValue]?
    /// `chat` only: the conversation that led to the ticket.
    public var transcript: [ChatLine]?

    public init(
        requester: RequesterInput, channel: Channel, subject: String, description: String, impact: Impact? = nil,
        urgency: Urgency? = nil, category: String? = nil, metadata: [String: JSONValue]? = nil, transcript: [ChatLine]? = nil
    ) {
        self.transcript = transcript
        self.requester = requester
        self.channel = channel
        self.subject = subject
        self.description = description
        self.impact = impact
        self.urgency = urgency
        self.category = category
        self.metadata = metadata
    }

    public static let maxSubjectLength = 200
    public static let maxDescriptionLength = 64 * 1024

    /// Every rule a submission must meet, all reported at once.
    public func validate() throws(Problem) {
        var v = Validation()
        v.email(requester.email, field: "requester.email")
        v.text(requester.name, field: "requester.name", required: false, maxLength: 200)
        v.text(requester.phone, field: "requester.phone", required: false, maxLength: 50)
        v.text(requester.organization, field: "requester.organization", required: false, maxLength: 200)
        v.text(subject, field: "subject", maxLength: Self.maxSubjectLength)
        v.text(description, field: "description", maxLength: Self.maxDescriptionLength, multiline: true)
        v.text(category, field: "category", required: false, maxLength: 100)
        if let category, !Self.isSlug(category) { v.fail("category", "must be lowercase letters, digits, '-' or '_'") }
        if let transcript {
            if channel != .chat { v.fail("transcript", "is for the chat channel only") }
            if transcript.count > 500 { v.fail("transcript", "must have at most 500 lines") }
            for (index, line) in transcript.prefix(500).enumerated() {
                v.text(line.from, field: "transcript[\(index)].from", maxLength: 200)
                v.text(line.text, field: "transcript[\(index)].text", maxLength: 10_000, multiline: true)
            }
        }
        if let metadata, (try? JSONEncoder().encode(metadata).count).map({ $0 > 16 * 1024 }) ?? true {
            v.fail("metadata", "must be at most 16 KiB of JSON")
        } else if let metadata, JSONValue.object(metadata).containsNUL {
            v.fail("metadata", "must not contain NUL characters (U+0000)")
        }
        try v.check()
    }

    public static func isSlug(_ value: String) -> Bool {
        !value.isEmpty && value.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}

/// 201 answer of `POST /v1/tickets`. `requesterToken` lets the requester follow the ticket.
public struct SubmitTicketResponse: Sendable, Codable, Equatable {
    public var id: UUID
    public var reference: String
    public var status: TicketStatus
    /// Only in the answer that created the ticket (or its replay under the same Idempotency-Key):
    /// never to a duplicate submission, which anybody who knows the requester's email could send.
    public var requesterToken: String?
    /// True when an identical submission of the last minute already opened this ticket.
    public var duplicate: Bool?

    public init(id: UUID, reference: String, status: TicketStatus, requesterToken: String? = nil, duplicate: Bool? = nil) {
        self.id = id
        self.reference = reference
        self.status = status
        self.requesterToken = requesterToken
        self.duplicate = duplicate
    }
}

/// `POST /v1/tickets/{id}/replies` (requester) and `/comments` (agent).
public struct CommentRequest: Sendable, Codable, Equatable {
    public var message: String
    /// Agents only: an internal note never shown to the requester.
    public var `internal`: Bool?

    public init(message: String, internal: Bool? = nil) {
        self.message = message
        self.internal = `internal`
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(message, field: "message", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        try v.check()
    }
}

/// A ticket with what its reader may see: public events for the requester; everything, the
/// requester's other tickets and suggested articles for an agent. Encodes flat: the ticket's
/// fields and these beside them.
public struct TicketDetail: Sendable, Codable, Equatable {
    public var ticket: Ticket
    public var events: [TicketEvent]
    public var requesterHistory: [TicketSummary]?
    public var suggestedArticles: [ArticleSummary]?
    /// The agent view's SLA, swarm, hand-off and problem (tier-queue), encoded flat beside the rest.
    public var work: TicketWorkContext?

    public init(
        ticket: Ticket, events: [TicketEvent], requesterHistory: [TicketSummary]? = nil, suggestedArticles: [ArticleSummary]? = nil,
        work: TicketWorkContext? = nil
    ) {
        self.ticket = ticket
        self.events = events
        self.requesterHistory = requesterHistory
        self.suggestedArticles = suggestedArticles
        self.work = work
    }

    private enum CodingKeys: String, CodingKey { case events, requesterHistory, suggestedArticles, workMode }

    public init(from decoder: any Decoder) throws {
        ticket = try Ticket(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        events = try container.decode([TicketEvent].self, forKey: .events)
        requesterHistory = try container.decodeIfPresent([TicketSummary].self, forKey: .requesterHistory)
        suggestedArticles = try container.decodeIfPresent([ArticleSummary].self, forKey: .suggestedArticles)
        work = container.contains(.workMode) ? try TicketWorkContext(from: decoder) : nil
    }

    public func encode(to encoder: any Encoder) throws {
        try ticket.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encodeIfPresent(requesterHistory, forKey: .requesterHistory)
        try container.encodeIfPresent(suggestedArticles, forKey: .suggestedArticles)
        try work?.encode(to: encoder)
    }
}

/// A ticket in a list: the requester's history, a queue.
public struct TicketSummary: Sendable, Codable, Equatable {
    public var id: UUID
    public var reference: String
    public var status: TicketStatus
    public var tier: Tier?
    public var priority: Priority
    public var category: String?
    public var subject: String
    public var assigneeId: UUID?
    public var resolutionDueAt: Date?
    public var createdAt: Date

    public init(
        id: UUID, reference: String, status: TicketStatus, tier: Tier?, priority: Priority, category: String?, subject: String, assigneeId: UUID?,
        resolutionDueAt: Date?, createdAt: Date
    ) {
        self.id = id
        self.reference = reference
        self.status = status
        self.tier = tier
        self.priority = priority
        self.category = category
        self.subject = subject
        self.assigneeId = assigneeId
        self.resolutionDueAt = resolutionDueAt
        self.createdAt = createdAt
    }

    public init(_ ticket: Ticket) {
        id = ticket.id
        reference = ticket.reference
        status = ticket.status
        tier = ticket.tier
        priority = ticket.priority
        category = ticket.category
        subject = ticket.subject
        assigneeId = ticket.assigneeId
        resolutionDueAt = ticket.resolutionDueAt
        createdAt = ticket.createdAt
    }
}

/// A knowledge-base article in a list of suggestions or search results.
public struct ArticleSummary: Sendable, Codable, Equatable {
    public var id: UUID
    public var title: String
    public var snippet: String?
    public var score: Double?

    public init(id: UUID, title: String, snippet: String? = nil, score: Double? = nil) {
        self.id = id
        self.title = title
        self.snippet = snippet
        self.score = score
    }
}
