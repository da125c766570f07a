import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// `/admin/` (the admin token): agents, triage rules with the dry run, vendors (their coverage,
/// contract, standing and API key) with their webhook deliveries, every service's dead letters, and
/// outgoing mail with its status and a resend.
struct AdminPages: Sendable {
    let backend: Backend

    func addRoutes(to groups: RouteGroups) {
        groups.admin.get(use: home)
        groups.admin.get("agents", use: agents)
        groups.admin.post("agents", use: createAgent)
        groups.admin.post("agents/{id}/{action}", use: changeAgent)
        groups.admin.get("rules", use: rules)
        groups.admin.post("rules", use: createRule)
        groups.admin.post("rules/{id}/delete", use: deleteRule)
        groups.admin.post("rules/test", use: testRule)
        groups.admin.get("vendors", use: vendors)
        groups.admin.post("vendors", use: createVendor)
        groups.admin.get("vendors/{id}", use: vendor)
        groups.admin.post("vendors/{id}", use: saveVendor)
        groups.admin.post("vendors/{id}/api-key", use: rotateVendorKey)
        groups.admin.post("vendors/{id}/standing", use: changeVendorStanding)
        groups.admin.post("deliveries/{id}/redeliver", use: redeliver)
        groups.admin.get("dead-letters", use: deadLetters)
        groups.admin.post("dead-letters/{service}/{id}/retry", use: retry)
        groups.admin.get("mail", use: outgoingMail)
        groups.admin.post("mail/{id}/resend", use: resendMail)
    }

    static let menu: HTML = """
        <nav aria-label="Administration" class="subnav"><a href="/admin/agents">Agents</a> <a href="/admin/rules">Triage rules</a> \
        <a href="/admin/vip">VIPs</a> <a href="/admin/contracts">Escalation contracts</a> <a href="/admin/work-modes">Work modes</a> \
        <a href="/admin/vendors">Vendors</a> <a href="/admin/sla">SLA</a> <a href="/agent/problems">Problems</a> <a href="/admin/dead-letters">Dead letters</a> \
        <a href="/admin/mail">Outgoing mail</a> <a href="/agent/reports">Reports</a></nav>
        """

    static func list(_ text: String?) -> [String]? {
        let items = (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return items.isEmpty ? nil : items
    }

    @Sendable func home(request: Request, context: ConsoleContext) async throws -> Response {
        return Pages.page("Administration", context, "<h1>Administration</h1>\(Self.menu)").response()
    }

    // MARK: Agents

    @Sendable func agents(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        return try await agentsPage(context, cursor: Pages.cursor(request), more: request, notice: notice, error: error)
    }

    /// The agents page; a token just issued is shown on it once, in the answer to the form that issued
    /// it: never in an address, where it would stay in the browser's history and the servers' logs.
    func agentsPage(
        _ context: ConsoleContext, cursor: String? = nil, more request: Request? = nil, notice: String? = nil, error: String? = nil,
        token: (name: String, token: String)? = nil
    ) async throws -> Response {
        var issued: HTML = ""
        if let token {
            issued = """
                <section id="issued-token" aria-labelledby="issued-token-title"><h2 id="issued-token-title">\(token.name)'s token</h2>
                <p>Shown this once: give it to them now. It rests only as a hash.</p><p><code>\(token.token)</code></p></section>
                """
        }
        let page = try await backend.page(Agent.self, .tierQueue, "/v1/agents", limit: Pages.pageSize, cursor: cursor, token: context.session.token)
        let rows = page.items.map { agent -> HTML in
            """
            <tr><td>\(agent.name)</td><td>\(agent.email)</td><td>\(agent.role.rawValue)</td><td>\(agent.tiers.map { String($0.rawValue) }.joined(separator: ", "))</td>
            <td>\(agent.skills.joined(separator: ", "))</td><td>\(agent.wipLimit)</td><td>\(agent.active ? "active" : "deactivated")</td>
            <td><form method="post" action="/admin/agents/\(agent.id)/token" class="inline">\(Pages.csrf(context))<button type="submit">New token</button></form>
            \(agent.active ? "<form method=\"post\" action=\"/admin/agents/\(agent.id)/deactivate\" class=\"inline\">\(Pages.csrf(context))<button type=\"submit\">Deactivate</button></form>" as HTML : "")</td></tr>
            """
        }
        return Pages.page(
            "Staff", context, notice: notice, error: error,
            """
            <h1>Staff</h1>\(Self.menu)\(issued)
            <table id="agents"><thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Levels</th><th scope="col">Skills</th>
            <th scope="col">WIP limit</th><th scope="col">Standing</th><th scope="col">Actions</th></tr></thead><tbody>\(rows)</tbody></table>
            \(request.map { Pages.more($0, next: page.nextCursor) } ?? Pages.more("/admin/agents", next: page.nextCursor))
            <form method="post" action="/admin/agents" id="new-agent">\(Pages.csrf(context))<h2>New staff member</h2>
            <label for="agent-name">Name</label><input type="text" id="agent-name" name="name" required maxlength="200">
            <label for="agent-email">Email</label><input type="email" id="agent-email" name="email" required>
            <label for="agent-role">Role</label><select id="agent-role" name="role"><option value="agent" selected>Agent</option>
            <option value="lead">Team lead</option><option value="admin">Administrator</option><option value="auditor">Auditor</option></select>
            <label for="agent-tiers">Levels (e.g. 1 or 2,3; none for an administrator or auditor)</label><input type="text" id="agent-tiers" name="tiers">
            <label for="agent-skills">Skills (comma separated)</label><input type="text" id="agent-skills" name="skills">
            <label for="agent-wip">WIP limit</label><input type="text" id="agent-wip" name="wipLimit" inputmode="numeric">
            <button type="submit" id="create-agent">Create</button></form>
            """
        ).response()
    }

    @Sendable func createAgent(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        return try await Pages.attempt(orBackTo: "/admin/agents", context) {
            let input = CreateAgentRequest(
                name: form["name"] ?? "", email: form["email"] ?? "", tiers: try FormValue.numbers(form["tiers"], "Each level"),
                skills: Self.list(form["skills"]), wipLimit: try FormValue.number(form["wipLimit"], "The WIP limit"),
                role: StaffRole(rawValue: form["role"] ?? "agent"))
            let agent = try await backend.send(Agent.self, .POST, .tierQueue, "/v1/agents", token: context.session.token, body: input)
            return try await agentsPage(context, notice: "\(agent.name) is created.", token: (agent.name, agent.token ?? ""))
        }
    }

    @Sendable func changeAgent(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self), let action = context.parameters.get("action") else {
            return Pages.redirect("/admin/agents")
        }
        return try await Pages.attempt(orBackTo: "/admin/agents", context) {
            if action == "token" {
                let agent = try await backend.send(Agent.self, .POST, .tierQueue, "/v1/agents/\(id)/token", token: context.session.token, body: NoBody?.none)
                return try await agentsPage(
                    context, notice: "\(agent.name) has a new token; the old one stops working.", token: (agent.name, agent.token ?? ""))
            }
            _ = try await backend.raw(.PATCH, .tierQueue, "/v1/agents/\(id)", token: context.session.token, body: UpdateAgentRequest(active: false))
            return Pages.redirect("/admin/agents", notice: .agentDeactivated)
        }
    }

    // MARK: Rules

    @Sendable func rules(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        return try await rulesPage(context, cursor: Pages.cursor(request), more: request, notice: notice, error: error, explanation: "")
    }

    func rulesPage(
        _ context: ConsoleContext, cursor: String? = nil, more request: Request? = nil, notice: String? = nil, error: String? = nil, explanation: HTML
    ) async throws -> Response {
        let page = try await backend.page(TriageRule.self, .triage, "/v1/rules", limit: Pages.pageSize, cursor: cursor, token: context.session.token)
        let rows = page.items.map { rule -> HTML in
            let match = [
                rule.match.keywords.map { "keywords: " + $0.joined(separator: ", ") },
                rule.match.categories.map { "categories: " + $0.joined(separator: ", ") },
            ]
            .compactMap { $0 }.joined(separator: "; ")
            let route = [
                rule.route.tier.map { "level \($0)" }, rule.route.category.map { "category \($0)" }, rule.route.vendorId.map { _ in "a vendor" },
                rule.route.reject.map { _ in "reject" },
            ].compactMap { $0 }.joined(separator: ", ")
            return """
                <tr><td>\(rule.position)</td><td>\(rule.name)</td><td>\(match)</td><td>\(route)</td>
                <td><form method="post" action="/admin/rules/\(rule.id)/delete" class="inline">\(Pages.csrf(context))<button type="submit">Delete</button></form></td></tr>
                """
        }
        return Pages.page(
            "Triage rules", context, notice: notice, error: error,
            """
            <h1>Triage rules</h1>\(Self.menu)
            <table id="rules"><thead><tr><th scope="col">Order</th><th scope="col">Name</th><th scope="col">Matches</th><th scope="col">Routes to</th>
            <th scope="col">Actions</th></tr></thead><tbody>\(rows)</tbody></table>
            \(request.map { Pages.more($0, next: page.nextCursor) } ?? Pages.more("/admin/rules", next: page.nextCursor))
            <form method="post" action="/admin/rules" id="new-rule">\(Pages.csrf(context))<h2>New rule</h2>
            <label for="rule-name">Name</label><input type="text" id="rule-name" name="name" required maxlength="200">
            <label for="rule-position">Order (lower first)</label><input type="text" id="rule-position" name="position" inputmode="numeric">
            <label for="rule-keywords">Keywords (comma separated)</label><input type="text" id="rule-keywords" name="keywords">
            <label for="rule-categories">Categories (comma separated)</label><input type="text" id="rule-categories" name="categories">
            <label for="rule-tier">Route to level</label><select id="rule-tier" name="tier">\(Pages.options([("", "keep"), ("1", "1"), ("2", "2"), ("3", "3")]))</select>
            <label for="rule-category">Set the category</label><input type="text" id="rule-category" name="category">
            <button type="submit" id="create-rule">Create</button></form>
            <form method="post" action="/admin/rules/test" id="dry-run">\(Pages.csrf(context))<h2>Dry run: where would this land, and why?</h2>
            <label for="draft-subject">Subject</label><input type="text" id="draft-subject" name="subject" required>
            <label for="draft-description">Description</label><textarea id="draft-description" name="description" required rows="3"></textarea>
            <label for="draft-email">Requester's email (optional)</label><input type="email" id="draft-email" name="email">
            <button type="submit" id="run-dry-run">Explain</button></form>
            \(explanation)
            """
        ).response()
    }

    /// Triage's decision for a draft, with its reasons: every rule and whether it matched, the classifier, the priority.
    static func explain(_ decision: TriageDecision) -> HTML {
        let rules = decision.explanation.rules.map { outcome -> HTML in
            "<li class=\"\(outcome.matched ? "matched" : "skipped")\"><strong>\(outcome.name)</strong>: \(outcome.reason)</li>"
        }
        let landing =
            decision.reject != nil ? "rejected: \(decision.reject ?? "")" : decision.vendorId != nil ? "a vendor (level 4)" : "level \(decision.tier ?? 1)"
        let classifier: HTML =
            decision.explanation.classifier.map { c in
                "<li>Classifier: \(c.category ?? "no category") (\(String(format: "%.0f %%", c.confidence * 100))), \(c.reason)</li>"
            } ?? ""
        let priority = decision.explanation.priority
        return """
            <section id="explanation" aria-labelledby="explanation-title"><h2 id="explanation-title">It would land at \(landing), \(decision.priority.rawValue)</h2>
            <ul>\(rules)\(classifier)
            <li>Priority: impact \(priority.impact.rawValue) (\(priority.impactFrom)), urgency \(priority.urgency.rawValue) (\(priority.urgencyFrom)) → \(priority.result.rawValue)\(priority.raisedBy.map { ", raised by \($0)" } ?? "")</li></ul></section>
            """
    }

    @Sendable func createRule(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        return try await Pages.attempt(orBackTo: "/admin/rules", context) {
            let input = RuleRequest(
                name: form["name"] ?? "", position: try FormValue.number(form["position"], "The order"),
                match: RuleMatch(keywords: Self.list(form["keywords"]), categories: Self.list(form["categories"])),
                route: RuleRoute(tier: try FormValue.number(form["tier"], "The level", in: 1...3), category: form["category"]?.nilIfEmpty))
            _ = try await backend.raw(.POST, .triage, "/v1/rules", token: context.session.token, body: input)
            return Pages.redirect("/admin/rules", notice: .ruleCreated)
        }
    }

    @Sendable func deleteRule(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/rules") }
        return try await Pages.attempt(orBackTo: "/admin/rules", context) {
            _ = try await backend.raw(.DELETE, .triage, "/v1/rules/\(id)", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/admin/rules", notice: .ruleDeleted)
        }
    }

    @Sendable func testRule(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        let draft = RuleTestRequest(subject: form["subject"] ?? "", description: form["description"] ?? "", requesterEmail: form["email"]?.nilIfEmpty)
        return try await Pages.attempt(orBackTo: "/admin/rules", context) {
            // A dry run changes nothing: its answer is the page itself.
            let decision = try await backend.send(TriageDecision.self, .POST, .triage, "/v1/rules/test", token: context.session.token, body: draft)
            return try await rulesPage(context, explanation: Self.explain(decision))
        }
    }

    // MARK: Vendors

    @Sendable func vendors(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let page = try await backend.page(
            Vendor.self, .vendorBridge, "/v1/vendors", limit: Pages.pageSize, cursor: Pages.cursor(request), token: context.session.token)
        let rows = page.items.map { vendor -> HTML in
            let contract = vendor.contract
            return """
                <tr><td><a href="/admin/vendors/\(vendor.id)">\(vendor.name)</a></td><td>\(vendor.categories.joined(separator: ", "))</td>
                <td>\(contract.acknowledgeWithinMinutes.map { "\($0) min" } ?? "none") / \(contract.resolveWithinMinutes.map { "\($0) min" } ?? "none") (\(contract.time.rawValue) time)</td>
                <td>\(vendor.webhookUrl)</td></tr>
                """
        }
        return Pages.page(
            "Vendors", context, notice: notice, error: error,
            """
            <h1>Vendors</h1>\(Self.menu)
            <table id="vendors"><thead><tr><th scope="col">Vendor</th><th scope="col">Covers</th><th scope="col">Acknowledge / resolve within</th>
            <th scope="col">Webhook</th></tr></thead><tbody>\(rows)</tbody></table>\(Pages.more(request, next: page.nextCursor))
            <p>Deactivated vendors are not listed; their pages stay at their addresses.</p>
            <form method="post" action="/admin/vendors" id="new-vendor">\(Pages.csrf(context))<h2>New vendor</h2>
            <label for="new-vendor-name">Name</label><input type="text" id="new-vendor-name" name="name" required maxlength="200">
            <label for="new-vendor-webhook">Webhook URL (https)</label><input type="text" inputmode="url" id="new-vendor-webhook" name="webhookUrl" required maxlength="2000">
            <label for="new-vendor-categories">Categories it covers (comma separated)</label><input type="text" id="new-vendor-categories" name="categories">
            <label for="new-vendor-products">Products it covers (comma separated)</label><input type="text" id="new-vendor-products" name="products">
            <label for="new-vendor-acknowledge">Acknowledge within (minutes; empty: not watched)</label>
            <input type="text" inputmode="numeric" id="new-vendor-acknowledge" name="acknowledgeWithinMinutes">
            <label for="new-vendor-resolve">Resolve within (minutes; empty: not watched)</label>
            <input type="text" inputmode="numeric" id="new-vendor-resolve" name="resolveWithinMinutes">
            <label for="new-vendor-time">Counted in</label><select id="new-vendor-time" name="time">\(Self.timeOptions(.business))</select>
            <p>Business time runs Monday to Friday, 09:00-17:00 UTC until the vendor's own hours are set on its page.</p>
            <button type="submit" id="create-vendor">Register</button></form>
            """
        ).response()
    }

    static func timeOptions(_ selected: VendorContract.Time) -> HTML {
        let names: [VendorContract.Time: String] = [.business: "business hours", .wall: "wall-clock time (around the clock)"]
        return Pages.options(VendorContract.Time.allCases.map { ($0.rawValue, names[$0] ?? $0.rawValue) }, selected: selected.rawValue)
    }

    /// A form's optional number of minutes: nil when left empty; a refusal to show when it is not a whole number.
    static func minutes(_ text: String?, _ name: String) throws(Backend.Failure) -> Int? {
        try FormValue.number(text, "\(name) (minutes)")
    }

    /// A vendor's contract from a form (`acknowledgeWithinMinutes`, `resolveWithinMinutes`, `time`, and
    /// the calendar's fields when there are any); the standard hours are left implicit.
    static func contract(_ form: [String: String]) throws -> VendorContract {
        let time: VendorContract.Time = try FormValue.choice(form["time"], "Counted in")
        let calendar = form["timeZone"] == nil ? nil : SettingsPages.calendar(form)
        return VendorContract(
            acknowledgeWithinMinutes: try minutes(form["acknowledgeWithinMinutes"], "Acknowledge within"),
            resolveWithinMinutes: try minutes(form["resolveWithinMinutes"], "Resolve within"), time: time,
            calendar: time == .wall || calendar == VendorContract.standardHours ? nil : calendar)
    }

    @Sendable func createVendor(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        return try await Pages.attempt(orBackTo: "/admin/vendors", context) {
            let input = CreateVendorRequest(
                name: (form["name"] ?? "").trimmingCharacters(in: .whitespaces), webhookUrl: (form["webhookUrl"] ?? "").trimmingCharacters(in: .whitespaces),
                categories: Self.list(form["categories"]) ?? [], products: Self.list(form["products"]), contract: try Self.contract(form))
            let created = try await backend.send(Vendor.self, .POST, .vendorBridge, "/v1/vendors", token: context.session.token, body: input)
            return try await vendorPage(context, id: created.id, notice: "\(created.name) is registered.", issued: created)
        }
    }

    @Sendable func vendor(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/vendors") }
        let (notice, error) = Pages.notices(request, context)
        return try await vendorPage(context, id: id, request: request, notice: notice, error: error)
    }

    /// A vendor's page; an API key (and, on registration, the signing secret) just issued is shown on
    /// it once, in the answer to the form that issued it: never in an address (see `agentsPage`).
    func vendorPage(
        _ context: ConsoleContext, id: UUID, request: Request? = nil, notice: String? = nil, error: String? = nil, issued: Vendor? = nil
    ) async throws -> Response {
        let (backend, token) = (backend, context.session.token)
        let cursor = request.flatMap { Pages.cursor($0) }
        // The deliveries and the scorecard are asked for beside the vendor; each may fail alone.
        async let deliveries = Pages.part("The webhook deliveries", context) {
            try await backend.page(WebhookDelivery.self, .vendorBridge, "/v1/vendors/\(id)/deliveries", limit: Pages.pageSize, cursor: cursor, token: token)
        }
        async let card = Pages.part("The scorecard", context) {
            try await backend.get(VendorScorecard.self, .vendorBridge, "/v1/vendors/\(id)/scorecard", token: token)
        }
        let vendor: Vendor
        do {
            vendor = try await backend.get(Vendor.self, .vendorBridge, "/v1/vendors/\(id)", token: token)
        } catch let failure as Backend.Failure where failure.kind == .notFound {
            failure.log("the vendor", logger: context.logger)
            return Pages.error(status: .notFound, title: "Not found", detail: "No such vendor.")
        }
        let row = { (delivery: WebhookDelivery) -> HTML in
            let last = delivery.attempts.last
            return """
                <tr><td>\(delivery.createdAt)</td><td>\(delivery.type)</td><td>\(delivery.status.rawValue)</td><td>\(delivery.attempts.count)</td>
                <td>\(last.map { $0.statusCode.map { "HTTP \($0)" } ?? ($0.error ?? "") } ?? "")</td>
                <td><form method="post" action="/admin/deliveries/\(delivery.id)/redeliver" class="inline">\(Pages.csrf(context))<input type="hidden" name="vendor" value="\(id)">
                <button type="submit">Send again</button></form></td></tr>
                """
        }
        var credentials: HTML = ""
        if let issued, let key = issued.apiKey {
            let secret: HTML = issued.signingSecret.map { "<dt>Webhook signing secret</dt><dd><code id=\"issued-secret\">\($0)</code></dd>" } ?? ""
            credentials = """
                <section id="issued-key" aria-labelledby="issued-key-title"><h2 id="issued-key-title">\(vendor.name)'s new credentials</h2>
                <p>Shown this once: give them to the vendor now. The API key rests only as a hash.</p>
                <dl class="facts"><dt>API key</dt><dd><code id="issued-api-key">\(key)</code></dd>\(secret)</dl></section>
                """
        }
        let scorecard = Pages.show(try await card, "The scorecard", context) { card in
            """
            <h2>Scorecard, last 30 days</h2><dl class="facts" id="scorecard"><dt>Cases</dt><dd>\(card.cases)</dd>
            <dt>Acknowledged on time</dt><dd>\(ReportsPage.percent(card.acknowledge.onTimeShare))</dd>
            <dt>Resolved on time</dt><dd>\(ReportsPage.percent(card.resolve.onTimeShare))</dd>
            <dt>Reopened</dt><dd>\(ReportsPage.percent(card.reopenRate))</dd><dt>Overdue now</dt><dd>\(card.overdueNow)</dd></dl>
            """
        }
        let deliveryTable = Pages.show(try await deliveries, "The webhook deliveries", context) { page in
            """
            <table id="deliveries"><thead><tr><th scope="col">Written</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Attempts</th>
            <th scope="col">Last answer</th><th scope="col">Actions</th></tr></thead><tbody>\(page.items.map(row))</tbody></table>\
            \(request.map { Pages.more($0, next: page.nextCursor) } ?? Pages.more("/admin/vendors/\(id.uuidString.lowercased())", next: page.nextCursor))
            """
        }
        return Pages.page(
            vendor.name, context, notice: notice, error: error,
            """
            <h1>\(vendor.name)</h1>\(Self.menu)\(credentials)
            <dl class="facts" id="standing"><dt>Standing</dt><dd>\(vendor.active ? "active" : "deactivated: its API key opens nothing, and no new case goes to it")</dd>
            \(vendor.previousKeyValidUntil.map { "<dt>The previous API key works until</dt><dd>\($0)</dd>" as HTML } ?? "")</dl>
            \(scorecard)\(Self.vendorForms(vendor, context))
            <h2>Webhook deliveries</h2>
            \(deliveryTable)
            """
        ).response()
    }

    /// The vendor's coverage and contract, its API key and its standing, as forms filled in with what it has now.
    static func vendorForms(_ vendor: Vendor, _ context: ConsoleContext) -> HTML {
        let contract = vendor.contract
        let standing: HTML =
            vendor.active
            ? """
            <form method="post" action="/admin/vendors/\(vendor.id)/standing" id="vendor-standing">\(Pages.csrf(context))<input type="hidden" name="active" value="false">
            <h2>Deactivate</h2><p>Its API key stops working at once and no new case goes to it; its open cases stay as they are.</p>
            <button type="submit" id="deactivate-vendor">Deactivate \(vendor.name)</button></form>
            """
            : """
            <form method="post" action="/admin/vendors/\(vendor.id)/standing" id="vendor-standing">\(Pages.csrf(context))<input type="hidden" name="active" value="true">
            <h2>Reactivate</h2><p>It gets new cases again, and its API key works again.</p>
            <button type="submit" id="reactivate-vendor">Reactivate \(vendor.name)</button></form>
            """
        return """
            <form method="post" action="/admin/vendors/\(vendor.id)" id="edit-vendor">\(Pages.csrf(context))<h2>Coverage and contract</h2>
            <label for="vendor-webhook">Webhook URL (https)</label>
            <input type="text" inputmode="url" id="vendor-webhook" name="webhookUrl" value="\(vendor.webhookUrl)" required maxlength="2000">
            <label for="vendor-categories">Categories it covers (comma separated)</label>
            <input type="text" id="vendor-categories" name="categories" value="\(vendor.categories.joined(separator: ", "))">
            <label for="vendor-products">Products it covers (comma separated)</label>
            <input type="text" id="vendor-products" name="products" value="\(vendor.products.joined(separator: ", "))">
            <label for="vendor-acknowledge">Acknowledge within (minutes; empty: not watched)</label>
            <input type="text" inputmode="numeric" id="vendor-acknowledge" name="acknowledgeWithinMinutes" value="\(contract.acknowledgeWithinMinutes.map(String.init))">
            <label for="vendor-resolve">Resolve within (minutes; empty: not watched)</label>
            <input type="text" inputmode="numeric" id="vendor-resolve" name="resolveWithinMinutes" value="\(contract.resolveWithinMinutes.map(String.init))">
            <label for="vendor-time">Counted in</label><select id="vendor-time" name="time">\(Self.timeOptions(contract.time))</select>
            <fieldset><legend>Its business hours (when counted in business hours)</legend>
            \(SettingsPages.calendarFields(contract.calendar ?? VendorContract.standardHours, idPrefix: "vendor-"))</fieldset>
            <p>A new contract sets the due times of cases opened after it; open cases keep theirs.</p>
            <button type="submit" id="save-vendor">Save</button></form>
            <form method="post" action="/admin/vendors/\(vendor.id)/api-key" id="rotate-key">\(Pages.csrf(context))<h2>API key</h2>
            <p>A new key is shown once, here. The webhook signing secret stays as it is.</p>
            <label for="key-overlap">Minutes the current key keeps working (0 to 10080; empty: it stops at once)</label>
            <input type="text" inputmode="numeric" id="key-overlap" name="overlapMinutes">
            <button type="submit" id="rotate-vendor-key">Issue a new API key</button></form>
            \(standing)
            """
    }

    @Sendable func saveVendor(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/vendors") }
        let back = "/admin/vendors/\(id.uuidString.lowercased())"
        let form = context.form
        return try await Pages.attempt(orBackTo: back, context) {
            let change = UpdateVendorRequest(
                webhookUrl: (form["webhookUrl"] ?? "").trimmingCharacters(in: .whitespaces), categories: Self.list(form["categories"]) ?? [],
                products: Self.list(form["products"]) ?? [], contract: try Self.contract(form))
            _ = try await backend.raw(.PATCH, .vendorBridge, "/v1/vendors/\(id)", token: context.session.token, body: change)
            return Pages.redirect(back, notice: .vendorSaved)
        }
    }

    @Sendable func rotateVendorKey(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/vendors") }
        let form = context.form
        return try await Pages.attempt(orBackTo: "/admin/vendors/\(id.uuidString.lowercased())", context) {
            let input = RotateVendorKeyRequest(overlapMinutes: try Self.minutes(form["overlapMinutes"], "The overlap"))
            let rotated = try await backend.send(Vendor.self, .POST, .vendorBridge, "/v1/vendors/\(id)/api-key", token: context.session.token, body: input)
            let until = rotated.previousKeyValidUntil.map { "works until \(HTML.readable($0))" } ?? "stops working now"
            return try await vendorPage(context, id: id, notice: "\(rotated.name) has a new API key; the old one \(until).", issued: rotated)
        }
    }

    @Sendable func changeVendorStanding(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/vendors") }
        let back = "/admin/vendors/\(id.uuidString.lowercased())"
        return try await Pages.attempt(orBackTo: back, context) {
            let active = try FormValue.flag(context.form["active"], "Active")
            _ = try await backend.raw(.PATCH, .vendorBridge, "/v1/vendors/\(id)", token: context.session.token, body: UpdateVendorRequest(active: active))
            return Pages.redirect(back, notice: active ? .vendorReactivated : .vendorDeactivated)
        }
    }

    @Sendable func redeliver(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/vendors") }
        let back = context.form["vendor"].flatMap(UUID.init(uuidString:)).map { "/admin/vendors/\($0.uuidString.lowercased())" } ?? "/admin/vendors"
        return try await Pages.attempt(orBackTo: back, context) {
            _ = try await backend.raw(.POST, .vendorBridge, "/v1/deliveries/\(id)/redeliver", token: context.session.token, body: NoBody?.none)
            return Pages.redirect(back, notice: .webhookQueued)
        }
    }

    // MARK: Dead letters

    static let services: [Backend.Service] = [.intake, .triage, .tierQueue, .vendorBridge]

    @Sendable func deadLetters(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        var sections: [HTML] = []
        for service in Self.services {
            let name = "\(service.rawValue)-cursor"
            let letters = try await Pages.part("The dead letters of \(service.rawValue)", context) {
                try await backend.page(
                    DeadLetter.self, service, "/v1/admin/dead-letters", limit: Pages.pageSize, cursor: Pages.cursor(request, name), token: context.session.token
                )
            }
            let row = { (letter: DeadLetter) -> HTML in
                """
                <tr><td>\(letter.deadAt)</td><td>\(letter.eventType)</td><td>\(letter.destination)</td><td>\(letter.attempts)</td><td>\(letter.lastError)</td>
                <td><form method="post" action="/admin/dead-letters/\(service.rawValue)/\(letter.eventId)/retry" class="inline">\(Pages.csrf(context))
                <button type="submit">Retry</button></form></td></tr>
                """
            }
            let table = Pages.show(letters, "The dead letters of \(service.rawValue)", context) { page in
                """
                <table id="dead-letters-\(service.rawValue)"><thead><tr><th scope="col">Dead since</th><th scope="col">Event</th><th scope="col">To</th>
                <th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Actions</th></tr></thead>
                <tbody>\(page.items.isEmpty ? ["<tr><td colspan=\"6\">None.</td></tr>"] : page.items.map(row))</tbody></table>\
                \(Pages.more(request, name, next: page.nextCursor))
                """
            }
            sections.append("<h2>\(service.rawValue)</h2>\(table)")
        }
        return Pages.page("Dead letters", context, notice: notice, error: error, "<h1>Dead letters</h1>\(Self.menu)\(sections)").response()
    }

    @Sendable func retry(request: Request, context: ConsoleContext) async throws -> Response {
        guard let name = context.parameters.get("service"), let service = Backend.Service(rawValue: name),
            let id = context.parameters.get("id", as: UUID.self)
        else { return Pages.redirect("/admin/dead-letters") }
        return try await Pages.attempt(orBackTo: "/admin/dead-letters", context) {
            _ = try await backend.raw(.POST, service, "/v1/admin/dead-letters/\(id)/retry", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/admin/dead-letters", notice: .deadLetterQueued)
        }
    }

    // MARK: Outgoing mail

    /// Every service's outgoing mail (intake serves the list), newest first, filtered by status; a
    /// sent or dead mail can be sent again.
    @Sendable func outgoingMail(request: Request, context: ConsoleContext) async throws -> Response {
        var (notice, error) = Pages.notices(request, context)
        let wanted = request.uri.queryParameters["status"].map(String.init)?.nilIfEmpty
        let status = wanted.flatMap(OutgoingMailEntry.Status.init(rawValue:))
        if wanted != nil && status == nil { error = "There is no such status; all mail is shown." }
        let path = "/v1/admin/mail" + (status.map { "?status=\($0.rawValue)" } ?? "")
        let mail = try await Pages.part("The outgoing mail", context) {
            try await backend.page(OutgoingMailEntry.self, .intake, path, limit: Pages.pageSize, cursor: Pages.cursor(request), token: context.session.token)
        }
        let row = { (entry: OutgoingMailEntry) -> HTML in
            let resend: HTML =
                entry.status == .sent || entry.status == .dead
                ? """
                <form method="post" action="/admin/mail/\(entry.id)/resend" class="inline">\(Pages.csrf(context))<button type="submit">Resend</button></form>
                """ : ""
            let when = entry.sentAt ?? entry.deadAt ?? entry.nextAttemptAt ?? entry.createdAt
            return """
                <tr><td>\(entry.createdAt)</td><td>\(entry.status.rawValue)</td><td>\(when)</td><td>\(entry.recipient)</td><td>\(entry.subject)</td>
                <td>\(entry.kind) (\(entry.source))</td><td>\(entry.attempts)</td><td>\(entry.lastError)</td><td>\(resend)</td></tr>
                """
        }
        let filters: [HTML] = [nil, OutgoingMailEntry.Status.queued, .retrying, .sent, .dead].map { choice in
            let label = choice?.rawValue ?? "all"
            return choice == status ? "<strong>\(label)</strong> " : "<a href=\"/admin/mail\(choice.map { "?status=\($0.rawValue)" } ?? "")\">\(label)</a> "
        }
        let table = Pages.show(mail, "The outgoing mail", context) { page in
            """
            <table id="outgoing-mail"><thead><tr><th scope="col">Written</th><th scope="col">Status</th><th scope="col">Sent, dead or due</th>
            <th scope="col">To</th><th scope="col">Subject</th><th scope="col">Kind</th><th scope="col">Attempts</th><th scope="col">Last error</th>
            <th scope="col">Actions</th></tr></thead>
            <tbody>\(page.items.isEmpty ? ["<tr><td colspan=\"9\">None.</td></tr>"] : page.items.map(row))</tbody></table>\
            \(Pages.more(request, next: page.nextCursor))
            """
        }
        return Pages.page(
            "Outgoing mail", context, notice: notice, error: error,
            "<h1>Outgoing mail</h1>\(Self.menu)<p class=\"filters\">Status: \(filters)</p>\(table)"
        ).response()
    }

    @Sendable func resendMail(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/mail") }
        return try await Pages.attempt(orBackTo: "/admin/mail", context) {
            _ = try await backend.raw(.POST, .intake, "/v1/admin/mail/\(id)/resend", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/admin/mail", notice: .mailQueued)
        }
    }
}
