import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// A vendor's engineer: the vendor's own cases (the API shows no other's), each with its history
/// and the update form.
struct VendorView: Sendable {
    let backend: Backend

    func addRoutes(to groups: RouteGroups) {
        groups.vendor.get(use: cases)
        groups.vendor.get("cases/{id}", use: vendorCase)
        groups.vendor.post("cases/{id}/updates", use: update)
    }

    @Sendable func cases(request: Request, context: ConsoleContext) async throws -> Response {
        let page = try await backend.page(
            VendorCase.self, .vendorBridge, "/v1/vendor/cases", limit: Pages.pageSize, cursor: Pages.cursor(request), token: context.session.token)
        let rows = page.items.map { item -> HTML in
            """
            <tr data-case="\(item.id)"><td>\(item.ticketReference)</td><td><a href="/vendor/cases/\(item.id)">\(item.subject)</a></td>
            <td>\(item.priority.rawValue)</td><td>\(item.status.rawValue)</td><td>\(item.dueAt.map { "\($0)" as HTML } ?? "none")</td></tr>
            """
        }
        let (notice, error) = Pages.notices(request, context)
        return Pages.page(
            "Cases", context, notice: notice, error: error,
            """
            <h1>Your cases</h1>
            <table id="cases"><thead><tr><th scope="col">Ticket</th><th scope="col">Subject</th><th scope="col">Priority</th><th scope="col">Status</th><th scope="col">Due</th></tr></thead>
            <tbody>\(rows.isEmpty ? ["<tr><td colspan=\"5\">No cases.</td></tr>"] : rows)</tbody></table>\(Pages.more(request, next: page.nextCursor))
            """
        ).response()
    }

    @Sendable func vendorCase(request: Request, context: ConsoleContext) async throws -> Response {
        let notFound = Pages.error(status: .notFound, title: "Not found", detail: "There is no such case among yours.")
        guard let id = context.parameters.get("id", as: UUID.self) else { return notFound }
        let item: VendorCase
        do {
            item = try await backend.get(VendorCase.self, .vendorBridge, "/v1/vendor/cases/\(id)", token: context.session.token)
        } catch let failure as Backend.Failure where failure.kind == .notFound || failure.kind == .notAllowed {
            failure.log("the case", logger: context.logger)
            return notFound
        }
        let history = item.updates.map { update -> HTML in
            "<li><span class=\"when\">\(update.at)</span> <span class=\"who\">\(update.author.rawValue)</span> \(update.status?.rawValue ?? "message")<p class=\"message\">\(update.message)</p></li>"
        }
        let statuses = Pages.options(VendorCaseStatus.vendorSettable)
        let (notice, error) = Pages.notices(request, context)
        let open = item.closedAt == nil && item.status != .resolved
        let form: HTML =
            open
            ? """
            <form method="post" action="/vendor/cases/\(id)/updates" id="update">\(Pages.csrf(context))
            <label for="status">Status</label><select id="status" name="status">\(statuses)</select>
            <label for="message">Message</label><textarea id="message" name="message" required rows="4"></textarea>
            <label for="eta">Expected resolution (optional)</label><input type="datetime-local" id="eta" name="eta">
            <button type="submit" id="post-update">Post update</button></form>
            """ : "<p>This case takes no more updates.</p>"
        return Pages.page(
            item.ticketReference, context, notice: notice, error: error,
            """
            <h1 id="case-title">\(item.ticketReference): \(item.subject)</h1>
            <dl class="facts"><dt>Status</dt><dd id="case-status">\(item.status.rawValue)</dd><dt>Priority</dt><dd>\(item.priority.rawValue)</dd>
            <dt>Why it came to you</dt><dd>\(item.reason)</dd><dt>Acknowledge by</dt><dd>\(item.acknowledgeDueAt.map { "\($0)" as HTML } ?? "no target")</dd>
            <dt>Resolve by</dt><dd>\(item.dueAt.map { "\($0)" as HTML } ?? "no target")</dd></dl>
            <h2>Description</h2><p class="message">\(item.description)</p>
            <h2>History</h2><ol class="history" id="case-history">\(history)</ol>
            \(form)
            """
        ).response()
    }

    @Sendable func update(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/vendor/") }
        let form = context.form
        return try await Pages.attempt(orBackTo: "/vendor/cases/\(id)", context) {
            // A datetime-local field has no zone: it is taken as UTC, as the page says of every time.
            var eta: Date?
            if let text = form["eta"]?.nilIfEmpty {
                guard let parsed = JSONCoding.parseDate(text + ":00Z") else {
                    throw Backend.Failure.refused("The expected resolution must be a date and time (2026-12-01T14:30), not “\(text)”.")
                }
                eta = parsed
            }
            let status: VendorCaseStatus = try FormValue.choice(form["status"], "Status")
            _ = try await backend.raw(
                .POST, .vendorBridge, "/v1/vendor/cases/\(id)/updates", token: context.session.token,
                body: VendorUpdateRequest(status: status, message: form["message"] ?? "", eta: eta))
            return Pages.redirect("/vendor/cases/\(id)", notice: .updatePosted)
        }
    }
}
