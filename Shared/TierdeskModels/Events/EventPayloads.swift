import Foundation

/// The data of one event type, typed: written into `ticket_events.data` and the envelope's `data`
/// by its writer, read back by every reader through the same type, so a renamed or retyped field is
/// a compile error instead of a silent null. Ids are written lowercase (RFC 9562's canonical form).
public protocol EventPayload: Codable, Sendable, Equatable {
    static var eventType: EventType { get }
}

extension EventPayload {
    /// The payload as event data.
    public var data: JSONValue {
        // Encoding plain values (strings, numbers, ids, ISO 8601 dates) cannot fail.
        guard let encoded = try? EventPayloadCoding.encoder.encode(self),
            let value = try? EventPayloadCoding.decoder.decode(JSONValue.self, from: encoded)
        else { return [:] }
        return value.lowercasingIDs()
    }

    /// The payload of `data`, or nil when it is not one (another type's data, or a field missing).
    public init?(data: JSONValue) {
        guard let encoded = try? EventPayloadCoding.encoder.encode(data), let payload = try? EventPayloadCoding.decoder.decode(Self.self, from: encoded)
        else { return nil }
        self = payload
    }

    /// The payload of `event` when it is of this payload's type.
    public init?(_ event: TicketEvent) {
        guard event.type == Self.eventType else { return nil }
        self.init(data: event.data)
    }
}

enum EventPayloadCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

extension JSONValue {
    /// The same value with every UUID-shaped string in lowercase.
    func lowercasingIDs() -> JSONValue {
        switch self {
        case .string(let text) where text.utf8.count == 36 && UUID(uuidString: text) != nil: .string(text.lowercased())
        case .array(let items): .array(items.map { $0.lowercasingIDs() })
        case .object(let members): .object(members.mapValues { $0.lowercasingIDs() })
        default: self
        }
    }
}

/// `ticket.escalated`: from one level to a higher one, or to a vendor (level 4, `vendorId`), with the
/// receiving level's hand-off fields. Read by the next level's view, vendor-bridge and the timeline.
public struct TicketEscalated: EventPayload {
    public static let eventType = EventType.ticketEscalated
    /// Nil when a triage rule sent the ticket straight to a vendor.
    public var fromTier: Int?
    public var toTier: Int
    public var reason: String
    public var vendorId: UUID?
    public var handOff: [String: String]?
    /// Moved by the SLA clock, not by a person.
    public var automatic: Bool?

    public init(fromTier: Int?, toTier: Int, reason: String, vendorId: UUID? = nil, handOff: [String: String]? = nil, automatic: Bool? = nil) {
        self.automatic = automatic
        self.fromTier = fromTier
        self.toTier = toTier
        self.reason = reason
        self.vendorId = vendorId
        self.handOff = handOff
    }
}

/// `ticket.deescalated`: back to a lower level with a note for it.
public struct TicketDeescalated: EventPayload {
    public static let eventType = EventType.ticketDeescalated
    public var fromTier: Int
    public var toTier: Int
    public var note: String

    public init(fromTier: Int, toTier: Int, note: String) {
        self.fromTier = fromTier
        self.toTier = toTier
        self.note = note
    }
}

/// `ticket.pending`: waiting on the customer or a vendor, for a typed reason.
public struct TicketPending: EventPayload {
    public static let eventType = EventType.ticketPending
    public var on: PendingRequest.On
    public var reason: PendingReason
    public var note: String?

    public init(reason: PendingReason, note: String?) {
        self.on = reason.on
        self.reason = reason
        self.note = note
    }
}

/// `ticket.reassigned`: given to another agent of its level, by a person or pushed by the
/// assigner (`strategy`).
public struct TicketReassigned: EventPayload {
    public static let eventType = EventType.ticketReassigned
    public var from: UUID?
    public var to: UUID
    public var note: String?
    public var strategy: String?

    public init(from: UUID? = nil, to: UUID, note: String? = nil, strategy: String? = nil) {
        self.from = from
        self.to = to
        self.note = note
        self.strategy = strategy
    }
}

/// `ticket.collaborator_added` and `ticket.collaborator_removed`: an agent joins or leaves the swarm.
public struct CollaboratorChanged: EventPayload {
    public static let eventType = EventType.collaboratorAdded
    public var agentId: UUID

    public init(agentId: UUID) { self.agentId = agentId }
}

/// `ticket.commented`: a public reply to the requester or, `audience: agents`, an internal note.
public struct TicketCommented: EventPayload {
    public static let eventType = EventType.ticketCommented
    public enum Audience: String, Sendable, Codable { case requester, agents }
    public var message: String
    /// Nil for a requester's reply (`from: requester`).
    public var audience: Audience?
    public var from: String?
    public var channel: Channel?
    /// The files the requester's mail carried (listed, not stored).
    public var attachments: [MailAttachment]?
    /// Set on a note that automatic mail left (an auto-reply, `InboundEmail.automatic`): nobody
    /// may be mailed in answer to it.
    public var automatic: String?

    public init(
        message: String, audience: Audience? = nil, from: String? = nil, channel: Channel? = nil, attachments: [MailAttachment]? = nil,
        automatic: String? = nil
    ) {
        self.message = message
        self.audience = audience
        self.from = from
        self.channel = channel
        self.attachments = attachments
        self.automatic = automatic
    }
}

/// `ticket.resolved`: how, with a resolution code; at level 0, the article the requester used.
public struct TicketResolved: EventPayload {
    public static let eventType = EventType.ticketResolved
    public var resolution: String
    public var code: ResolutionCode?
    public var articleId: UUID?
    public var tier: Int?

    public init(resolution: String, code: ResolutionCode?, articleId: UUID? = nil, tier: Int? = nil) {
        self.resolution = resolution
        self.code = code
        self.articleId = articleId
        self.tier = tier
    }
}

/// `ticket.queued`: waiting in its level's queue.
public struct TicketQueued: EventPayload {
    public static let eventType = EventType.ticketQueued
    public var tier: Int

    public init(tier: Int) { self.tier = tier }
}

/// `ticket.reopened`: the requester's reply (`message`) or the level's decision (`reason`).
public struct TicketReopened: EventPayload {
    public static let eventType = EventType.ticketReopened
    public var message: String?
    public var reason: String?
    public var from: String?
    public var channel: Channel?
    /// The files the requester's mail carried (listed, not stored).
    public var attachments: [MailAttachment]?

    public init(message: String? = nil, reason: String? = nil, from: String? = nil, channel: Channel? = nil, attachments: [MailAttachment]? = nil) {
        self.message = message
        self.reason = reason
        self.from = from
        self.channel = channel
        self.attachments = attachments
    }
}

/// `ticket.closed`: by the level (`note`), confirmed by the requester, or rejected at triage with the
/// `reason` the requester reads.
public struct TicketClosed: EventPayload {
    public static let eventType = EventType.ticketClosed
    public var note: String?
    public var confirmed: Bool?
    public var rejected: Bool?
    public var reason: String?

    public init(note: String? = nil, confirmed: Bool? = nil, rejected: Bool? = nil, reason: String? = nil) {
        self.note = note
        self.confirmed = confirmed
        self.rejected = rejected
        self.reason = reason
    }
}

/// `kb.published`: an article written when a ticket was resolved, for intake to store.
public struct KnowledgeArticlePublished: EventPayload {
    public static let eventType = EventType.kbPublished
    public var title: String
    public var body: String
    public var category: String?
    public var sourceTicketId: UUID?
    public var authorLevel: Int?
    public var authorAgentId: UUID?

    public init(title: String, body: String, category: String?, sourceTicketId: UUID?, authorLevel: Int?, authorAgentId: UUID?) {
        self.title = title
        self.body = body
        self.category = category
        self.sourceTicketId = sourceTicketId
        self.authorLevel = authorLevel
        self.authorAgentId = authorAgentId
    }
}

/// `vendor.case_opened`, `vendor.case_closed` and `vendor.overdue` (`target`: which contract target
/// passed): what happened to the ticket's vendor case.
public struct VendorCaseChanged: EventPayload {
    public static let eventType = EventType.vendorCaseOpened
    public var caseId: UUID
    public var vendorId: UUID?
    public var target: String?

    public init(caseId: UUID, vendorId: UUID? = nil, target: String? = nil) {
        self.caseId = caseId
        self.vendorId = vendorId
        self.target = target
    }
}

/// `vendor.message_sent`: the company's message to the vendor, reopening the case or not.
public struct VendorMessageSent: EventPayload {
    public static let eventType = EventType.vendorMessageSent
    public var caseId: UUID
    public var message: String
    public var reopened: Bool

    public init(caseId: UUID, message: String, reopened: Bool) {
        self.caseId = caseId
        self.message = message
        self.reopened = reopened
    }
}

/// `vendor.updated`: the vendor's update to its case.
public struct VendorUpdated: EventPayload {
    public static let eventType = EventType.vendorUpdated
    public var caseId: UUID
    public var status: VendorCaseStatus
    public var message: String
    public var eta: Date?

    public init(caseId: UUID, status: VendorCaseStatus, message: String, eta: Date?) {
        self.caseId = caseId
        self.status = status
        self.message = message
        self.eta = eta
    }
}

/// `ticket.triaged`: triage's decision; why (the rule, the explanation) is for agents only.
public struct TicketTriaged: EventPayload {
    public static let eventType = EventType.ticketTriaged
    /// What only agents read: the rule that matched and triage's explanation.
    public struct Internal: Codable, Sendable, Equatable {
        public struct Rule: Codable, Sendable, Equatable {
            public var id: UUID
            public var name: String
            public init(id: UUID, name: String) {
                self.id = id
                self.name = name
            }
        }
        public var rule: Rule?
        public var explanation: TriageExplanation
        public init(rule: Rule?, explanation: TriageExplanation) {
            self.rule = rule
            self.explanation = explanation
        }
    }
    public var tier: Int?
    public var priority: Priority
    public var category: String?
    public var `internal`: Internal?

    public init(tier: Int?, priority: Priority, category: String?, internal: Internal?) {
        self.tier = tier
        self.priority = priority
        self.category = category
        self.internal = `internal`
    }
}

/// `problem.linked`: the ticket joined a problem (recurring, a storm, a known error with its workaround).
public struct ProblemLinked: EventPayload {
    public static let eventType = EventType.problemLinked
    public var problemId: UUID
    public var title: String
    public var reason: String
    public var knownError: Bool
    public var workaround: String?

    public init(problemId: UUID, title: String, reason: String, knownError: Bool, workaround: String?) {
        self.problemId = problemId
        self.title = title
        self.reason = reason
        self.knownError = knownError
        self.workaround = workaround
    }
}

/// `problem.storm`: the ticket is part of a storm (`notify`: the level told), or the storm's mass
/// change was confirmed (`confirmed`, with who confirmed it for agents only).
public struct ProblemStorm: EventPayload {
    public static let eventType = EventType.problemStorm
    public struct Internal: Codable, Sendable, Equatable {
        public var confirmedBy: String
        public init(confirmedBy: String) { self.confirmedBy = confirmedBy }
    }
    public var problemId: UUID
    public var category: String
    public var requesters: Int?
    public var confirmed: Bool
    public var notify: Int?
    public var `internal`: Internal?

    public init(problemId: UUID, category: String, requesters: Int? = nil, confirmed: Bool, notify: Int? = nil, internal: Internal? = nil) {
        self.problemId = problemId
        self.category = category
        self.requesters = requesters
        self.confirmed = confirmed
        self.notify = notify
        self.internal = `internal`
    }
}

/// `sla.warning` and `sla.breached`: a target of the SLA clock (`firstResponse` or `resolution`)
/// nears or passed, in the clock's `cycle`; a breach says what used the time.
public struct SLAMilestone: EventPayload {
    public static let eventType = EventType.slaBreached
    public var target: String
    public var cycle: Int
    public var dueAt: Date?
    public var breachedAt: Date?
    public var largestConsumer: String?
    public var consumedBusinessSeconds: [String: Double]?

    public init(
        target: String, cycle: Int, dueAt: Date? = nil, breachedAt: Date? = nil, largestConsumer: String? = nil,
        consumedBusinessSeconds: [String: Double]? = nil
    ) {
        self.target = target
        self.cycle = cycle
        self.dueAt = dueAt
        self.breachedAt = breachedAt
        self.largestConsumer = largestConsumer
        self.consumedBusinessSeconds = consumedBusinessSeconds
    }
}
