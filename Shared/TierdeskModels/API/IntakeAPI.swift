import Foundation

/// One line of a chat that became a ticket.
public struct ChatLine: Sendable, Codable, Equatable {
    public var from: String
    public var text: String
    public var at: Date?

    public init(from: String, text: String, at: Date? = nil) {
        self.from = from
        self.text = text
        self.at = at
    }
}

/// What the mail gateway verified of a message's sender (its `Authentication-Results`): each
/// `pass`, `fail`, `none`, ... as the gateway's verifier reported it.
public struct MailAuthentication: Sendable, Codable, Equatable {
    public var spf: String?
    public var dkim: String?
    /// DMARC: SPF or DKIM passed for the domain of the `From` address (aligned).
    public var dmarc: String?

    public init(spf: String? = nil, dkim: String? = nil, dmarc: String? = nil) {
        self.spf = spf
        self.dkim = dkim
        self.dmarc = dmarc
    }

    /// Whether the `From` address is proven: DMARC passed, so SPF or DKIM passed for its own domain.
    public var passed: Bool { dmarc?.lowercased() == "pass" }
}

/// Mail as a mail gateway posts it to `POST /v1/inbound/email`. `deliveredTo` is the envelope
/// recipient (`RCPT TO`), where a ticket's reply address arrives; `authentication` is the gateway's
/// verdict on the sender. Without either, a message opens a new ticket: `From` proves nothing.
public struct InboundEmail: Sendable, Codable, Equatable {
    public var from: String
    public var to: String?
    public var deliveredTo: String?
    public var subject: String
    public var text: String
    public var messageId: String
    public var inReplyTo: String?
    public var references: [String]?
    public var authentication: MailAuthentication?
    /// Header fields that say whether a machine sent the message (`Auto-Submitted`, `Precedence`,
    /// `X-Autoreply`, ...), by name: kept with a ticket the message opens, so no mail answers an
    /// automatic one.
    public var headers: [String: String]?

    public init(
        from: String, to: String? = nil, deliveredTo: String? = nil, subject: String, text: String, messageId: String, inReplyTo: String? = nil,
        references: [String]? = nil, authentication: MailAuthentication? = nil, headers: [String: String]? = nil
    ) {
        self.headers = headers
        self.deliveredTo = deliveredTo
        self.authentication = authentication
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.messageId = messageId
        self.inReplyTo = inReplyTo
        self.references = references
    }

    /// The sender's address and display name from `Name <address>` or a bare address.
    public var sender: (email: String, name: String?) {
        let trimmed = from.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close else { return (trimmed, nil) }
        let name = trimmed[..<open].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
        return (String(trimmed[trimmed.index(after: open)..<close]).trimmingCharacters(in: .whitespaces), name.isEmpty ? nil : name)
    }

    /// The `TD-<n>` number tagged in the subject as `[TD-<n>]`, if any.
    public var taggedReference: Int64? {
        guard let match = subject.firstMatch(of: /\[TD-(\d{1,18})\]/) else { return nil }
        return Int64(match.1)
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.email(sender.email, field: "from")
        v.text(messageId, field: "messageId", maxLength: 998)
        v.text(subject, field: "subject", required: false, maxLength: 10_000)
        v.text(text, field: "text", required: false, maxLength: 1 << 20, multiline: true)
        for (index, reference) in (references ?? []).enumerated() where reference.count > 998 { v.fail("references[\(index)]", "is too long") }
        if (references ?? []).count > 100 { v.fail("references", "must list at most 100 message ids") }
        if (headers ?? [:]).count > 20 { v.fail("headers", "must hold at most 20 header fields") }
        for (name, value) in (headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            v.text(name, field: "headers", maxLength: 100)
            v.text(value, field: "headers.\(name)", required: false, maxLength: 998)
        }
        // Stored as text: PostgreSQL cannot hold U+0000.
        v.text(deliveredTo, field: "deliveredTo", required: false, maxLength: 998)
        v.text(authentication?.spf, field: "authentication.spf", required: false, maxLength: 100)
        v.text(authentication?.dkim, field: "authentication.dkim", required: false, maxLength: 100)
        v.text(authentication?.dmarc, field: "authentication.dmarc", required: false, maxLength: 100)
        for (field, value) in [("from", from), ("to", to ?? ""), ("deliveredTo", deliveredTo ?? ""), ("inReplyTo", inReplyTo ?? "")]
            + (references ?? []).enumerated().map({ ("references[\($0.offset)]", $0.element) })
            + (headers ?? [:]).map({ ("headers.\($0.key)", $0.key + $0.value) })
        where value.unicodeScalars.contains("\u{0}") {
            v.fail(field, "must not contain NUL characters (U+0000)")
        }
        try v.check()
    }
}

/// What `POST /v1/inbound/email` did with a message.
public struct InboundEmailResult: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable { case created, threaded, duplicate }
    public var outcome: Outcome
    public var ticketId: UUID
    public var reference: String
    public var status: TicketStatus
    /// Present when a new ticket was opened: the requester's token for it.
    public var requesterToken: String?

    public init(outcome: Outcome, ticketId: UUID, reference: String, status: TicketStatus, requesterToken: String? = nil) {
        self.outcome = outcome
        self.ticketId = ticketId
        self.reference = reference
        self.status = status
        self.requesterToken = requesterToken
    }
}

/// A requester with their tickets, for agents.
public struct RequesterProfile: Sendable, Codable, Equatable {
    public var id: UUID
    public var email: String
    public var name: String?
    public var phone: String?
    public var organization: String?
    public var createdAt: Date
    public var tickets: [TicketSummary]

    public init(id: UUID, email: String, name: String?, phone: String?, organization: String?, createdAt: Date, tickets: [TicketSummary]) {
        self.id = id
        self.email = email
        self.name = name
        self.phone = phone
        self.organization = organization
        self.createdAt = createdAt
        self.tickets = tickets
    }
}

/// A knowledge-base article.
public struct Article: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case draft, published, retired }
    public var id: UUID
    public var slug: String?
    public var title: String
    /// Markdown.
    public var body: String
    public var tags: [String]
    public var category: String?
    public var sourceTicketId: UUID?
    public var authorLevel: Tier?
    /// The agent who wrote it (it may edit and retire it); nil for the admin's and the demo's.
    public var authorAgentId: UUID?
    public var status: Status
    public var helpful: Int
    public var notHelpful: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, slug: String?, title: String, body: String, tags: [String], category: String?, sourceTicketId: UUID?, authorLevel: Tier?,
        status: Status, helpful: Int, notHelpful: Int, createdAt: Date, updatedAt: Date, authorAgentId: UUID? = nil
    ) {
        self.authorAgentId = authorAgentId
        self.id = id
        self.slug = slug
        self.title = title
        self.body = body
        self.tags = tags
        self.category = category
        self.sourceTicketId = sourceTicketId
        self.authorLevel = authorLevel
        self.status = status
        self.helpful = helpful
        self.notHelpful = notHelpful
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/kb/articles` (agents, admin).
public struct CreateArticleRequest: Sendable, Codable, Equatable {
    public var title: String
    public var body: String
    public var tags: [String]?
    public var category: String?
    public var slug: String?

    public init(title: String, body: String, tags: [String]? = nil, category: String? = nil, slug: String? = nil) {
        self.title = title
        self.body = body
        self.tags = tags
        self.category = category
        self.slug = slug
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(title, field: "title", maxLength: 200)
        v.text(body, field: "body", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        for (index, tag) in (tags ?? []).enumerated() { v.slug(tag, field: "tags[\(index)]", maxLength: 50) }
        if (tags ?? []).count > 20 { v.fail("tags", "at most 20") }
        if let category, !SubmitTicketRequest.isSlug(category) || category.count > 100 { v.fail("category", "must be lowercase letters, digits, '-' or '_'") }
        if let slug, !SubmitTicketRequest.isSlug(slug) || slug.count > 100 { v.fail("slug", "must be lowercase letters, digits, '-' or '_'") }
        try v.check()
    }
}

/// `POST /v1/kb/articles/{id}/votes`.
public struct VoteRequest: Sendable, Codable, Equatable {
    public var helpful: Bool
    public init(helpful: Bool) { self.helpful = helpful }
}

/// `POST /v1/self-service/suggestions`: a draft, before a ticket is filed.
public struct SuggestionRequest: Sendable, Codable, Equatable {
    public var subject: String
    public var description: String?

    public init(subject: String, description: String? = nil) {
        self.subject = subject
        self.description = description
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(subject, field: "subject", maxLength: SubmitTicketRequest.maxSubjectLength)
        v.text(description, field: "description", required: false, maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        try v.check()
    }
}

/// `POST /v1/self-service/resolutions`: the requester solved it alone from an article.
public struct SelfServiceResolutionRequest: Sendable, Codable, Equatable {
    public var requester: RequesterInput
    public var subject: String
    public var description: String?
    public var articleId: UUID

    public init(requester: RequesterInput, subject: String, description: String? = nil, articleId: UUID) {
        self.requester = requester
        self.subject = subject
        self.description = description
        self.articleId = articleId
    }

    public func validate() throws(Problem) {
        try SubmitTicketRequest(requester: requester, channel: .web, subject: subject, description: description ?? subject).validate()
    }
}
