import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `notifications` (migration 0020) and of the agents' mail choice. Rows are
/// written in the transaction of the change that causes them (`Notifier`); an agent reads and
/// marks only its own.
struct NotificationStore: Sendable {
    static let columns = "seq, id, kind, ticket_id, text, created_at, read_at"

    /// A row as a notification.
    static func notification(_ row: PostgresRandomAccessRow) throws -> AgentNotification {
        AgentNotification(
            id: try row.get("id"), seq: try row.get("seq"), kind: NotificationKind(rawValue: try row.get("kind")) ?? .assigned,
            ticketId: try row.get("ticket_id"), text: try row.get("text"), createdAt: try row.get("created_at"), readAt: try row.get("read_at"))
    }

    /// One new row for `insert`.
    struct Row: Encodable {
        var id: UUID
        var agent: UUID
        var kind: String
        var ticket: UUID?
        var text: String
        var key: String?
    }

    /// A row just written, with what its mail needs (only for agents who take mail at once).
    struct Written: Sendable {
        var notification: AgentNotification
        var agentID: UUID
        var email: String
        var name: String
    }

    /// Writes `rows` for the active agents they name, in one statement and in their order; a row whose `key` the agent
    /// already has is left out. Rows of agents who take no mail, or a digest, are marked so. Answers
    /// the rows written for agents who take mail at once.
    func insert(_ rows: [Row], on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> [Written] {
        guard !rows.isEmpty else { return [] }
        return try await executor.all(
            """
            WITH d AS (
                SELECT d.*, a.notification_mail AS mail, a.email, a.name
                FROM ROWS FROM (jsonb_to_recordset(\(try JSONCoding.string(rows))::jsonb) AS (id uuid, agent uuid, kind text, ticket uuid, text text, key text))
                    WITH ORDINALITY AS d(id, agent, kind, ticket, text, key, ord)
                JOIN agents a ON a.id = d.agent AND a.active),
            n AS (
                INSERT INTO notifications (id, agent_id, kind, ticket_id, text, once_key, created_at, mailed_at)
                SELECT id, agent, kind, ticket, text, key, \(now), CASE WHEN mail = 'hourly' THEN NULL ELSE \(now)::timestamptz END FROM d ORDER BY ord
                ON CONFLICT (agent_id, once_key) WHERE once_key IS NOT NULL DO NOTHING
                RETURNING \(unescaped: Self.columns), agent_id)
            SELECT n.*, d.email, d.name FROM n JOIN d ON d.id = n.id WHERE d.mail = 'immediate'
            """, logger: logger
        ) { row in
            Written(notification: try Self.notification(row), agentID: try row.get("agent_id"), email: try row.get("email"), name: try row.get("name"))
        }
    }

    /// The agent's notifications, newest first (keyset on `seq`), with its unread count.
    func list(agent: UUID, limit: Int, before cursor: Int64?, on executor: some DatabaseExecutor, logger: Logger) async throws -> NotificationPage {
        let rows = try await executor.all(
            """
            SELECT \(unescaped: Self.columns) FROM notifications
            WHERE agent_id = \(agent) AND (\(cursor)::bigint IS NULL OR seq < \(cursor)) ORDER BY seq DESC LIMIT \(limit + 1)
            """, logger: logger, Self.notification)
        let page = Page(fetched: rows, limit: limit) { Cursor.encode(["\($0.seq)"]) }
        return NotificationPage(items: page.items, nextCursor: page.nextCursor, unread: try await unread(agent: agent, on: executor, logger: logger))
    }

    /// The cursor `list` hands out, or nil for anything else.
    static func cursor(_ text: String) -> Int64? { Cursor.decode(text, count: 1).flatMap { Int64($0[0]) }.flatMap { $0 > 0 ? $0 : nil } }

    func unread(agent: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Int {
        try await executor.first("SELECT count(*) AS unread FROM notifications WHERE agent_id = \(agent) AND read_at IS NULL", logger: logger) {
            Int(try $0.get("unread", as: Int64.self))
        } ?? 0
    }

    /// Marks the agent's notification `id` read (nil: all of them); answers how many changed, or nil
    /// when `id` is not one of the agent's.
    func markRead(agent: UUID, id: UUID?, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> NotificationsRead? {
        let marked = try await executor.first(
            """
            WITH mine AS (SELECT seq, read_at FROM notifications WHERE agent_id = \(agent) AND (\(id)::uuid IS NULL OR id = \(id))),
            marked AS (UPDATE notifications n SET read_at = \(now) FROM mine WHERE n.seq = mine.seq AND mine.read_at IS NULL RETURNING n.seq)
            SELECT (SELECT count(*) FROM mine) AS found, (SELECT count(*) FROM marked) AS marked
            """, logger: logger
        ) { (Int(try $0.get("found", as: Int64.self)), Int(try $0.get("marked", as: Int64.self))) }
        guard let (found, changed) = marked, id == nil || found == 1 else { return nil }
        return NotificationsRead(marked: changed, unread: try await unread(agent: agent, on: executor, logger: logger))
    }

    /// Rows after `seq` (every agent's), oldest first: what a replica's stream poll has not seen.
    func after(_ seq: Int64, limit: Int, on executor: some DatabaseExecutor, logger: Logger) async throws -> [(agent: UUID, AgentNotification)] {
        try await executor.all(
            "SELECT \(unescaped: Self.columns), agent_id FROM notifications WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)", logger: logger
        ) { (try $0.get("agent_id", as: UUID.self), try Self.notification($0)) }
    }

    /// The agent's rows after `seq`, oldest first: what a stream resumed with `Last-Event-ID` missed.
    func after(_ seq: Int64, agent: UUID, limit: Int, on executor: some DatabaseExecutor, logger: Logger) async throws -> [AgentNotification] {
        try await executor.all(
            "SELECT \(unescaped: Self.columns) FROM notifications WHERE agent_id = \(agent) AND seq > \(seq) ORDER BY seq LIMIT \(limit)", logger: logger,
            Self.notification)
    }

    /// The newest `seq` (0 when there is none): where a replica's stream poll starts.
    func latest(on executor: some DatabaseExecutor, logger: Logger) async throws -> Int64 {
        try await executor.first("SELECT COALESCE(max(seq), 0) AS seq FROM notifications", logger: logger) { try $0.get("seq", as: Int64.self) } ?? 0
    }

    func mailChoice(agent: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> NotificationMail? {
        try await executor.first("SELECT notification_mail FROM agents WHERE id = \(agent)", logger: logger) {
            NotificationMail(rawValue: try $0.get("notification_mail", as: String.self)) ?? .immediate
        }
    }

    /// Sets the agent's mail choice. Leaving the digest marks what waited for it as handled (not
    /// mailed later in a burst); nil when there is no such agent.
    func setMailChoice(agent: UUID, _ choice: NotificationMail, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws
        -> NotificationMail?
    {
        try await executor.first(
            """
            WITH a AS (UPDATE agents SET notification_mail = \(choice.rawValue) WHERE id = \(agent) RETURNING notification_mail),
            done AS (UPDATE notifications SET mailed_at = \(now) WHERE \(choice.rawValue) <> 'hourly' AND agent_id = \(agent) AND mailed_at IS NULL)
            SELECT notification_mail FROM a
            """, logger: logger
        ) { NotificationMail(rawValue: try $0.get("notification_mail", as: String.self)) ?? .immediate }
    }

    /// One agent's digest: its unmailed rows (at most `limit`), locked and marked mailed in one
    /// statement, the agent taken `SKIP LOCKED` so two replicas never send one digest twice.
    struct Digest: Sendable {
        var agentID: UUID
        var email: String
        var name: String
        var items: [AgentNotification]
    }

    /// The next digest due: an agent on the hourly choice whose oldest unmailed row is at least
    /// `age` old; its rows are marked mailed in the caller's transaction. Nil when none is due.
    func takeDigest(olderThan cutoff: Date, limit: Int, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Digest? {
        guard
            let agent = try await connection.first(
                """
                SELECT a.id, a.email, a.name FROM agents a
                WHERE a.notification_mail = 'hourly' AND a.active
                    AND EXISTS (SELECT 1 FROM notifications n WHERE n.agent_id = a.id AND n.mailed_at IS NULL AND n.created_at <= \(cutoff))
                ORDER BY a.id LIMIT 1 FOR UPDATE OF a SKIP LOCKED
                """, logger: logger, { (try $0.get("id", as: UUID.self), try $0.get("email", as: String.self), try $0.get("name", as: String.self)) })
        else { return nil }
        let items = try await connection.all(
            """
            WITH due AS (SELECT seq FROM notifications WHERE agent_id = \(agent.0) AND mailed_at IS NULL ORDER BY seq LIMIT \(limit))
            UPDATE notifications n SET mailed_at = \(now) FROM due WHERE n.seq = due.seq RETURNING n.seq, n.id, n.kind, n.ticket_id, n.text, n.created_at, n.read_at
            """, logger: logger, Self.notification)
        return Digest(agentID: agent.0, email: agent.1, name: agent.2, items: items.sorted { $0.seq < $1.seq })
    }
}
