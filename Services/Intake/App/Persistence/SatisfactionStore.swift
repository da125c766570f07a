import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `satisfaction_answers` (migration 0022): one answer per ticket from its
/// requester, once the ticket is resolved, changeable for `Satisfaction.changeableFor`; and the
/// reports over them.
public struct SatisfactionStore: Sendable {
    public init() {}

    /// Records or changes the answer for `ticketID` (in the caller's transaction).
    public func answer(_ input: SatisfactionRequest, ticketID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws
        -> Satisfaction
    {
        guard
            let status = try await connection.first(
                "SELECT status FROM tickets WHERE id = \(ticketID) FOR SHARE", logger: logger, { try $0.get("status", as: TicketStatus.self) })
        else { throw IntakeError.ticketNotFound }
        guard status == .resolved || status == .closed else { throw IntakeError.notResolvedYet(status: status) }
        if let earlier = try await find(ticketID, on: connection, forUpdate: true, logger: logger), now >= earlier.changeableUntil {
            throw IntakeError.satisfactionFinal(since: earlier.changeableUntil)
        }
        let comment = input.comment.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        let saved = try await connection.first(
            """
            INSERT INTO satisfaction_answers (ticket_id, rating, comment, answered_at, changed_at)
            VALUES (\(ticketID), \(Int16(input.rating)), \(comment), \(now), \(now))
            ON CONFLICT (ticket_id) DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, changed_at = EXCLUDED.changed_at
            RETURNING ticket_id, rating, comment, answered_at, changed_at
            """, logger: logger, Self.satisfaction)
        guard let saved else { throw IntakeError.concurrentChange("the answer could not be stored; retry") }
        return saved
    }

    /// The answer for `ticketID`, if there is one.
    public func find(_ ticketID: UUID, on executor: some DatabaseExecutor, forUpdate: Bool = false, logger: Logger) async throws -> Satisfaction? {
        try await executor.first(
            PostgresQuery(
                unsafeSQL: "SELECT ticket_id, rating, comment, answered_at, changed_at FROM satisfaction_answers WHERE ticket_id = $1"
                    + (forUpdate ? " FOR UPDATE" : ""), binds: try PostgresBindings(ticketID)), logger: logger, Self.satisfaction)
    }

    static func satisfaction(_ row: PostgresRandomAccessRow) throws -> Satisfaction {
        Satisfaction(
            ticketId: try row.get("ticket_id"), rating: Int(try row.get("rating", as: Int16.self)), comment: try row.get("comment"),
            answeredAt: try row.get("answered_at"), changedAt: try row.get("changed_at"))
    }

    /// The answers first given in `[from, to)`, grouped `by`: the level, agent, category and vendor
    /// are the ticket's as it was resolved (its level and holder stay on a resolved ticket).
    public func report(by grouping: SatisfactionGrouping, from: Date, to: Date, on executor: some DatabaseExecutor, logger: Logger) async throws
        -> SatisfactionReport
    {
        let (key, name, join): (String, String, String) =
            switch grouping {
            case .level: ("t.tier::text", "NULL::text", "")
            case .agent: ("t.assignee_id::text", "a.name", "LEFT JOIN agents a ON a.id = t.assignee_id")
            case .category: ("t.category", "NULL::text", "")
            case .vendor: ("t.vendor_id::text", "v.name", "LEFT JOIN vendors v ON v.id = t.vendor_id")
            case .week: ("to_char(date_trunc('week', s.answered_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')", "NULL::text", "")
            }
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(key) AS key, \(name) AS name, count(*) AS answers, avg(s.rating)::float8 AS average,
                           (count(*) FILTER (WHERE s.rating >= 4))::float8 / count(*) AS good
                    FROM satisfaction_answers s JOIN tickets t ON t.id = s.ticket_id \(join)
                    WHERE s.answered_at >= $1 AND s.answered_at < $2
                    GROUP BY 1, 2 ORDER BY 1 NULLS LAST
                    """, binds: try PostgresBindings(from, to)), logger: logger
        ) { row in
            SatisfactionReport.Row(
                key: try row.get("key"), name: try row.get("name"), answers: Int(try row.get("answers", as: Int64.self)),
                averageRating: try row.get("average"), goodShare: try row.get("good"))
        }
        return SatisfactionReport(by: grouping, from: from, to: to, rows: rows)
    }
}
