import Foundation
import Logging
import TierdeskModels

extension TicketStore {
    /// A ticket worked before Tierdesk kept it: imported closed, with its trail (created, resolved,
    /// closed). For demo data and migrations from another help desk; a ticket already present (by
    /// id) is left as it is, so an import can run again.
    public struct HistoricalTicket: Sendable, Encodable {
        public var id: UUID
        public var requesterId: UUID
        public var tier: Int
        public var priority: Int
        public var impact: Impact
        public var urgency: Urgency
        public var category: String
        public var channel: TierdeskModels.Channel
        public var subject: String
        public var description: String
        public var resolution: String
        public var openedAt: Date
        public var resolvedAt: Date

        public init(
            id: UUID, requesterId: UUID, tier: Tier, impact: Impact, urgency: Urgency, category: String, channel: TierdeskModels.Channel, subject: String,
            description: String, resolution: String, openedAt: Date, resolvedAt: Date
        ) {
            self.id = id
            self.requesterId = requesterId
            self.tier = tier.rawValue
            self.priority = Priority(impact: impact, urgency: urgency).rank
            self.impact = impact
            self.urgency = urgency
            self.category = category
            self.channel = channel
            self.subject = subject
            self.description = description
            self.resolution = resolution
            self.openedAt = openedAt
            self.resolvedAt = resolvedAt
        }
    }

    /// Imports historical tickets in one statement; answers how many were new.
    public func importClosed(_ tickets: [HistoricalTicket], on executor: some DatabaseExecutor, logger: Logger) async throws -> Int {
        guard !tickets.isEmpty else { return 0 }
        return try await executor.first(
            """
            WITH h AS (
                SELECT * FROM jsonb_to_recordset(\(try JSONCoding.string(tickets))::jsonb) AS h(
                    id uuid, "requesterId" uuid, tier smallint, priority smallint, impact text, urgency text, category text, channel text,
                    subject text, description text, resolution text, "openedAt" timestamptz, "resolvedAt" timestamptz)),
            t AS (
                INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                                     created_at, updated_at)
                SELECT id, 'closed', tier, priority, impact, urgency, category, channel, subject, description, "requesterId", "openedAt", "resolvedAt"
                FROM h ON CONFLICT (id) DO NOTHING RETURNING id),
            e AS (
                INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
                SELECT gen_random_uuid(), h.id, x.type, x.actor, true, x.data, x.at
                FROM h JOIN t ON t.id = h.id CROSS JOIN LATERAL (VALUES
                    ('ticket.created', 'import', jsonb_build_object('channel', h.channel), h."openedAt"),
                    ('ticket.resolved', 'import', jsonb_build_object('resolution', h.resolution, 'tier', h.tier), h."resolvedAt"),
                    ('ticket.closed', 'import', '{}'::jsonb, h."resolvedAt")) AS x(type, actor, data, at))
            SELECT count(*) AS imported FROM t
            """, logger: logger
        ) { Int(try $0.get("imported", as: Int64.self)) } ?? 0
    }
}
