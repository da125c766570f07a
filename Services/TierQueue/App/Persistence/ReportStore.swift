import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Reads what the summary report needs: the trails of the tickets that moved in a period, and
/// each level's open tickets now.
struct ReportStore: Sendable {
    let tickets: TicketStore

    /// Tickets resolved, escalated, bounced, paused, reopened or closed in `[from, to)`, with their whole trails.
    func tickets(from: Date, to: Date, on executor: some DatabaseExecutor, logger: Logger) async throws -> [ReportedTicket] {
        let rows = try await executor.all(
            """
            SELECT t.id, t.priority FROM tickets t WHERE t.id IN (
                SELECT e.ticket_id FROM ticket_events e
                WHERE e.type IN ('ticket.resolved', 'ticket.escalated', 'ticket.deescalated', 'ticket.closed', 'ticket.pending', 'ticket.reopened')
                    AND e.at >= \(from) AND e.at < \(to))
            """, logger: logger
        ) { row in (try row.get("id", as: UUID.self), Priority(rank: Int(try row.get("priority", as: Int16.self))) ?? .p3) }
        let trails = try await tickets.trails(of: rows.map(\.0), on: executor, logger: logger)
        return rows.map { ReportedTicket(id: $0.0, priority: $0.1, events: trails[$0.0] ?? []) }
    }

    /// Each level's open tickets and its oldest one.
    func backlog(on executor: some DatabaseExecutor, logger: Logger) async throws -> [BacklogRow] {
        try await executor.all(
            """
            SELECT c.tier, c.open, o.id AS oldest_id, o.created_at AS oldest_created_at
            FROM (SELECT tier, count(*) AS open FROM tickets WHERE status NOT IN ('new', 'resolved', 'closed') AND tier IS NOT NULL GROUP BY tier) c
            CROSS JOIN LATERAL (
                SELECT id, created_at FROM tickets WHERE tier = c.tier AND status NOT IN ('new', 'resolved', 'closed') ORDER BY created_at, id LIMIT 1) o
            """, logger: logger
        ) { row in
            BacklogRow(
                tier: Tier(rawValue: Int(try row.get("tier", as: Int16.self))) ?? .firstLine, open: Int(try row.get("open", as: Int64.self)),
                oldestID: try row.get("oldest_id"), oldestCreatedAt: try row.get("oldest_created_at"))
        }
    }
}
