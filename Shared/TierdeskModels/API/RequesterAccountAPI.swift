import Foundation

/// `POST /v1/requester-sign-in`: a requester asks for a sign-in link. The answer is the same
/// whether the address is known or not, so nobody learns who has tickets here.
public struct SignInLinkRequest: Sendable, Codable, Equatable {
    public var email: String

    public init(email: String) { self.email = email }

    public func validate() throws(Problem) {
        var v = Validation()
        v.email(email, field: "email")
        try v.check()
    }
}

/// `POST /v1/requester-sessions`: the key of a sign-in link, redeemed once for a session.
public struct RequesterSessionRequest: Sendable, Codable, Equatable {
    public var key: String

    public init(key: String) { self.key = key }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(key, field: "key", maxLength: 200)
        try v.check()
    }
}

/// A signed-in requester's session: a `tdp_` token that reads all of their tickets until it expires.
public struct RequesterSession: Sendable, Codable, Equatable {
    public var token: String
    public var requesterId: UUID
    public var email: String
    public var expiresAt: Date

    public init(token: String, requesterId: UUID, email: String, expiresAt: Date) {
        self.token = token
        self.requesterId = requesterId
        self.email = email
        self.expiresAt = expiresAt
    }
}

/// A ticket in a requester's own list: what they may read of it, and whether it waits on them.
public struct RequesterTicketSummary: Sendable, Codable, Equatable {
    public var id: UUID
    public var reference: String
    public var status: TicketStatus
    public var subject: String
    public var createdAt: Date
    public var updatedAt: Date
    /// Their satisfaction answer's rating, once given.
    public var satisfaction: Int?

    public init(id: UUID, reference: String, status: TicketStatus, subject: String, createdAt: Date, updatedAt: Date, satisfaction: Int?) {
        self.id = id
        self.reference = reference
        self.status = status
        self.subject = subject
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.satisfaction = satisfaction
    }
}

/// `PUT /v1/tickets/{id}/satisfaction`: the requester's one answer, 1 (bad) to 5 (good), with an
/// optional comment.
public struct SatisfactionRequest: Sendable, Codable, Equatable {
    public var rating: Int
    public var comment: String?

    public static let maxCommentLength = 2000

    public init(rating: Int, comment: String? = nil) {
        self.rating = rating
        self.comment = comment
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if !(1...5).contains(rating) { v.fail("rating", "must be 1 (bad) to 5 (good)") }
        v.text(comment, field: "comment", required: false, maxLength: Self.maxCommentLength, multiline: true)
        try v.check()
    }
}

/// A ticket's satisfaction answer, and until when it may still be changed.
public struct Satisfaction: Sendable, Codable, Equatable {
    public var ticketId: UUID
    public var rating: Int
    public var comment: String?
    public var answeredAt: Date
    public var changedAt: Date
    public var changeableUntil: Date

    /// How long after the first answer it may be changed.
    public static let changeableFor: TimeInterval = 7 * 86_400

    public init(ticketId: UUID, rating: Int, comment: String?, answeredAt: Date, changedAt: Date) {
        self.ticketId = ticketId
        self.rating = rating
        self.comment = comment
        self.answeredAt = answeredAt
        self.changedAt = changedAt
        changeableUntil = answeredAt.addingTimeInterval(Self.changeableFor)
    }
}

/// How a satisfaction report groups its answers.
public enum SatisfactionGrouping: String, Sendable, Codable, CaseIterable {
    case level, agent, category, vendor, week
}

/// `GET /v1/reports/satisfaction?by=…`: the answers per group, with the share of good ones (4 or 5).
public struct SatisfactionReport: Sendable, Codable, Equatable {
    public var by: SatisfactionGrouping
    public var from: Date
    public var to: Date
    public var rows: [Row]

    public struct Row: Sendable, Codable, Equatable {
        /// The level's number, the agent's or vendor's id, the category, or the week's first day
        /// (`2026-11-30`); nil for answers without one (no agent, no category).
        public var key: String?
        /// The agent's or vendor's name, where the group has one.
        public var name: String?
        public var answers: Int
        public var averageRating: Double
        /// The share of answers rated 4 or 5.
        public var goodShare: Double

        public init(key: String?, name: String?, answers: Int, averageRating: Double, goodShare: Double) {
            self.key = key
            self.name = name
            self.answers = answers
            self.averageRating = averageRating
            self.goodShare = goodShare
        }
    }

    public init(by: SatisfactionGrouping, from: Date, to: Date, rows: [Row]) {
        self.by = by
        self.from = from
        self.to = to
        self.rows = rows
    }
}
