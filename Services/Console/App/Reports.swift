import Foundation
import Hummingbird
import TierdeskModels

/// `/agent/reports` (administrators, auditors, team leads and level 3 agents; the API refuses others): the summary report over a
/// chosen window, with server-drawn SVG bar charts.
struct ReportsPage: Sendable {
    let backend: Backend

    func addRoutes(to groups: RouteGroups) {
        groups.reports.get("reports", use: show)
    }

    /// A horizontal bar chart: one bar per label, scaled to the largest value, labelled with `format`.
    static func bars(_ title: String, _ values: [(String, Double)], format: (Double) -> String) -> HTML {
        let top = max(values.map(\.1).max() ?? 0, 1)
        let rowHeight = 28
        let height = rowHeight * max(values.count, 1) + 8
        let rows = values.enumerated().map { index, entry -> HTML in
            let width = Int(300 * entry.1 / top)
            let y = 4 + index * rowHeight
            return """
                <text x="0" y="\(y + 18)" class="label">\(entry.0)</text><rect x="180" y="\(y + 4)" width="\(max(width, 1))" height="18" class="bar"></rect>\
                <text x="\(188 + width)" y="\(y + 18)" class="value">\(format(entry.1))</text>
                """
        }
        return """
            <figure><figcaption>\(title)</figcaption>
            <svg role="img" aria-label="\(title)" viewBox="0 0 580 \(height)" width="580" height="\(height)" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">\(rows)</svg>
            </figure>
            """
    }

    static func levelName(_ key: String) -> String { key == "0" ? "Level 0 (self-service)" : key == "4" ? "Level 4 (vendors)" : "Level \(key)" }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.0f %%", $0 * 100) } ?? "n/a" }

    @Sendable func show(request: Request, context: ConsoleContext) async throws -> Response {
        let days: Int
        do {
            days = try FormValue.number(request.uri.queryParameters["days"].map(String.init), "The window in days", in: 1...366) ?? 30
        } catch {
            return Pages.page("Reports", context, error: error.shown, "<h1>Reports</h1>").response(status: .unprocessableContent)
        }
        let now = context.now
        let from = now.addingTimeInterval(-Double(days) * 86_400).formatted(.iso8601)
        let report = try await backend.get(
            ReportSummary.self, .tierQueue, "/v1/reports/summary?from=\(from)&to=\(now.formatted(.iso8601))", token: context.session.token)
        let levels = ["0", "1", "2", "3", "4"]
        let resolved = levels.map { (Self.levelName($0), Double(report.resolvedByTier[$0] ?? 0)) }
        let times = levels.compactMap { key in report.timeToResolveByTier[key].map { (Self.levelName(key), $0.meanSeconds / 3600) } }
        let compliance = report.slaCompliance.sorted { $0.key < $1.key }.compactMap { key, value in value.rate.map { (key, $0 * 100) } }
        let paused = report.pausedSecondsByReason.sorted { $0.key < $1.key }.map { ($0.key.replacingOccurrences(of: "_", with: " "), $0.value / 3600) }
        let cost = levels.map { (Self.levelName($0), report.cost.totalByTier[$0] ?? 0) }
        // Satisfaction (intake): one part per grouping; a failure shows as what it is, beside the rest.
        let window = "from=\(from)&to=\(now.formatted(.iso8601))"
        var satisfaction: [HTML] = []
        for by in SatisfactionGrouping.allCases {
            let part = try await Pages.part("Satisfaction by \(by.rawValue)", context) {
                try await backend.get(SatisfactionReport.self, .intake, "/v1/reports/satisfaction?by=\(by.rawValue)&\(window)", token: context.session.token)
            }
            satisfaction.append(
                Pages.show(part, "Satisfaction by \(by.rawValue)", context) { found in
                    Self.bars(
                        "Satisfaction by \(by.rawValue): average rating of 5 (answers)",
                        found.rows.map { row in
                            let name = row.name ?? row.key.map { by == .level ? Self.levelName($0) : $0 } ?? "none"
                            return ("\(name) (\(row.answers))", row.averageRating)
                        }
                    ) { String(format: "%.1f", $0) }
                })
        }
        let windows = [7, 30, 90].map { option -> HTML in
            option == days ? "<strong>\(option) days</strong>" : "<a href=\"/agent/reports?days=\(option)\">\(option) days</a>"
        }
        return Pages.page(
            "Reports", context,
            """
            <h1>How the help desk did</h1>
            <p>The last \(days) days, \(report.from) to \(report.to). Window: \(windows.map { "\($0) " as HTML })</p>
            <dl class="facts" id="report-facts">
            <dt>First-contact resolution</dt><dd>\(Self.percent(report.firstContactResolutionRate))</dd>
            <dt>Escalation rate</dt><dd>\(Self.percent(report.escalationRate))</dd>
            <dt>Bounces</dt><dd>\(report.bouncesByPair.values.reduce(0, +))</dd>
            <dt>Open now</dt><dd>\(report.backlogByTier.values.reduce(0) { $0 + $1.open })</dd>
            <dt>Cost</dt><dd>\(String(format: "%.0f", report.cost.total))</dd></dl>
            \(Self.bars("Resolved per level", resolved) { String(Int($0)) })
            \(Self.bars("Mean time to resolve per level (hours)", times) { String(format: "%.1f h", $0) })
            \(Self.bars("Resolved within the SLA target, by priority (%)", compliance) { String(format: "%.0f %%", $0) })
            \(Self.bars("Paused time by reason (hours)", paused) { String(format: "%.1f h", $0) })
            \(Self.bars("Cost per level", cost) { String(format: "%.0f", $0) })
            <h2 id="satisfaction">Satisfaction</h2>
            \(satisfaction)
            """
        ).response()
    }
}
