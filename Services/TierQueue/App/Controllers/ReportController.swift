import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// `GET /v1/reports/summary?from=&to=` (administrators, auditors, team leads and level 3 agents): how the department did in a
/// period (default the last 30 days, at most 366 days); `ReportBuilder` holds the definitions.
struct ReportController: Sendable {
    let deps: TierQueueDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/reports/summary") { request, context in
            try context.requireReportReader()
            let now = deps.runtime.clock.now()
            let (from, to) = try Pagination.window(request, now: now)
            return JSONResponse(try await summary(from: from, to: to, now: now, logger: context.logger))
        }
    }

    func summary(from: Date, to: Date, now: Date, logger: Logger) async throws -> ReportSummary {
        let postgres = deps.runtime.postgres
        let store = ReportStore(tickets: deps.runtime.tickets)
        let settings = try await SLAStore().settings(on: postgres, logger: logger)
        let tickets = try await store.tickets(from: from, to: to, on: postgres, logger: logger)
        let backlog = try await store.backlog(on: postgres, logger: logger)
        return ReportBuilder(from: from, to: min(to, now), settings: settings, costs: deps.configuration.costs).summary(tickets, backlog: backlog)
    }

    /// The last day's figures as Prometheus gauges (`tierdesk_report_*`), refreshed by a periodic task.
    func publishMetrics(logger: Logger) async throws {
        let now = deps.runtime.clock.now()
        let report = try await summary(from: now.addingTimeInterval(-86_400), to: now, now: now, logger: logger)
        for (tier, count) in report.resolvedByTier { TierdeskMetrics.gauge("tierdesk_report_resolved", [("tier", tier)], Double(count)) }
        TierdeskMetrics.gauge("tierdesk_report_first_contact_resolution_ratio", [], report.firstContactResolutionRate ?? 0)
        for (tier, mean) in report.meanTimeToResolveSecondsByTier {
            TierdeskMetrics.gauge("tierdesk_report_time_to_resolve_mean_seconds", [("tier", tier)], mean)
        }
        for (tier, duration) in report.timeToResolveByTier {
            TierdeskMetrics.gauge("tierdesk_report_time_to_resolve_p90_seconds", [("tier", tier)], duration.p90Seconds)
        }
        for (priority, compliance) in report.slaCompliance {
            TierdeskMetrics.gauge("tierdesk_report_sla_compliance_ratio", [("priority", priority)], compliance.rate ?? 1)
        }
        for (tier, backlog) in report.backlogByTier {
            TierdeskMetrics.gauge("tierdesk_report_backlog", [("tier", tier)], Double(backlog.open))
            let age = backlog.oldestCreatedAt.map { now.timeIntervalSince($0) } ?? 0
            TierdeskMetrics.gauge("tierdesk_report_oldest_open_age_seconds", [("tier", tier)], age)
        }
        TierdeskMetrics.gauge("tierdesk_report_escalation_ratio", [], report.escalationRate ?? 0)
        for (tier, rate) in report.escalationRateByTier { TierdeskMetrics.gauge("tierdesk_report_escalation_ratio_by_tier", [("tier", tier)], rate) }
        for (pair, count) in report.bouncesByPair { TierdeskMetrics.gauge("tierdesk_report_bounces", [("pair", pair)], Double(count)) }
        for (reason, seconds) in report.pausedSecondsByReason { TierdeskMetrics.gauge("tierdesk_report_paused_seconds", [("reason", reason)], seconds) }
        TierdeskMetrics.gauge("tierdesk_report_vendor_turnaround_mean_seconds", [], report.vendorTurnaround?.meanSeconds ?? 0)
        for (tier, cost) in report.cost.totalByTier { TierdeskMetrics.gauge("tierdesk_report_cost", [("tier", tier)], cost) }
        for (tier, saving) in report.cost.shiftLeftSavingsByTier { TierdeskMetrics.gauge("tierdesk_report_shift_left_savings", [("tier", tier)], saving) }
    }
}
