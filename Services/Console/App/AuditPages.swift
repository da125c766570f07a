import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// `/admin/audit`: the audit trail of every administrative change (tier-queue's `GET /v1/audit`),
/// newest first, filtered by person, object, action and time, a page at a time, each change's
/// before and after shown as the fields it changed.
struct AuditPages: Sendable {
    let backend: Backend

    func addRoutes(to groups: RouteGroups) {
        groups.audit.get("audit", use: trail)
    }

    /// The filters the page passes on to `GET /v1/audit`, in its form's order, with their labels.
    static let filters: [(name: String, label: String, placeholder: String)] = [
        ("person", "Person (id)", "a staff person's id"), ("objectType", "Object type", "triage_rule, agent, vendor, kb_article, …"),
        ("objectId", "Object id", ""), ("action", "Action", "triage_rule.deleted, …"), ("from", "From", "2026-11-01T00:00:00Z"),
        ("to", "Before", "2026-12-01T00:00:00Z"),
    ]

    @Sendable func trail(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let chosen = Self.filters.compactMap { filter in
            request.uri.queryParameters[filter.name[...]].map(String.init)?.nilIfEmpty.map { (filter.name, $0) }
        }
        let query = chosen.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let events = try await Pages.part("The audit trail", context) {
            try await backend.page(
                AuditEvent.self, .tierQueue, "/v1/audit" + (query.isEmpty ? "" : "?" + query), limit: Pages.pageSize, cursor: Pages.cursor(request),
                token: context.session.token)
        }
        let values = Dictionary(chosen, uniquingKeysWith: { first, _ in first })
        let fields: [HTML] = Self.filters.map { filter in
            """
            <label>\(filter.label) <input name="\(filter.name)" value="\(values[filter.name])" placeholder="\(filter.placeholder)"></label>
            """
        }
        let form: HTML = """
            <form method="get" action="/admin/audit" class="filters">\(fields)<button type="submit">Filter</button> <a href="/admin/audit">Clear</a></form>
            """
        let table = Pages.show(events, "The audit trail", context) { page in
            """
            <table id="audit-trail"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Object</th>
            <th scope="col">Change</th><th scope="col">Request</th></tr></thead>
            <tbody>\(page.items.isEmpty ? ["<tr><td colspan=\"6\">No changes.</td></tr>"] : page.items.map(Self.row))</tbody></table>\
            \(Pages.more(request, next: page.nextCursor))
            """
        }
        return Pages.page(
            "Audit trail", context, notice: notice, error: error,
            """
            <h1>Audit trail</h1>\(context.session.role == .admin ? AdminPages.menu : "")<p>Every change to people, tokens, settings, rules, vendors and articles, newest first. \
            Ticket work is in each ticket's own history.</p>\(form)\(table)
            """
        ).response()
    }

    static func row(_ event: AuditEvent) -> HTML {
        let who: HTML =
            event.personId.map { person in "<a href=\"/admin/audit?person=\(person)\">\(event.actor)</a>" } ?? "\(event.actor)"
        let object: HTML = """
            <a href="/admin/audit?objectType=\(event.objectType.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&amp;objectId=\
            \(event.objectId.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")">\(event.objectType) \(event.objectId)</a>
            """
        return """
            <tr><td>\(event.at)</td><td>\(who)</td><td>\(event.action)</td><td>\(object)</td><td>\(diff(event))</td>
            <td>\(event.requestId)<br>\(event.clientAddress)</td></tr>
            """
    }

    /// The change as a small table: each field that differs, before and after (a creation shows what
    /// was created, a deletion what was deleted); fields that stayed the same are counted, not listed.
    static func diff(_ event: AuditEvent) -> HTML {
        let changes = AuditDiff.changes(before: event.before, after: event.after)
        let rows: [HTML] = changes.changed.map { change in
            """
            <tr><th scope="row">\(change.field)</th><td class="before">\(change.before ?? "—")</td><td class="after">\(change.after ?? "—")</td></tr>
            """
        }
        let same: HTML = changes.unchanged > 0 ? "<p class=\"muted\">\(changes.unchanged) field\(changes.unchanged == 1 ? "" : "s") unchanged.</p>" : ""
        guard !rows.isEmpty else { return "<p class=\"muted\">No field changed.</p>\(same)" }
        return """
            <table class="diff"><thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>\
            <tbody>\(rows)</tbody></table>\(same)
            """
    }
}

/// Before and after of an audited object, compared field by field for people to read.
enum AuditDiff {
    struct Change: Equatable {
        var field: String
        /// The value as JSON text; nil when the field was not there.
        var before: String?
        var after: String?
    }

    /// The fields that differ, in name order, and how many are the same. Objects are compared by
    /// their top-level fields; anything else (several rows, an absent side) as one field named `value`.
    static func changes(before: JSONValue?, after: JSONValue?) -> (changed: [Change], unchanged: Int) {
        let old = fields(before)
        let new = fields(after)
        var changed: [Change] = []
        var unchanged = 0
        for field in Set(old.keys).union(new.keys).sorted() {
            if old[field] == new[field] {
                unchanged += 1
            } else {
                changed.append(Change(field: field, before: old[field].map(text), after: new[field].map(text)))
            }
        }
        return (changed, unchanged)
    }

    static func fields(_ value: JSONValue?) -> [String: JSONValue] {
        switch value {
        case nil: [:]
        case .object(let object): object
        case let value?: ["value": value]
        }
    }

    /// A value as it reads best: a string as it is, anything else as compact JSON.
    static func text(_ value: JSONValue) -> String {
        if case .string(let string) = value { return string }
        if case .null = value { return "null" }
        return (try? JSONCoding.string(value)) ?? "?"  // try?: JSONValue always encodes; "?" is never shown in practice
    }
}
