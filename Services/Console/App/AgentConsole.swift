import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Sign-in, and the agents' console: the queues of the agent's levels by priority and SLA time
/// left, "claim next", the agent's own tickets, and the ticket page with its whole history, the
/// requester's other tickets, suggested articles, the problem, the SLA clock and the work forms.
struct AgentConsole: Sendable {
    let backend: Backend
    let sessions: Sessions
    /// Single sign-on, when an issuer is configured: the sign-in page offers it, sign-out ends it.
    let singleSignOn: SingleSignOn?
    /// An agent's levels by its token's hash, for as long as the services remember a token (5 s by
    /// the console's clock): the queue page and its live refresh would otherwise ask tier-queue for
    /// them on every load.
    let levelsByToken: TimedCache<Data, [Tier]>

    init(backend: Backend, sessions: Sessions, singleSignOn: SingleSignOn? = nil) {
        self.backend = backend
        self.sessions = sessions
        self.singleSignOn = singleSignOn
        levelsByToken = TimedCache(clock: sessions.clock)
    }

    func addRoutes(to groups: RouteGroups) {
        groups.open.get("signin", use: signInPage)
        groups.open.post("signin", use: signIn)
        groups.open.post("signout", use: signOut)
        groups.agent.get(use: queues)
        groups.agent.get("queue.json", use: queueData)
        groups.agentOnly.post("claim", use: claim)
        groups.agent.get("tickets/{id}", use: ticket)
        groups.agent.post("tickets/{id}/{action}", use: act)
    }

    @Sendable func signInPage(request: Request, context: ConsoleContext) async throws -> HTML {
        let (notice, error) = Pages.notices(request, context)
        return Pages.page("Sign in", context, notice: notice, error: error, Self.signInForm(context, offer: singleSignOn?.offer() ?? ""))
    }

    /// The sign-in page's content: single sign-on's offer (when configured), the password form, then the token form.
    static func signInForm(_ context: ConsoleContext, offer: HTML) -> HTML {
        """
        <h1>Sign in</h1>
        \(offer)
        <h2>With your email and password</h2>\(StaffAccountPages.passwordForm(context))
        <h2>With a token</h2>
        <p>Agents, administrators and vendors: paste the token you were given. This site keeps it on its server, never in your browser, until you sign out or leave the console unused for a while.</p>
        <form method="post" action="/signin" id="signin">\(Pages.csrf(context))
        <label for="token">Token</label><input type="password" id="token" name="token" required autocomplete="off" maxlength="200">
        <button type="submit" id="signin-button">Sign in</button></form>
        """
    }

    /// Checks the token with the service it belongs to, then starts a server-side session for it (in
    /// place of any earlier one): the browser gets the session's random id, never the token.
    @Sendable func signIn(request: Request, context: ConsoleContext) async throws -> Response {
        let token = (context.form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var role = Session.role(of: token)
        let target: String
        do {
            switch role {
            case .agent, .admin, .auditor:
                let staff = Session.role(of: try await backend.get(Agent.self, .tierQueue, "/v1/staff/me", token: token).role)
                role = staff
                target = Self.home(of: staff)
            case .vendor:
                _ = try await backend.raw(.GET, .vendorBridge, "/v1/vendor/cases?limit=1", token: token, body: NoBody?.none)
                target = "/vendor/"
            case .requester:
                return Pages.redirect("/signin", error: "Requesters sign in with their email on the “Your tickets” page; this form is for staff and vendors.")
            case nil:
                return Pages.redirect("/signin", error: "That token is not accepted.")
            }
        } catch let failure as Backend.Failure {
            failure.log("sign-in", logger: context.logger)
            guard failure.status == 401 || failure.status == 403 else { return Pages.redirect("/signin", error: failure.shown) }
            return Pages.redirect("/signin", error: "That token is not accepted.")
        }
        var response = Pages.redirect(target)
        response.setCookie(try await sessions.startStaff(role: role ?? .agent, token: token, replacing: context.sessionID, logger: context.logger))
        return response
    }

    /// Where a staff person lands after signing in.
    static func home(of role: Session.Role) -> String {
        switch role {
        case .admin: "/admin/"
        case .auditor: "/agent/reports"
        case .vendor: "/vendor/"
        case .agent, .requester: "/agent/"
        }
    }

    /// Ends the staff session: its row is deleted, so the cookie (or a copy of it) opens nothing after,
    /// and tier-queue revokes the session token a sign-in minted (a pasted personal token stays: it is
    /// its scripts' too); when tier-queue cannot be told, the page says so. A session begun by single
    /// sign-on then sends the browser on to the provider's sign-out where it offers one (a page, not a
    /// redirect: the form-action policy stops a form's redirect to another site).
    @Sendable func signOut(request: Request, context: ConsoleContext) async throws -> Response {
        var error: String?
        if let token = context.session.token, token.hasPrefix("tda_") {
            do {
                _ = try await backend.raw(.POST, .tierQueue, "/v1/sign-out", token: token, body: NoBody?.none)
            } catch let failure as Backend.Failure where failure.status != 401 {
                failure.log("signing out at tier-queue", logger: context.logger)
                error = "You are signed out here, but the help desk could not be told to end the session: it ends at its time limit."
            }
        }
        if let id = context.sessionID { try await sessions.store.delete(id: id, logger: context.logger) }
        var response = error.map { Pages.redirect("/", error: $0) } ?? Pages.redirect("/", notice: .signedOut)
        if let singleSignOn, let idToken = context.session.idToken, let target = await singleSignOn.endSessionURL(idToken: idToken, context: context) {
            response = HTML(
                """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=\(target)">
                <title>Signed out · Tierdesk</title><link rel="stylesheet" href="/static/console.css"></head>
                <body><main id="main"><h1>Signed out of Tierdesk</h1>
                <p><a href="\(target)" id="provider-sign-out">Sign out of \(singleSignOn.provider.settings.displayName) too</a></p></main></body></html>
                """
            ).response()
        }
        response.setCookie(sessions.clearing(sessions.staffCookie))
        return response
    }

    /// The agent's levels: its own, or all three for the admin.
    func levels(_ context: ConsoleContext) async throws -> [Tier] {
        guard context.session.role == .agent else { return Tier.agentTiers }
        let key = Secrets.hash(context.session.token ?? "")
        if let levels = levelsByToken.value(for: key) { return levels }
        let levels = try await backend.get(Agent.self, .tierQueue, "/v1/agents/me", token: context.session.token).tiers.sorted()
        levelsByToken.remember(levels, for: key, lifetime: .seconds(5))
        return levels
    }

    /// SLA time left as the queue shows it: a countdown and its state (on track, warning, breached).
    static func sla(_ due: Date?, now: Date) -> HTML {
        guard let due else { return "<span class=\"sla none\">no target</span>" }
        let left = Int(due.timeIntervalSince(now))
        let state = left < 0 ? "breached" : left < 3600 ? "warning" : "on-track"
        let words = left < 0 ? "breached \(duration(-left)) ago" : "\(duration(left)) left"
        return "<span class=\"sla \(state)\" data-due=\"\(RFC3339.format(due))\">\(words)</span>"
    }

    static func duration(_ seconds: Int) -> String {
        seconds >= 86_400
            ? "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
            : seconds >= 3600 ? "\(seconds / 3600) h \(seconds % 3600 / 60) min" : "\(max(seconds, 0) / 60) min"
    }

    func rows(_ tickets: [TicketSummary], now: Date) -> HTML {
        if tickets.isEmpty { return "<tr><td colspan=\"5\">Nothing here.</td></tr>" }
        return HTML.join(
            tickets.map { ticket in
                """
                <tr data-ticket="\(ticket.id)"><td>\(ticket.reference)</td><td><a href="/agent/tickets/\(ticket.id)">\(ticket.subject)</a></td>
                <td>\(ticket.priority.rawValue)</td><td>\(ticket.category)</td><td>\(Self.sla(ticket.resolutionDueAt, now: now))</td></tr>
                """
            })
    }

    static let tableHead: HTML =
        "<thead><tr><th scope=\"col\">Ticket</th><th scope=\"col\">Subject</th><th scope=\"col\">Priority</th><th scope=\"col\">Category</th><th scope=\"col\">SLA</th></tr></thead>"

    @Sendable func queues(request: Request, context: ConsoleContext) async throws -> Response {
        let levels = try await levels(context)
        let (notice, error) = Pages.notices(request, context)
        let now = context.now
        let token = context.session.token
        let backend = backend
        // The levels' queues and the agent's own tickets are asked for side by side; each may fail alone.
        let mineCursor = Pages.cursor(request, "mine-cursor")
        let isAgent = context.session.role == .agent
        @Sendable func loadHeld() async throws -> Result<Page<TicketSummary>, Backend.Failure>? {
            guard isAgent else { return nil }
            return try await Pages.part("Your tickets", context) {
                try await backend.page(TicketSummary.self, .tierQueue, "/v1/agents/me/tickets", limit: Pages.pageSize, cursor: mineCursor, token: token)
            }
        }
        async let held = loadHeld()
        let filters = Self.filters(request)
        let queues = try await withThrowingTaskGroup(of: (Tier, Result<Page<TicketSummary>, Backend.Failure>).self) { group in
            for tier in levels {
                let cursor = Pages.cursor(request, "cursor-\(tier.rawValue)")
                group.addTask {
                    let part = try await Pages.part("The level \(tier.rawValue) queue", context) {
                        try await backend.page(
                            TicketSummary.self, .tierQueue, "/v1/queues/\(tier.rawValue)?\(filters.dropFirst())", limit: Pages.pageSize, cursor: cursor,
                            token: token)
                    }
                    return (tier, part)
                }
            }
            return try await group.reduce(into: [Tier: Result<Page<TicketSummary>, Backend.Failure>]()) { $0[$1.0] = $1.1 }
        }
        var sections: [HTML] = []
        for tier in levels {
            guard let queue = queues[tier] else { continue }
            let name = "cursor-\(tier.rawValue)"
            let count: HTML =
                switch queue {
                case .success(let page): "\(page.items.count)\(page.nextCursor == nil ? "" : "+")"
                case .failure: "?"
                }
            // Refreshed by the page's script when the stream says the level's queue changed.
            let refresh = "/agent/queue.json?tier=\(tier.rawValue)\(filters)" + (Pages.cursor(request, name).map { "&cursor=" + Pages.encode($0) } ?? "")
            let table = Pages.show(queue, "The level \(tier.rawValue) queue", context) { page in
                "<table data-refresh=\"\(refresh)\" data-tier=\"\(tier.rawValue)\">\(Self.tableHead)<tbody>\(rows(page.items, now: now))</tbody></table>\(Pages.more(request, name, next: page.nextCursor))"
            }
            sections.append(
                """
                <section class="queue" id="queue-\(tier.rawValue)" aria-labelledby="queue-\(tier.rawValue)-title">
                <h2 id="queue-\(tier.rawValue)-title">Level \(tier.rawValue) queue <span class="count">\(count)</span></h2>
                <form method="post" action="/agent/claim" class="inline">\(Pages.csrf(context))<input type="hidden" name="tier" value="\(tier.rawValue)">
                <button type="submit" id="claim-\(tier.rawValue)">Claim next</button></form>
                \(table)
                </section>
                """)
        }
        var mine: HTML = ""
        if let held = try await held {
            let table = Pages.show(held, "Your tickets", context) { page in
                "<table>\(Self.tableHead)<tbody>\(rows(page.items, now: now))</tbody></table>\(Pages.more(request, "mine-cursor", next: page.nextCursor))"
            }
            mine = "<section id=\"mine\" aria-labelledby=\"mine-title\"><h2 id=\"mine-title\">My tickets and swarms</h2>\(table)</section>"
        }
        let query = request.uri.queryParameters
        func value(_ name: String) -> String { query[name[...]].map(String.init) ?? "" }
        let options = Pages.options([("", "any")] + Priority.allCases.map { ($0.rawValue, $0.rawValue) }, selected: value("priority"))
        let filterForm: HTML = """
            <form method="get" action="/agent/" id="queue-filters" class="filters"><fieldset><legend>Show only</legend>
            <label for="filter-category">Category</label><input type="text" id="filter-category" name="category" value="\(value("category"))" maxlength="64">
            <label for="filter-skill">Needing the skill</label><input type="text" id="filter-skill" name="skill" value="\(value("skill"))" maxlength="50">
            <label for="filter-priority">Priority</label><select id="filter-priority" name="priority">\(options)</select>
            <label class="check"><input type="checkbox" name="breached" value="true" id="filter-breached"\(value("breached") == "true" ? " checked" as HTML : "")> Breached only</label>
            <button type="submit" id="apply-filters">Filter</button> <a href="/agent/">Show all</a></fieldset></form>
            """
        return Pages.page("Queues", context, notice: notice, error: error, "<h1>Queues</h1>\(mine)\(filterForm)\(sections)").response()
    }

    /// The queue filters of the page's address, passed on to the API as they are (it answers what
    /// is not valid with nothing listed): `&category=...&skill=...&priority=...&breached=true`.
    static func filters(_ request: Request) -> String {
        let query = request.uri.queryParameters
        return ["category", "skill", "priority", "breached"].compactMap { key -> String? in
            guard let value = query[key[...]].map(String.init), !value.isEmpty else { return nil }
            return "&\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined()
    }

    /// A queue's rows for the page's script, which refreshes them without a reload (a failure
    /// answers its status, and the script keeps the rows it has).
    @Sendable func queueData(request: Request, context: ConsoleContext) async throws -> Response {
        guard let tier = request.uri.queryParameters["tier"].flatMap({ Int($0) }) else { return Response(status: .badRequest) }
        let waiting = try await backend.page(
            TicketSummary.self, .tierQueue, "/v1/queues/\(tier)?\(Self.filters(request).dropFirst())", limit: Pages.pageSize,
            cursor: Pages.cursor(request), token: context.session.token)
        let html = rows(waiting.items, now: context.now)
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: html.text)))
    }

    @Sendable func claim(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/agent/", context) {
            guard let tier = try FormValue.number(context.form["tier"], "The level", in: 1...3).flatMap(Tier.init(rawValue:)) else {
                throw Backend.Failure.refused("Choose the level whose queue to claim from.")
            }
            let buffer = try await backend.raw(.POST, .tierQueue, "/v1/queues/\(tier.rawValue)/claim", token: context.session.token, body: NoBody?.none)
            // An empty answer (204): nothing in the queue this agent may take.
            guard buffer.readableBytes > 0 else { return Pages.redirect("/agent/", notice: .queueEmpty(tier)) }
            let claimed: Ticket
            do {
                claimed = try JSONCoding.decoder.decode(Ticket.self, from: Data(buffer: buffer))
            } catch {
                throw Backend.Failure(
                    status: 502, detail: "tier-queue answered what the console cannot read", fields: [], service: .tierQueue, cause: String(reflecting: error))
            }
            return Pages.redirect("/agent/tickets/\(claimed.id)", notice: .claimed)
        }
    }
}
