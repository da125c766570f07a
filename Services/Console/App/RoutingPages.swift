import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The admin's routing policies beside the triage rules: what an escalation into each level must
/// carry (tier-queue's escalation contracts), how each category's hard tickets get help (tier-queue's
/// work modes) and the VIP requesters and domains whose tickets triage raises a step (triage).
struct RoutingPages: Sendable {
    let backend: Backend

    /// The levels an escalation goes into, each with its own contract.
    static let contractTiers: [Tier] = [.backOffice, .specialist, .vendor]

    func addRoutes(to groups: RouteGroups) {
        groups.admin.get("contracts", use: contracts)
        groups.admin.post("contracts/{tier}", use: saveContract)
        groups.admin.get("work-modes", use: workModes)
        groups.admin.post("work-modes", use: saveWorkMode)
        groups.admin.post("work-modes/{category}/delete", use: deleteWorkMode)
        groups.admin.get("vip", use: vips)
        groups.admin.post("vip", use: addVIP)
        groups.admin.post("vip/{id}/delete", use: deleteVIP)
    }

    // MARK: Escalation contracts

    /// A contract as the form shows it: one `name: label` a line.
    static func lines(_ fields: [EscalationContract.Field]) -> String {
        fields.map { "\($0.name): \($0.label)" }.joined(separator: "\n")
    }

    /// The form's lines as fields, blank lines skipped; a line without a colon is a name without a
    /// label, which the API refuses by its position (`fields[1].label`).
    static func fields(_ text: String) -> [EscalationContract.Field] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> EscalationContract.Field? in
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !parts[0].isEmpty || parts.count > 1 else { return nil }
            return EscalationContract.Field(name: parts[0], label: parts.count > 1 ? parts[1] : "")
        }
    }

    @Sendable func contracts(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let all = try await backend.get(Page<EscalationContract>.self, .tierQueue, "/v1/escalation-contracts", token: context.session.token).items
        let sections = Self.contractTiers.map { tier -> HTML in
            let fields = all.first { $0.tier == tier }?.fields ?? []
            let level = tier.rawValue
            let rows = fields.map { "<tr><td><code>\($0.name)</code></td><td>\($0.label)</td></tr>" as HTML }
            let listing: HTML =
                fields.isEmpty
                ? "<p id=\"contract-\(level)-fields\">Asks for nothing: a reason is enough.</p>"
                : """
                <table id="contract-\(level)-fields"><thead><tr><th scope="col">Field</th><th scope="col">What agents read</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """
            return """
                <section aria-labelledby="contract-\(level)-title"><h2 id="contract-\(level)-title">Into \(Pages.level(tier))</h2>\(listing)
                <form method="post" action="/admin/contracts/\(level)">\(Pages.csrf(context))
                <label for="contract-\(level)">Required fields into level \(level), one <code>name: label</code> a line (empty: asks for nothing)</label>
                <textarea id="contract-\(level)" name="fields" rows="4">\(Self.lines(fields))</textarea>
                <button type="submit" id="save-contract-\(level)">Save level \(level)'s contract</button></form></section>
                """
        }
        return Pages.page(
            "Escalation contracts", context, notice: notice, error: error,
            """
            <h1>Escalation contracts</h1>\(AdminPages.menu)
            <p>What an escalation into a level must carry, every field filled in: the receiving level reads them first. A name is a letter, then
            letters and digits (<code>stepsTried</code>); the label is what agents read. A change applies to the next escalation.</p>
            \(sections)
            """
        ).response()
    }

    @Sendable func saveContract(request: Request, context: ConsoleContext) async throws -> Response {
        guard let tier = context.parameters.get("tier", as: Int.self).flatMap(Tier.init(rawValue:)), Self.contractTiers.contains(tier) else {
            return Pages.redirect("/admin/contracts", error: "Levels 2, 3 and 4 have contracts; there is no such level.")
        }
        let input = EscalationContractRequest(fields: Self.fields(context.form["fields"] ?? ""))
        return try await Pages.attempt(orBackTo: "/admin/contracts", context) {
            _ = try await backend.raw(.PUT, .tierQueue, "/v1/escalation-contracts/\(tier.rawValue)", token: context.session.token, body: input)
            return Pages.redirect("/admin/contracts", notice: .contractSaved(tier))
        }
    }

    // MARK: Work modes

    /// A category typed into a form, as a path segment: anything but a slug's characters is encoded,
    /// so the API sees (and refuses) it whole.
    static func segment(_ category: String) -> String {
        category.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-_")) ?? ""
    }

    @Sendable func workModes(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let all = try await backend.get(Page<WorkModeSetting>.self, .tierQueue, "/v1/work-modes", token: context.session.token).items
        let rows = all.map { setting -> HTML in
            let category = setting.category
            return """
                <tr data-category="\(category)"><th scope="row">\(category)</th><td>\(setting.mode.rawValue)</td>
                <td><form method="post" action="/admin/work-modes" class="inline">\(Pages.csrf(context))<input type="hidden" name="category" value="\(category)">
                <select id="work-mode-\(category)" name="mode" aria-label="Work mode of \(category)">\(Pages.options(WorkMode.allCases, selected: setting.mode))</select>
                <button type="submit" id="save-mode-\(category)">Save</button></form>
                <form method="post" action="/admin/work-modes/\(category)/delete" class="inline">\(Pages.csrf(context))
                <button type="submit" id="remove-mode-\(category)">Remove (escalates)</button></form></td></tr>
                """
        }
        return Pages.page(
            "Work modes", context, notice: notice, error: error,
            """
            <h1>Work modes</h1>\(AdminPages.menu)
            <p>How a category's hard tickets get help. <strong>escalate</strong>, the default of every category not listed, hands them up a level;
            <strong>swarm</strong> keeps them at their level and brings in collaborators of any level instead, so they cannot be escalated to level 2 or 3.</p>
            <table id="work-modes"><thead><tr><th scope="col">Category</th><th scope="col">Mode</th><th scope="col">Change</th></tr></thead>
            <tbody>\(rows.isEmpty ? ["<tr><td colspan=\"3\">None: every category escalates.</td></tr>"] : rows)</tbody></table>
            <form method="post" action="/admin/work-modes" id="new-work-mode">\(Pages.csrf(context))<h2>Set a category's work mode</h2>
            <label for="mode-category">Category (lowercase letters, digits, - or _)</label>
            <input type="text" id="mode-category" name="category" required maxlength="64">
            <label for="mode-mode">Work mode</label><select id="mode-mode" name="mode">\(Pages.options(WorkMode.allCases, selected: .swarm))</select>
            <button type="submit" id="set-work-mode">Set</button></form>
            """
        ).response()
    }

    @Sendable func saveWorkMode(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        let category = (form["category"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard let mode = form["mode"].flatMap(WorkMode.init(rawValue:)) else {
            return Pages.redirect("/admin/work-modes", error: "Choose escalate or swarm.")
        }
        return try await Pages.attempt(orBackTo: "/admin/work-modes", context) {
            _ = try await backend.raw(
                .PUT, .tierQueue, "/v1/work-modes/\(Self.segment(category))", token: context.session.token, body: WorkModeRequest(mode: mode))
            return Pages.redirect("/admin/work-modes", notice: .workMode(mode))
        }
    }

    @Sendable func deleteWorkMode(request: Request, context: ConsoleContext) async throws -> Response {
        guard let category = context.parameters.get("category") else { return Pages.redirect("/admin/work-modes") }
        return try await Pages.attempt(orBackTo: "/admin/work-modes", context) {
            _ = try await backend.raw(.DELETE, .tierQueue, "/v1/work-modes/\(Self.segment(category))", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/admin/work-modes", notice: .workModeRemoved)
        }
    }

    // MARK: VIPs

    @Sendable func vips(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let all = try await backend.get(Page<VIPEntry>.self, .triage, "/v1/vip", token: context.session.token).items
        let rows = all.map { entry -> HTML in
            let name = entry.email ?? entry.domain ?? ""
            return """
                <tr data-entry="\(name)"><td>\(name)</td><td>\(entry.email == nil ? "everyone at the domain" : "the requester")</td><td>\(entry.createdAt)</td>
                <td><form method="post" action="/admin/vip/\(entry.id)/delete" class="inline">\(Pages.csrf(context))
                <button type="submit" id="remove-vip-\(entry.id)" aria-label="Remove \(name)">Remove</button></form></td></tr>
                """
        }
        return Pages.page(
            "VIP requesters", context, notice: notice, error: error,
            """
            <h1>VIP requesters</h1>\(AdminPages.menu)
            <p>New tickets of these requesters, or of everyone at these email domains (the domain exactly, not its subdomains), are raised one
            priority step (P1 stays P1). Tickets already raised keep their priority when an entry is removed.</p>
            <table id="vips"><thead><tr><th scope="col">Email or domain</th><th scope="col">Covers</th><th scope="col">Added</th><th scope="col">Actions</th></tr></thead>
            <tbody>\(rows.isEmpty ? ["<tr><td colspan=\"4\">None.</td></tr>"] : rows)</tbody></table>
            <form method="post" action="/admin/vip" id="new-vip">\(Pages.csrf(context))<h2>Add a VIP</h2>
            <label for="vip-entry">A requester's email address, or a whole domain (ceo@example.com or example.com)</label>
            <input type="text" id="vip-entry" name="entry" required maxlength="254">
            <button type="submit" id="add-vip">Add</button></form>
            """
        ).response()
    }

    @Sendable func addVIP(request: Request, context: ConsoleContext) async throws -> Response {
        let entry = (context.form["entry"] ?? "").trimmingCharacters(in: .whitespaces)
        let input = entry.contains("@") ? VIPRequest(email: entry) : VIPRequest(domain: entry)
        return try await Pages.attempt(orBackTo: "/admin/vip", context) {
            _ = try await backend.send(VIPEntry.self, .POST, .triage, "/v1/vip", token: context.session.token, body: input)
            return Pages.redirect("/admin/vip", notice: .vipAdded)
        }
    }

    @Sendable func deleteVIP(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/vip") }
        return try await Pages.attempt(orBackTo: "/admin/vip", context) {
            _ = try await backend.raw(.DELETE, .triage, "/v1/vip/\(id)", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/admin/vip", notice: .vipRemoved)
        }
    }
}
