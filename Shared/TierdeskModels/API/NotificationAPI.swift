import Foundation

/// What an agent is told about (issue 25): each kind names its cause.
public enum NotificationKind: String, Sendable, Codable, CaseIterable, Equatable {
    /// A ticket was given to the agent by someone else (a reassignment, push assignment).
    case assigned
    /// A colleague asked the agent to join a ticket's swarm.
    case swarm
    case slaWarning = "sla.warning"
    case slaBreached = "sla.breached"
    /// The vendor wrote on the case of the agent's ticket.
    case vendorAnswered = "vendor.answered"
    /// The vendor's case of the agent's ticket passed a target of its contract.
    case vendorOverdue = "vendor.overdue"
    /// The vendor resolved or rejected the case: the ticket is back with the agent for verification.
    case vendorReturned = "vendor.returned"
    /// A storm (many tickets of one category at once) was flagged for the agent's level.
    case storm
}

/// One notification of an agent; `seq` is its place in the agent's stream (the SSE `id`).
public struct AgentNotification: Sendable, Codable, Equatable {
    public var id: UUID
    public var seq: Int64
    public var kind: NotificationKind
    public var ticketId: UUID?
    public var text: String
    public var createdAt: Date
    public var readAt: Date?

    public init(id: UUID, seq: Int64, kind: NotificationKind, ticketId: UUID?, text: String, createdAt: Date, readAt: Date? = nil) {
        self.id = id
        self.seq = seq
        self.kind = kind
        self.ticketId = ticketId
        self.text = text
        self.createdAt = createdAt
        self.readAt = readAt
    }
}

/// `GET /v1/notifications`: a page of the agent's notifications, newest first, with how many are unread.
public struct NotificationPage: Sendable, Codable, Equatable {
    public var items: [AgentNotification]
    public var nextCursor: String?
    public var unread: Int

    public init(items: [AgentNotification], nextCursor: String?, unread: Int) {
        self.items = items
        self.nextCursor = nextCursor
        self.unread = unread
    }
}

/// How an agent wants mail about its notifications.
public enum NotificationMail: String, Sendable, Codable, CaseIterable, Equatable {
    /// One mail per notification, as it happens (the default).
    case immediate
    /// One mail an hour with what came in that hour.
    case hourly
    case off
}

/// `GET/PUT /v1/notifications/settings`.
public struct NotificationSettings: Sendable, Codable, Equatable {
    public var mail: NotificationMail

    public init(mail: NotificationMail) { self.mail = mail }
}

/// `POST /v1/notifications/read`: the answer of marking notifications read (how many changed, and
/// how many stay unread).
public struct NotificationsRead: Sendable, Codable, Equatable {
    public var marked: Int
    public var unread: Int

    public init(marked: Int, unread: Int) {
        self.marked = marked
        self.unread = unread
    }
}

/// A "queue changed" event of the stream: the first page of a level's queue is no longer what it was.
public struct QueueChanged: Sendable, Codable, Equatable {
    public var tier: Int

    public init(tier: Int) { self.tier = tier }
}
