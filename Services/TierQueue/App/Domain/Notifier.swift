import Foundation
import Logging
import PostgresNIO
import Synchronization
import TierdeskKit
import TierdeskModels

/// One agent to tell, and what.
struct NotificationDraft: Sendable, Equatable {
    var agent: UUID
    var kind: NotificationKind
    var ticket: UUID?
    var text: String
    /// At most one notification per agent and key (a storm's problem).
    var key: String?

    init(agent: UUID, kind: NotificationKind, ticket: UUID?, text: String, key: String? = nil) {
        self.agent = agent
        self.kind = kind
        self.ticket = ticket
        self.text = String(text.prefix(1000))
        self.key = key
    }

    /// `TD-12 "VPN drops every hour"`: how a notification names its ticket (the subject cut short).
    static func name(_ ticket: Ticket) -> String { "\(ticket.reference) \"\(ticket.subject.prefix(120))\"" }

    /// The ticket was given to `agent` by someone else.
    static func assigned(_ ticket: Ticket, to agent: UUID) -> Self {
        Self(agent: agent, kind: .assigned, ticket: ticket.id, text: "\(name(ticket)) was assigned to you.")
    }

    /// `agent` was asked to join the ticket's swarm.
    static func swarm(_ ticket: Ticket, agent: UUID) -> Self {
        Self(agent: agent, kind: .swarm, ticket: ticket.id, text: "You were asked to help on \(name(ticket)).")
    }
}

/// Marks that the current task wrote notifications, so that the hub's bell rings once the task's
/// transaction has committed (`NotificationHub.ringing`); a task outside `ringing` is found by the
/// hub's next poll.
final class NotificationMark: Sendable {
    @TaskLocal static var current: NotificationMark?
    let written = Atomic<Bool>(false)
}

/// Tells agents: writes their notifications in the caller's transaction (one statement), and for
/// agents who take mail at once a mail each (`MailOutbox`, source tier-queue) in the same transaction.
/// Nobody is told of their own doing: the caller leaves those out (`telling`).
struct Notifier: Sendable {
    let store = NotificationStore()
    /// Agents' mail: the templates (`AgentMailTemplates`, an operator's folder over them), the domain
    /// of its Message-IDs (`TIERDESK_MAIL_REPLY_DOMAIN`), the console it links to (`TIERDESK_PUBLIC_URL`).
    let templates: MailTemplates
    let domain: String
    let consoleURL: String

    init(templates: MailTemplates = AgentMailTemplates.builtIn, domain: String = "localhost", consoleURL: String = "http://127.0.0.1:8084") {
        self.templates = templates
        self.domain = domain
        self.consoleURL = consoleURL
    }

    func tell(_ drafts: [NotificationDraft], on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard !drafts.isEmpty else { return }
        let rows = drafts.map {
            NotificationStore.Row(id: UUID.timeOrdered(), agent: $0.agent, kind: $0.kind.rawValue, ticket: $0.ticket, text: $0.text, key: $0.key)
        }
        let written = try await store.insert(rows, on: connection, now: now, logger: logger)
        let mails = written.compactMap { row in
            mail(row.notification, to: row.email, name: row.name).map {
                MailOutbox.Entry($0, kind: AgentMailTemplates.notification, ticketID: row.notification.ticketId)
            }
        }
        try await MailOutbox.enqueue(mails, source: TierQueue.serviceName, on: connection, now: now, logger: logger)
        NotificationMark.current?.written.store(true, ordering: .relaxed)
    }

    /// Drafts without those of `actor` (an agent is not told of its own doing).
    static func telling(_ drafts: [NotificationDraft], except actor: UUID?) -> [NotificationDraft] {
        drafts.filter { $0.agent != actor }
    }

    /// One notification's mail, sent at once.
    func mail(_ notification: AgentNotification, to address: String, name: String) -> OutgoingMail? {
        let values: [String: Any] = ["name": name, "text": notification.text, "notificationsLink": consoleURL + "/agent/notifications"]
        guard let rendered = templates.render(AgentMailTemplates.notification, values) else { return nil }
        return OutgoingMail(
            to: address, toName: MailTemplates.oneLine(name), subject: rendered.subject, text: rendered.text, html: rendered.html,
            messageID: OutgoingMail.newMessageID(domain: domain), headers: [.init("Auto-Submitted", "auto-generated")])
    }

    /// An hour's digest: the notifications oldest first, one line each.
    func digest(_ items: [AgentNotification], to address: String, name: String) -> OutgoingMail? {
        let values: [String: Any] = [
            "name": name, "count": items.count, "notificationsLink": consoleURL + "/agent/notifications",
            "items": items.map { ["at": RFC3339.format($0.createdAt), "text": $0.text] },
        ]
        guard let rendered = templates.render(AgentMailTemplates.digest, values) else { return nil }
        return OutgoingMail(
            to: address, toName: MailTemplates.oneLine(name), subject: rendered.subject, text: rendered.text, html: rendered.html,
            messageID: OutgoingMail.newMessageID(domain: domain), headers: [.init("Auto-Submitted", "auto-generated")])
    }

    /// Sends due hourly digests (at most `limit` agents per call), each in its own transaction with
    /// its rows marked mailed. Answers how many were sent.
    func sendDigests(client: PostgresClient, now: Date, limit: Int = 50, logger: Logger) async throws -> Int {
        var sent = 0
        while sent < limit {
            let done = try await client.transaction(logger: logger) { connection -> Bool in
                guard
                    let digest = try await store.takeDigest(
                        olderThan: now.addingTimeInterval(-3600), limit: 200, on: connection, now: now, logger: logger)
                else { return false }
                if let mail = self.digest(digest.items, to: digest.email, name: digest.name) {
                    try await MailOutbox.enqueue(
                        mail, kind: AgentMailTemplates.digest, ticketID: nil, source: TierQueue.serviceName, on: connection, now: now, logger: logger)
                }
                return true
            }
            guard done else { break }
            sent += 1
        }
        return sent
    }
}
