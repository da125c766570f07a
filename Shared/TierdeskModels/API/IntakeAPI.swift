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

/// A file a message carried, as listed to agents (its content is not stored).
public struct MailAttachment: Sendable, Codable, Equatable {
    public var fileName: String?
    public var contentType: String
    /// Bytes, after the transfer encoding was undone.
    public var size: Int

    public init(fileName: String?, contentType: String, size: Int) {
        self.fileName = fileName
        self.contentType = contentType
        self.size = size
    }
}

/// What a delivery status notification (RFC 3464, `multipart/report; report-type=delivery-status`)
/// reports: the recipients whose delivery failed, and the Message-ID of the mail that bounced.
public struct MailBounceReport: Sendable, Codable, Equatable {
    public struct Recipient: Sendable, Codable, Equatable {
        public var address: String
        /// The enhanced status code, `5.1.1`.
        public var status: String?
        /// The remote server's answer, `smtp; 550 5.1.1 no such user`.
        public var diagnostic: String?

        public init(address: String, status: String? = nil, diagnostic: String? = nil) {
            self.address = address
            self.status = status
            self.diagnostic = diagnostic
        }
    }

    public var failed: [Recipient]
    public var originalMessageId: String?

    public init(failed: [Recipient], originalMessageId: String? = nil) {
        self.failed = failed
        self.originalMessageId = originalMessageId
    }
}

/// Mail as a mail gateway posts it to `POST /v1/inbound/email`. `deliveredTo` is the envelope
/// recipient (`RCPT TO`), where a ticket's reply address arrives; `authentication` is the gateway's
/// verdict on the sender. Without either, a message opens a new ticket: `From` proves nothing.
/// The gateway passes the headers that mark automatic mail as written (`autoSubmitted`,
/// `precedence`, `xAutoreply`, `xAutorespond`), the envelope sender (`returnPath`: empty for a
/// bounce) and a bounce's report; intake decides (`automatic`).
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
    /// The envelope sender (`Return-Path`); `""` or `<>` for the null sender of bounces.
    public var returnPath: String?
    public var autoSubmitted: String?
    public var precedence: String?
    public var xAutoreply: String?
    public var xAutorespond: String?
    public var bounce: MailBounceReport?
    /// The files the message carried, listed for agents.
    public var attachments: [MailAttachment]?

    public static let maxAttachments = 100
    public static let maxBouncedRecipients = 100
    /// 1 TiB: no mail carries more; a larger size is a wrong number.
    public static let maxAttachmentSize = 1 << 40

    public init(
        from: String, to: String? = nil, deliveredTo: String? = nil, subject: String, text: String, messageId: String, inReplyTo: String? = nil,
        references: [String]? = nil, authentication: MailAuthentication? = nil, returnPath: String? = nil, autoSubmitted: String? = nil,
        precedence: String? = nil, xAutoreply: String? = nil, xAutorespond: String? = nil, bounce: MailBounceReport? = nil,
        attachments: [MailAttachment]? = nil
    ) {
        self.deliveredTo = deliveredTo
        self.authentication = authentication
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.messageId = messageId
        self.inReplyTo = inReplyTo
        self.references = references
        self.returnPath = returnPath
        self.autoSubmitted = autoSubmitted
        self.precedence = precedence
        self.xAutoreply = xAutoreply
        self.xAutorespond = xAutorespond
        self.bounce = bounce
        self.attachments = attachments
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

    /// Why this is automatic mail, which never opens, reopens or moves a ticket and is never
    /// answered (RFC 3834: `Auto-Submitted` other than `no`; the de-facto `X-Autoreply`,
    /// `X-Autorespond` and `Precedence: bulk | junk | list | auto_reply`; a bounce's null or
    /// MAILER-DAEMON sender or its report), or nil for a person's mail. The reason is stored with
    /// the message and on the note it may leave (`bounce`, `auto-submitted: auto-replied`, ...).
    public var automatic: String? {
        if let bounce, !bounce.failed.isEmpty { return "bounce" }
        if let value = autoSubmitted?.trimmingCharacters(in: .whitespaces).lowercased(), !value.isEmpty,
            value.prefix(while: { $0 != ";" && $0 != "(" && $0 != " " }) != "no"
        {
            return "auto-submitted: " + String(value.prefix(while: { $0 != ";" && $0 != "(" && $0 != " " }))
        }
        if xAutoreply.map({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) == true { return "x-autoreply" }
        if xAutorespond.map({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) == true { return "x-autorespond" }
        if let value = precedence?.trimmingCharacters(in: .whitespaces).lowercased(), ["bulk", "junk", "list", "auto_reply"].contains(value) {
            return "precedence: " + value
        }
        if let path = returnPath?.trimmingCharacters(in: .whitespaces), path.isEmpty || path == "<>" { return "null sender" }
        let local = sender.email.split(separator: "@").first.map { $0.lowercased() } ?? ""
        if local == "mailer-daemon" || from.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("mailer-daemon") { return "mailer-daemon" }
        return nil
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.email(sender.email, field: "from")
        v.text(messageId, field: "messageId", maxLength: 998)
        v.text(subject, field: "subject", required: false, maxLength: 10_000)
        v.text(text, field: "text", required: false, maxLength: 1 << 20, multiline: true)
        for (index, reference) in (references ?? []).enumerated() where reference.count > 998 { v.fail("references[\(index)]", "is too long") }
        if (references ?? []).count > 100 { v.fail("references", "must list at most 100 message ids") }
        // Stored as text: PostgreSQL cannot hold U+0000.
        v.text(deliveredTo, field: "deliveredTo", required: false, maxLength: 998)
        v.text(authentication?.spf, field: "authentication.spf", required: false, maxLength: 100)
        v.text(authentication?.dkim, field: "authentication.dkim", required: false, maxLength: 100)
        v.text(authentication?.dmarc, field: "authentication.dmarc", required: false, maxLength: 100)
        for (field, value) in [
            ("returnPath", returnPath), ("autoSubmitted", autoSubmitted), ("precedence", precedence), ("xAutoreply", xAutoreply),
            ("xAutorespond", xAutorespond), ("bounce.originalMessageId", bounce?.originalMessageId),
        ] {
            v.text(value, field: field, required: false, maxLength: 998)
        }
        if let failed = bounce?.failed {
            if failed.count > Self.maxBouncedRecipients { v.fail("bounce.failed", "must list at most \(Self.maxBouncedRecipients) recipients") }
            for (index, recipient) in failed.prefix(Self.maxBouncedRecipients).enumerated() {
                v.email(recipient.address, field: "bounce.failed[\(index)].address")
                v.text(recipient.status, field: "bounce.failed[\(index)].status", required: false, maxLength: 100)
                v.text(recipient.diagnostic, field: "bounce.failed[\(index)].diagnostic", required: false, maxLength: 998)
            }
        }
        if let attachments {
            if attachments.count > Self.maxAttachments { v.fail("attachments", "must list at most \(Self.maxAttachments) files") }
            for (index, file) in attachments.prefix(Self.maxAttachments).enumerated() {
                v.text(file.fileName, field: "attachments[\(index)].fileName", required: false, maxLength: 255)
                v.text(file.contentType, field: "attachments[\(index)].contentType", maxLength: 255)
                if file.size < 0 || file.size > Self.maxAttachmentSize { v.fail("attachments[\(index)].size", "must be 0 to \(Self.maxAttachmentSize) bytes") }
            }
        }
        for (field, value) in [("from", from), ("to", to ?? ""), ("deliveredTo", deliveredTo ?? ""), ("inReplyTo", inReplyTo ?? "")]
            + (references ?? []).enumerated().map({ ("references[\($0.offset)]", $0.element) })
        where value.unicodeScalars.contains("\u{0}") {
            v.fail(field, "must not contain NUL characters (U+0000)")
        }
        try v.check()
    }
}

/// What `POST /v1/inbound/email` did with a message. `created`, `threaded` and `duplicate` name
/// the ticket; `noted` is automatic mail kept as an internal note on the ticket it answers;
/// `ignored` is automatic mail that belongs to no ticket (kept nowhere); `bounced` is a bounce,
/// its failed recipients marked as bouncing (`bouncing`: those intake had mailed).
public struct InboundEmailResult: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable { case created, threaded, duplicate, noted, ignored, bounced }
    public var outcome: Outcome
    public var ticketId: UUID?
    public var reference: String?
    public var status: TicketStatus?
    /// Present when a new ticket was opened: the requester's token for it.
    public var requesterToken: String?
    /// Why the message counts as automatic (`InboundEmail.automatic`), when it does.
    public var automatic: String?
    /// The addresses a bounce marked as bouncing.
    public var bouncing: [String]?

    public init(
        outcome: Outcome, ticketId: UUID? = nil, reference: String? = nil, status: TicketStatus? = nil, requesterToken: String? = nil,
        automatic: String? = nil, bouncing: [String]? = nil
    ) {
        self.outcome = outcome
        self.ticketId = ticketId
        self.reference = reference
        self.status = status
        self.requesterToken = requesterToken
        self.automatic = automatic
        self.bouncing = bouncing
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
