import Foundation
import Logging
import PostgresNIO
import TierdeskModels

extension TicketStore {
    /// Summaries of the tickets with these ids, in the order given; for an agent (`readableBy`) only
    /// those it may read. One statement, whatever the number of ids.
    public func summaries(
        of ids: [UUID], readableBy agent: AgentIdentity? = nil, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> [TicketSummary] {
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.id = ANY($1) AND ($2::uuid IS NULL OR \(Self.agentMayRead("$2", tiers: "$3", actor: "$4")))
                    """,
                binds: try PostgresBindings(ids, agent?.id, agent.map(Self.tierList), agent.map(Self.actor))), logger: logger,
            TicketSummary.init(row:))
        let byID = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    /// The level a resolved ticket goes back to when it reopens: its own level, or for a ticket at
    /// level 4 (whose queue nobody serves) the level that escalated it to the vendor, level 1 when a
    /// triage rule sent it there.
    public func reopeningTier(of ticket: Ticket, on executor: some DatabaseExecutor, logger: Logger) async throws -> Tier {
        guard let tier = ticket.tier, tier == .vendor else { return max(ticket.tier ?? .firstLine, .firstLine) }
        let from = try await executor.first(
            """
            SELECT (data->>'fromTier')::int AS from_tier FROM ticket_events
            WHERE ticket_id = \(ticket.id) AND type = 'ticket.escalated' AND data->>'toTier' = '4' ORDER BY seq DESC LIMIT 1
            """, logger: logger
        ) { try $0.get("from_tier", as: Int?.self) }
        return (from ?? nil).flatMap(Tier.init(rawValue:)).flatMap { Tier.agentTiers.contains($0) ? $0 : nil } ?? .firstLine
    }

    /// Whether the ticket's trail holds an event of `type` (a vendor case was opened, say).
    public func hasEvent(_ type: EventType, ticketID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first(
            "SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM ticket_events WHERE ticket_id = \(ticketID) AND type = \(type.rawValue))", logger: logger
        ) { _ in true } ?? false
    }

    /// The trail of a ticket in order; for a requester only public events, without the part of
    /// their data meant for agents (the key `internal`, such as triage's explanation).
    public func events(of ticketID: UUID, publicOnly: Bool, on executor: some DatabaseExecutor, logger: Logger) async throws -> [TicketEvent] {
        try await executor.all(
            """
            SELECT id, type, actor, (CASE WHEN \(publicOnly) AND jsonb_typeof(data) = 'object' THEN data - 'internal' ELSE data END)::text AS data, at,
                status, tier
            FROM ticket_events WHERE ticket_id = \(ticketID) AND (public OR NOT \(publicOnly)) ORDER BY seq
            """, logger: logger, TicketEvent.init(row:))
    }

    /// The whole trails of many tickets (internal events included), in order, by ticket: one statement.
    public func trails(of ticketIDs: [UUID], on executor: some DatabaseExecutor, logger: Logger) async throws -> [UUID: [TicketEvent]] {
        let rows = try await executor.all(
            """
            SELECT ticket_id, id, type, actor, data::text AS data, at, status, tier FROM ticket_events
            WHERE ticket_id = ANY(\(ticketIDs)) ORDER BY ticket_id, seq
            """, logger: logger
        ) { row in (try row.get("ticket_id", as: UUID.self), try TicketEvent(row: row)) }
        return Dictionary(grouping: rows, by: \.0).mapValues { $0.map(\.1) }
    }

    /// A requester's other tickets, newest first; for an agent (`readableBy`) only those it may read.
    public func history(
        requesterID: UUID, excluding ticketID: UUID?, readableBy agent: AgentIdentity? = nil, limit: Int = 20, on executor: some DatabaseExecutor,
        logger: Logger
    ) async throws -> [TicketSummary] {
        try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.requester_id = $1 AND t.id IS DISTINCT FROM $2 AND ($4::uuid IS NULL OR \(Self.agentMayRead("$4", tiers: "$5", actor: "$6")))
                    ORDER BY t.created_at DESC LIMIT $3
                    """,
                binds: try PostgresBindings(requesterID, ticketID, limit, agent?.id, agent.map(Self.tierList), agent.map(Self.actor))), logger: logger,
            TicketSummary.init(row:))
    }

    /// A tier's queue in claim order (priority, then resolution due time), a page at a time,
    /// narrowed by `filter`: the tickets waiting at the level (`tickets_queue_idx` keeps this fast at
    /// any history size), or with `filter.unassigned == false` those its agents hold (working or paused).
    public func queue(
        tier: Tier, filter: QueueFilter = QueueFilter(), limit: Int, after cursor: QueueCursor?, now: Date, on executor: some DatabaseExecutor,
        logger: Logger
    ) async throws -> Page<TicketSummary> {
        let after = cursor ?? .start
        let statuses = filter.unassigned == false ? "t.status IN ('in_progress', 'pending_customer', 'pending_vendor')" : "t.status = 'queued'"
        let tickets = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.tier = $1 AND \(statuses)
                        AND (t.priority, t.resolution_due_at, t.id) > ($2, timestamptz 'epoch' + $3 * interval '1 microsecond', $4)
                        AND ($6::text IS NULL OR $6 = ANY(t.required_skills)) AND ($7::text IS NULL OR t.category = $7)
                        AND ($8::smallint IS NULL OR t.priority = $8) AND ($9::boolean IS NULL OR (t.resolution_due_at < $10) = $9)
                    ORDER BY t.priority, t.resolution_due_at, t.id LIMIT $5
                    """,
                binds: try PostgresBindings(
                    Int16(tier.rawValue), Int16(after.priority), after.dueAtMicroseconds, after.id, limit + 1, filter.skill, filter.category,
                    filter.priority.map { Int16($0.rank) }, filter.breached, now)), logger: logger,
            TicketSummary.init(row:))
        return Self.page(tickets, limit: limit)
    }

    /// An agent's open tickets, those it holds and those it helps on (`ticket_collaborators`), in
    /// queue order (priority, then resolution due time), a page at a time.
    public func worklist(of agentID: UUID, limit: Int, after cursor: QueueCursor?, on executor: some DatabaseExecutor, logger: Logger) async throws
        -> Page<TicketSummary>
    {
        let after = cursor ?? .start
        let tickets = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.status NOT IN ('resolved', 'closed')
                        AND t.id IN (SELECT id FROM tickets WHERE assignee_id = $1 AND status NOT IN ('resolved', 'closed')
                                     UNION SELECT ticket_id FROM ticket_collaborators WHERE agent_id = $1)
                        AND (t.priority, COALESCE(t.resolution_due_at, timestamptz '4001-01-01 00:00:00+00'), t.id)
                            > ($2, timestamptz 'epoch' + $3 * interval '1 microsecond', $4)
                    ORDER BY t.priority, COALESCE(t.resolution_due_at, timestamptz '4001-01-01 00:00:00+00'), t.id LIMIT $5
                    """,
                binds: try PostgresBindings(agentID, Int16(after.priority), after.dueAtMicroseconds, after.id, limit + 1)), logger: logger,
            TicketSummary.init(row:))
        return Self.page(tickets, limit: limit)
    }

    /// A page of tickets in queue order, with the cursor after its last one.
    static func page(_ tickets: [TicketSummary], limit: Int) -> Page<TicketSummary> {
        Page(fetched: tickets, limit: limit) {
            QueueCursor(priority: $0.priority.rank, dueAtMicroseconds: ($0.resolutionDueAt ?? .distantFuture).epochMicroseconds, id: $0.id).encoded
        }
    }
}

/// What a queue listing keeps: tickets needing a skill, of a category or priority, past their
/// resolution due time (or not), held by nobody (or by someone). Nil keeps all.
public struct QueueFilter: Sendable, Equatable {
    public var skill: String?
    public var category: String?
    public var priority: Priority?
    public var breached: Bool?
    public var unassigned: Bool?

    public init(skill: String? = nil, category: String? = nil, priority: Priority? = nil, breached: Bool? = nil, unassigned: Bool? = nil) {
        self.skill = skill
        self.category = category
        self.priority = priority
        self.breached = breached
        self.unassigned = unassigned
    }
}

/// Where a queue page ends: the last ticket's sort key, opaque to clients.
public struct QueueCursor: Sendable, Equatable {
    public var priority: Int
    public var dueAtMicroseconds: Int64
    public var id: UUID

    public init(priority: Int, dueAtMicroseconds: Int64, id: UUID) {
        self.priority = priority
        self.dueAtMicroseconds = dueAtMicroseconds
        self.id = id
    }

    /// Before every ticket: where the first page begins.
    public static let start = QueueCursor(
        priority: 0, dueAtMicroseconds: Date.distantPast.epochMicroseconds, id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))

    public var encoded: String { Cursor.encode(["\(priority)", "\(dueAtMicroseconds)", id.uuidString]) }

    /// Parses a cursor; nil for anything this service did not hand out.
    public init?(encoded: String) {
        guard let parts = Cursor.decode(encoded, count: 3), let priority = Int(parts[0]), let micros = Int64(parts[1]),
            let id = UUID(uuidString: parts[2])
        else { return nil }
        self.init(priority: priority, dueAtMicroseconds: micros, id: id)
    }
}

/// Opaque keyset cursors: `|`-joined parts in base64url.
public enum Cursor {
    public static func encode(_ parts: [String]) -> String { Secrets.base64URL(Data(parts.joined(separator: "|").utf8)) }

    public static func decode(_ text: String, count: Int) -> [String]? {
        guard let data = Secrets.fromBase64URL(text), let string = String(data: data, encoding: .utf8) else { return nil }
        let parts = string.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return parts.count == count ? parts : nil
    }

    /// A cursor of an instant and an id (a list ordered by creation time, then id).
    public static func encode(at instant: Date, id: UUID) -> String { encode(["\(instant.epochMicroseconds)", id.uuidString]) }

    /// The instant and id of `encode(at:id:)`, or nil for anything else; microseconds since 1970
    /// within the years PostgreSQL and Foundation both hold.
    public static func instantAndID(_ text: String) -> (Date, UUID)? {
        guard let parts = decode(text, count: 2), let micros = Int64(parts[0]), (0...253_402_300_799_000_000).contains(micros),
            let id = UUID(uuidString: parts[1])
        else { return nil }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }
}
