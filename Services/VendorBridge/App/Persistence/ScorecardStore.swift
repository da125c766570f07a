import Foundation
import Logging
import Metrics
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// A vendor's scorecard, computed from its cases in one statement: the cases opened in
/// `[from, to)`, how long they took to be acknowledged and resolved (wall-clock seconds from
/// opening; mean and 90th percentile), the share on time against the contract, how often the
/// company sent a resolution back, and how many questions the vendor asked.
///
/// On-time shares count the cases that had the target and either reached the step or passed the
/// due time without it (a case still unacknowledged past its due time is late, not left out); nil
/// when no case counts.
struct ScorecardStore: Sendable {
    func scorecard(vendorID: UUID, from: Date, to: Date, now: Date, on executor: some DatabaseExecutor, logger: Logger) async throws -> VendorScorecard {
        try await executor.first(
            """
            SELECT count(*) AS cases,
                count(c.acknowledged_at) AS acknowledged,
                avg(extract(epoch FROM c.acknowledged_at - c.opened_at))::float8 AS acknowledge_mean,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.acknowledged_at - c.opened_at))::float8 AS acknowledge_p90,
                count(*) FILTER (WHERE c.acknowledge_due_at IS NOT NULL AND (c.acknowledged_at IS NOT NULL OR c.acknowledge_due_at <= \(now))) AS acknowledge_counted,
                count(*) FILTER (WHERE c.acknowledged_at <= c.acknowledge_due_at) AS acknowledge_on_time,
                count(c.resolved_at) AS resolved,
                avg(extract(epoch FROM c.resolved_at - c.opened_at))::float8 AS resolve_mean,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM c.resolved_at - c.opened_at))::float8 AS resolve_p90,
                count(*) FILTER (WHERE c.due_at IS NOT NULL AND (c.resolved_at IS NOT NULL OR c.due_at <= \(now))
                    AND NOT EXISTS (SELECT 1 FROM vendor_case_updates u WHERE u.case_id = c.id AND u.status = 'rejected')) AS resolve_counted,
                count(*) FILTER (WHERE c.resolved_at <= c.due_at) AS resolve_on_time,
                count(*) FILTER (WHERE c.reopen_count > 0) AS reopened,
                count(*) FILTER (WHERE c.resolved_at IS NOT NULL OR c.reopen_count > 0) AS ever_resolved,
                sum(c.questions) AS questions,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM vendor_case_updates u WHERE u.case_id = c.id AND u.status = 'rejected')) AS rejected,
                count(*) FILTER (WHERE c.closed_at IS NULL AND ((c.acknowledged_at IS NULL AND c.acknowledge_due_at <= \(now))
                    OR (c.resolved_at IS NULL AND c.due_at <= \(now)))) AS overdue_now
            FROM vendor_cases c
            WHERE c.vendor_id = \(vendorID) AND c.opened_at >= \(from) AND c.opened_at < \(to)
            """, logger: logger
        ) { row in
            func count(_ column: String) throws -> Int { Int(try row.get(column, as: Int64.self)) }
            func share(_ part: String, of whole: String) throws -> Double? {
                let whole = try count(whole)
                return whole == 0 ? nil : Double(try count(part)) / Double(whole)
            }
            let cases = try count("cases")
            return VendorScorecard(
                vendorId: vendorID, from: from, to: to, cases: cases,
                acknowledge: .init(
                    count: try count("acknowledged"), meanSeconds: try row.get("acknowledge_mean"), p90Seconds: try row.get("acknowledge_p90"),
                    onTimeShare: try share("acknowledge_on_time", of: "acknowledge_counted")),
                resolve: .init(
                    count: try count("resolved"), meanSeconds: try row.get("resolve_mean"), p90Seconds: try row.get("resolve_p90"),
                    onTimeShare: try share("resolve_on_time", of: "resolve_counted")),
                reopenRate: try share("reopened", of: "ever_resolved"),
                questionsPerCase: cases == 0 ? nil : Double(try row.get("questions", as: Int64?.self) ?? 0) / Double(cases),
                rejected: try count("rejected"), overdueNow: try count("overdue_now"))
        }!
    }

    /// Every active vendor's scorecard over the last 30 days as Prometheus gauges
    /// (`tierdesk_vendor_*{vendor="<name>"}`), the same figures `GET /v1/vendors/{id}/scorecard` gives.
    func publishMetrics(on client: PostgresClient, now: Date, logger: Logger) async throws {
        let vendors = try await client.all("SELECT id, name FROM vendors WHERE active", logger: logger) { row in
            (try row.get("id", as: UUID.self), try row.get("name", as: String.self))
        }
        let from = now.addingTimeInterval(-30 * 86_400)
        for (id, name) in vendors {
            let card = try await scorecard(vendorID: id, from: from, to: now, now: now, on: client, logger: logger)
            let gauges: [(String, Double?)] = [
                ("tierdesk_vendor_cases", Double(card.cases)),
                ("tierdesk_vendor_acknowledge_mean_seconds", card.acknowledge.meanSeconds),
                ("tierdesk_vendor_acknowledge_p90_seconds", card.acknowledge.p90Seconds),
                ("tierdesk_vendor_acknowledge_on_time_ratio", card.acknowledge.onTimeShare),
                ("tierdesk_vendor_resolve_mean_seconds", card.resolve.meanSeconds),
                ("tierdesk_vendor_resolve_p90_seconds", card.resolve.p90Seconds),
                ("tierdesk_vendor_resolve_on_time_ratio", card.resolve.onTimeShare),
                ("tierdesk_vendor_reopen_ratio", card.reopenRate),
                ("tierdesk_vendor_questions_per_case", card.questionsPerCase),
                ("tierdesk_vendor_overdue_cases", Double(card.overdueNow)),
            ]
            for (label, value) in gauges { TierdeskMetrics.gauge(label, [("vendor", name)], value ?? 0) }
        }
    }
}
