import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The admin's SLA policies (a target per priority, in business time or around the clock) and the
/// business calendar; problems, for level 3 and the admin (root cause, workaround, known error, resolution).
struct SettingsPages: Sendable {
    let backend: Backend

    static let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    func addRoutes(to groups: RouteGroups) {
        groups.admin.get("sla", use: sla)
        groups.admin.post("sla/{priority}", use: savePolicy)
        groups.admin.post("calendar", use: saveCalendar)
        groups.agent.get("problems", use: problems)
        groups.agent.post("problems/{id}", use: saveProblem)
    }

    @Sendable func sla(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let (backend, token) = (backend, context.session.token)
        async let calendar = Pages.part("The business calendar", context) {
            try await backend.get(BusinessCalendar.self, .tierQueue, "/v1/sla/calendar", token: token)
        }
        let policies = try await backend.get(Page<SLAPolicy>.self, .tierQueue, "/v1/sla/policies", token: token).items
        let rows = policies.map { policy -> HTML in
            let key = policy.priority.rawValue
            return """
                <tr><th scope="row">\(key)</th><td colspan="4"><form method="post" action="/admin/sla/\(key)" class="policy">\(Pages.csrf(context))
                <label for="first-\(key)">First response (minutes)</label><input type="text" inputmode="numeric" id="first-\(key)" name="firstResponseMinutes" value="\(policy.firstResponseSeconds / 60)">
                <label for="resolution-\(key)">Resolution (minutes)</label><input type="text" inputmode="numeric" id="resolution-\(key)" name="resolutionMinutes" value="\(policy.resolutionSeconds / 60)">
                <label class="check"><input type="checkbox" name="businessHours" value="true" \(policy.businessHours ? "checked" as HTML : "")> Business hours only</label>
                <button type="submit">Save \(key)</button></form></td></tr>
                """
        }
        return Pages.page(
            "SLA", context, notice: notice, error: error,
            """
            <h1>SLA policies and the business calendar</h1>\(AdminPages.menu)
            <table id="policies"><tbody>\(rows)</tbody></table>
            \(Pages.show(try await calendar, "The business calendar", context) { calendar in
                """
                <form method="post" action="/admin/calendar" id="calendar">\(Pages.csrf(context))<h2>Business calendar</h2>
                \(Self.calendarFields(calendar, idPrefix: "calendar-"))
                <button type="submit" id="save-calendar">Save the calendar</button></form>
                """
            })
            """
        ).response()
    }

    /// A business calendar's fields (`timeZone`, `week.mon` ... `week.sun`, `holidays`), filled in with
    /// `calendar`. `calendar(_:)` reads them back. The SLA's calendar and each vendor's hours use them.
    static func calendarFields(_ calendar: BusinessCalendar, idPrefix: String) -> HTML {
        let week = Self.days.map { day -> HTML in
            """
            <label for="\(idPrefix)week-\(day)">\(day)</label>\
            <input type="text" id="\(idPrefix)week-\(day)" name="week.\(day)" value="\((calendar.week[day] ?? []).joined(separator: " "))">
            """
        }
        return """
            <p>Each day lists opening and closing times in pairs (<code>09:00 12:00 13:00 17:00</code>); an empty day is closed.</p>
            <label for="\(idPrefix)zone">Time zone</label><input type="text" id="\(idPrefix)zone" name="timeZone" value="\(calendar.timeZone)">
            \(week)
            <label for="\(idPrefix)holidays">Holidays (dates, space separated)</label>\
            <input type="text" id="\(idPrefix)holidays" name="holidays" value="\(calendar.holidays.joined(separator: " "))">
            """
    }

    /// The business calendar of a form's `calendarFields` (times and dates separated by spaces or
    /// commas); a closed day is left out of the week, an empty time zone is UTC.
    static func calendar(_ form: [String: String]) -> BusinessCalendar {
        func items(_ text: String?) -> [String] { (text ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }
        var week: [String: [String]] = [:]
        for day in Self.days where !items(form["week.\(day)"]).isEmpty { week[day] = items(form["week.\(day)"]) }
        let zone = (form["timeZone"] ?? "").trimmingCharacters(in: .whitespaces)
        return BusinessCalendar(timeZone: zone.isEmpty ? "UTC" : zone, week: week, holidays: items(form["holidays"]))
    }

    @Sendable func savePolicy(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        return try await Pages.attempt(orBackTo: "/admin/sla", context) {
            let priority: Priority = try FormValue.choice(context.parameters.get("priority"), "The priority")
            // Text that is not a number is refused here; an empty field goes as 0, which the API refuses.
            let input = SLAPolicyRequest(
                firstResponseSeconds: 60 * (try AdminPages.minutes(form["firstResponseMinutes"], "First response") ?? 0),
                resolutionSeconds: 60 * (try AdminPages.minutes(form["resolutionMinutes"], "Resolution") ?? 0),
                businessHours: try FormValue.flag(form["businessHours"], "Business hours only"))
            _ = try await backend.raw(.PUT, .tierQueue, "/v1/sla/policies/\(priority.rawValue)", token: context.session.token, body: input)
            return Pages.redirect("/admin/sla", notice: .slaSaved(priority))
        }
    }

    @Sendable func saveCalendar(request: Request, context: ConsoleContext) async throws -> Response {
        let calendar = Self.calendar(context.form)
        return try await Pages.attempt(orBackTo: "/admin/sla", context) {
            _ = try await backend.raw(.PUT, .tierQueue, "/v1/sla/calendar", token: context.session.token, body: calendar)
            return Pages.redirect("/admin/sla", notice: .calendarSaved)
        }
    }

    @Sendable func problems(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let open = try await backend.page(
            ProblemRecord.self, .triage, "/v1/problems?status=open", limit: Pages.pageSize, cursor: Pages.cursor(request), token: context.session.token)
        let sections = open.items.map { problem -> HTML in
            """
            <section class="problem" aria-labelledby="problem-\(problem.id)"><h2 id="problem-\(problem.id)">\(problem.title)</h2>
            <p>\(problem.category), \(problem.incidentIds.count) incidents\(problem.storm ? ", a storm" as HTML : "")\(problem.knownError ? ", a known error" as HTML : "")</p>
            <form method="post" action="/agent/problems/\(problem.id)">\(Pages.csrf(context))<input type="hidden" name="version" value="\(problem.version)">
            <label for="cause-\(problem.id)">Root cause</label><textarea id="cause-\(problem.id)" name="rootCause" rows="2">\(problem.rootCause)</textarea>
            <label for="workaround-\(problem.id)">Workaround</label><textarea id="workaround-\(problem.id)" name="workaround" rows="2">\(problem.workaround)</textarea>
            <label class="check"><input type="checkbox" name="knownError" value="true" \(problem.knownError ? "checked" as HTML : "")> Known error (agents see the workaround on its tickets)</label>
            <label for="resolution-\(problem.id)">Resolution (resolves the problem)</label><textarea id="resolution-\(problem.id)" name="resolution" rows="2"></textarea>
            <button type="submit">Save</button></form></section>
            """
        }
        return Pages.page(
            "Problems", context, notice: notice, error: error,
            "<h1>Open problems</h1>\(sections.isEmpty ? ["<p>No open problem.</p>"] : sections)\(Pages.more(request, next: open.nextCursor))"
        ).response()
    }

    @Sendable func saveProblem(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/agent/problems") }
        let form = context.form
        let resolution = form["resolution"]?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        return try await Pages.attempt(orBackTo: "/agent/problems", context) {
            let change = UpdateProblemRequest(
                rootCause: form["rootCause"]?.nilIfEmpty, workaround: form["workaround"]?.nilIfEmpty,
                knownError: try FormValue.flag(form["knownError"], "Known error"), status: resolution == nil ? nil : .resolved, resolution: resolution,
                version: try FormValue.number(form["version"], "The version"))
            _ = try await backend.raw(.PATCH, .triage, "/v1/problems/\(id)", token: context.session.token, body: change)
            return Pages.redirect("/agent/problems", notice: resolution == nil ? .saved : .problemResolved)
        }
    }
}
