import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The requesters' portal: search the knowledge base (suggestions as they type), read an article
/// and say it helped or solved the problem, file a ticket (with articles suggested from the draft),
/// and follow a ticket through its link: status, level, public history, replies, confirmation.
struct Portal: Sendable {
    let backend: Backend
    let sessions: Sessions

    func addRoutes(to groups: RouteGroups) {
        groups.open.get("/", use: home)
        groups.open.get("suggest", use: suggest)
        groups.open.get("kb/{id}", use: article)
        groups.open.post("kb/{id}/vote", use: vote)
        groups.open.post("kb/{id}/solved", use: solved)
        groups.open.get("tickets/new", use: newTicket)
        groups.open.post("tickets", use: submit)
        groups.open.get("t/{id}", use: ticket)
        groups.open.post("t/{id}/open", use: open)
        groups.open.get("t/{id}/confirm", use: confirmPage)
        groups.open.get("t/{id}/reopen", use: reopenPage)
        groups.open.get("t/{id}/satisfaction", use: satisfactionPage)
        groups.requester.post("{id}/reply", use: reply)
        groups.requester.post("{id}/confirm", use: confirm)
    }

    func search(_ query: String) async throws -> [ArticleSummary] {
        let escaped = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try await backend.get(Page<ArticleSummary>.self, .intake, "/v1/kb/search?q=\(escaped)&limit=10", token: nil).items
    }

    static func articleList(_ articles: [ArticleSummary], id: String) -> HTML {
        let items = articles.map { article -> HTML in
            "<li><a class=\"article\" href=\"/kb/\(article.id)\">\(article.title)</a>\(article.snippet.map { "<p class=\"snippet\">\(HTML.snippet($0))</p>" as HTML } ?? "")</li>"
        }
        return "<ul id=\"\(id)\" class=\"articles\">\(items)</ul>"
    }

    @Sendable func home(request: Request, context: ConsoleContext) async throws -> HTML {
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        let (notice, error) = Pages.notices(request, context)
        var results: HTML = ""
        if !query.trimmingCharacters(in: .whitespaces).isEmpty {
            let searched = try await Pages.part("The search", context) { try await search(String(query.prefix(200))) }
            results = Pages.show(searched, "The search", context) { found in
                found.isEmpty
                    ? "<p id=\"no-results\">Nothing in the knowledge base matches “\(query)”. <a href=\"/tickets/new?subject=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")\" id=\"file-instead\">File a ticket</a> and the help desk will answer.</p>"
                    : "<h2>Articles</h2>\(Self.articleList(found, id: "results"))<p>Not what you need? <a href=\"/tickets/new\" id=\"file-instead\">File a ticket</a>.</p>"
            }
        }
        return Pages.page(
            "Help centre", context, notice: notice, error: error,
            """
            <h1>How can we help?</h1>
            <form method="get" action="/" id="search" role="search">
            <label for="q">Search the knowledge base</label>
            <input type="search" id="q" name="q" value="\(query)" maxlength="200" autocomplete="off" data-suggest="search-suggestions">
            <button type="submit">Search</button>
            </form>
            <ul id="search-suggestions" class="articles suggestions" aria-live="polite"></ul>
            \(results)
            <p><a href="/tickets/new" id="new-ticket-link">File a ticket</a></p>
            """)
    }

    /// Articles for what is being typed (the portal's script asks as the visitor types).
    @Sendable func suggest(request: Request, context: ConsoleContext) async throws -> Response {
        let query = String((request.uri.queryParameters["q"].map(String.init) ?? "").prefix(200))
        let found = query.trimmingCharacters(in: .whitespaces).count < 3 ? [] : try await search(query)
        let body = try JSONEncoder().encode(found.prefix(5).map { ["id": $0.id.uuidString.lowercased(), "title": $0.title] })
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    @Sendable func article(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else {
            return Pages.error(status: .notFound, title: "Not found", detail: "There is no such article.")
        }
        let article: Article
        do {
            article = try await backend.get(Article.self, .intake, "/v1/kb/articles/\(id)", token: nil)
        } catch let failure as Backend.Failure where failure.kind == .notFound {
            failure.log("the article", logger: context.logger)
            return Pages.error(status: .notFound, title: "Not found", detail: "There is no such article.")
        }
        let (notice, error) = Pages.notices(request, context)
        let paragraphs = article.body.components(separatedBy: "\n\n").map { "<p>\($0)</p>" as HTML }
        // Votes come from people the help desk knows (a ticket's requester, an agent): anonymous ones could be stuffed.
        let voting: HTML =
            (context.session.token ?? context.requesterToken) == nil
            ? ""
            : """
            <form method="post" action="/kb/\(id)/vote" id="vote">\(Pages.csrf(context))
            <fieldset><legend>Did this help?</legend>
            <button type="submit" name="helpful" value="true" id="helpful">Yes, it helped</button>
            <button type="submit" name="helpful" value="false" id="not-helpful">No</button>
            </fieldset></form>
            """
        return Pages.page(
            article.title, context, notice: notice, error: error,
            """
            <article><h1 id="article-title">\(article.title)</h1>\(paragraphs)</article>
            \(voting)
            <form method="post" action="/kb/\(id)/solved" id="solved">\(Pages.csrf(context))
            <fieldset><legend>Did this solve your problem?</legend>
            <p>Tell us what it was, and the help desk counts it as solved here, without a ticket.</p>
            <label for="solved-email">Your email</label><input type="email" id="solved-email" name="email" required autocomplete="email">
            <label for="solved-subject">What was the problem?</label><input type="text" id="solved-subject" name="subject" required maxlength="200">
            <button type="submit" id="solved-button">Yes, this solved it</button></fieldset></form>
            <p><a href="/tickets/new">Still stuck? File a ticket</a></p>
            """
        ).response()
    }

    @Sendable func vote(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        return try await Pages.attempt(orBackTo: "/kb/\(id)", context) {
            let helpful = try FormValue.flag(context.form["helpful"], "Did it help")
            _ = try await backend.raw(
                .POST, .intake, "/v1/kb/articles/\(id)/votes", token: context.session.token ?? context.requesterToken, body: VoteRequest(helpful: helpful))
            return Pages.redirect("/kb/\(id)", notice: .voted)
        }
    }

    /// "This solved it": a Level 0 resolution, counted for the article and the reports.
    @Sendable func solved(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        let form = context.form
        let input = SelfServiceResolutionRequest(requester: .init(email: form["email"] ?? ""), subject: form["subject"] ?? "", articleId: id)
        return try await Pages.attempt(orBackTo: "/kb/\(id)", context) {
            _ = try await backend.raw(.POST, .intake, "/v1/self-service/resolutions", token: nil, body: input)
            return Pages.redirect("/kb/\(id)", notice: .solved)
        }
    }

    @Sendable func newTicket(request: Request, context: ConsoleContext) async throws -> HTML {
        let (notice, error) = Pages.notices(request, context)
        let subject = request.uri.queryParameters["subject"].map(String.init) ?? ""
        return Pages.page(
            "File a ticket", context, notice: notice, error: error,
            """
            <h1>File a ticket</h1>
            <form method="post" action="/tickets" id="new-ticket">\(Pages.csrf(context))
            <label for="email">Your email</label><input type="email" id="email" name="email" required maxlength="254" autocomplete="email">
            <label for="name">Your name (optional)</label><input type="text" id="name" name="name" maxlength="200" autocomplete="name">
            <label for="subject">Subject</label><input type="text" id="subject" name="subject" required maxlength="200" value="\(subject)" data-suggest="draft-suggestions">
            <label for="description">What happened?</label><textarea id="description" name="description" required rows="6" maxlength="65536"></textarea>
            <section aria-labelledby="draft-suggestions-title"><h2 id="draft-suggestions-title" class="small">These articles may already answer it</h2>
            <ul id="draft-suggestions" class="articles suggestions" aria-live="polite"></ul></section>
            <button type="submit" id="submit-ticket">Send</button>
            </form>
            """)
    }

    @Sendable func submit(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        let name = form["name"]?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        let input = SubmitTicketRequest(
            requester: .init(email: form["email"] ?? "", name: name), channel: .web, subject: form["subject"] ?? "", description: form["description"] ?? "")
        let created: SubmitTicketResponse
        do {
            created = try await backend.send(SubmitTicketResponse.self, .POST, .intake, "/v1/tickets", token: nil, body: input)
        } catch let failure as Backend.Failure {
            failure.log("filing a ticket", logger: context.logger)
            return Pages.redirect("/tickets/new", error: failure.kind == .refused ? failure.fieldList ?? failure.detail : failure.shown)
        }
        var response = Pages.redirect("/t/\(created.id)", notice: .filed)
        // The token is intake's own answer: the ticket's session starts with it, in place of any earlier one.
        if let token = created.requesterToken {
            response.setCookie(
                try await sessions.startRequester(token: token, ticketID: created.id, replacing: context.requesterSessionID, logger: context.logger))
        }
        return response
    }

    /// The requester's view of a ticket, with the token of this browser's ticket session (or the
    /// staff member's). Without one that opens it, the page asks for the link's token: the link
    /// carries it in its fragment (`/t/{id}#token=...`, which no server or log ever sees), and the
    /// page's script posts it to `open`. A token in the query is ignored: no GET starts or replaces
    /// a session.
    @Sendable func ticket(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.error(status: .notFound, title: "Not found", detail: "No such ticket.") }
        let (notice, error) = Pages.notices(request, context)
        guard let token = context.ticketToken else { return Self.openPage(id, context, error: error, status: error == nil ? .ok : .notFound) }
        let detail: TicketDetail
        do {
            detail = try await backend.get(TicketDetail.self, .intake, "/v1/tickets/\(id)", token: token)
        } catch let failure as Backend.Failure where failure.kind == .notFound || failure.kind == .notAllowed {
            // A staff member's token, or a requester's for another ticket: the page asks for the link.
            failure.log("the ticket", logger: context.logger)
            return Self.openPage(
                id, context,
                error: error ?? "There is no ticket here for you. Open the link from your confirmation email (or the one shown when you filed it).",
                status: .notFound)
        }
        let ticket = detail.ticket
        let history = detail.events.map { event -> HTML in
            let message = event.data["message"]?.stringValue ?? event.data["resolution"]?.stringValue
            return
                "<li><span class=\"when\">\(event.at)</span> <span class=\"what\">\(Self.describe(event))</span>\(message.map { "<p class=\"message\">\($0)</p>" as HTML } ?? "")</li>"
        }
        let question: HTML =
            context.requesterToken == nil
            ? "" : RequesterAccount.question(ticket, answer: try await satisfaction(of: ticket, token: token), context, now: context.now)
        var actions: HTML = ""
        if ticket.status == .resolved {
            actions = """
                <section aria-labelledby="verify"><h2 id="verify">Is it solved?</h2>
                <form method="post" action="/t/\(id)/confirm" id="confirm">\(Pages.csrf(context))<button type="submit" id="confirm-button">Yes, it is solved</button></form>
                <p>If not, say what is still wrong below: the ticket opens again.</p></section>
                """
        }
        if ticket.status != .closed {
            actions = """
                \(actions)
                <form method="post" action="/t/\(id)/reply" id="reply">\(Pages.csrf(context))
                <label for="message">Add a reply</label><textarea id="message" name="message" required rows="4" maxlength="65536"></textarea>
                <button type="submit" id="send-reply">Send reply</button></form>
                """
        }
        // The requester's own link, to open the ticket in another browser: the key rides in the fragment.
        var link: HTML = ""
        if let own = context.requesterToken, Secrets.requesterTicket(own) == id {
            link = """
                <details id="ticket-link"><summary>Your link to this ticket</summary><p>It opens the ticket in any browser; keep it to yourself.</p>
                <p><a href="/t/\(id)#token=\(own)" id="ticket-link-address">/t/\(id)#token=…</a></p></details>
                """
        }
        return Pages.page(
            ticket.reference, context, notice: notice, error: error,
            """
            <h1 id="ticket-ref">\(ticket.reference): \(ticket.subject)</h1>
            <dl class="facts"><dt>Status</dt><dd id="status">\(Pages.label(ticket.status))</dd><dt>Handled at</dt><dd id="level">\(Pages.level(ticket.tier))</dd>
            <dt>Filed</dt><dd>\(ticket.createdAt)</dd></dl>
            <h2>What you wrote</h2><p class="message" id="description">\(ticket.description)</p>
            <h2>History</h2><ol id="history" class="history">\(history)</ol>
            \(actions)
            \(question)
            \(link)
            """
        ).response()
    }

    /// The page that opens a ticket from its link: a form for the token, which the script fills
    /// from the link's fragment and sends (a visitor without script pastes it).
    static func openPage(_ id: UUID, _ context: ConsoleContext, error: String?, status: HTTPResponse.Status, then step: String? = nil) -> Response {
        let next: HTML = step.map { "<input type=\"hidden\" name=\"next\" value=\"\($0)\">" } ?? ""
        return Pages.page(
            "Open your ticket", context, error: error,
            """
            <h1>Open your ticket</h1>
            <p>Open the link you were given when you filed the ticket: it carries the ticket's key. Or paste the key here.</p>
            <form method="post" action="/t/\(id)/open" id="open-ticket" data-open-link>\(Pages.csrf(context))\(next)
            <label for="ticket-key">Ticket key</label><input type="password" id="ticket-key" name="token" required autocomplete="off" maxlength="200">
            <button type="submit" id="open-ticket-button">Open</button></form>
            """
        ).response(status: status)
    }

    /// A ticket link's token, sent by the page's form: checked with intake (does it open this ticket?)
    /// before anything is stored; then the ticket's session starts, in a cookie of its own, apart from
    /// any staff session. A refused token stores nothing.
    @Sendable func open(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        let token = (context.form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = "That key does not open this ticket. Open the link from your confirmation email (or the one shown when you filed it)."
        // The key names its ticket: one for another ticket is refused before it costs intake a request.
        guard Secrets.requesterTicket(token) == id else { return Pages.redirect("/t/\(id)", error: refused) }
        do {
            _ = try await backend.raw(.GET, .intake, "/v1/tickets/\(id)", token: token, body: NoBody?.none)
        } catch let failure as Backend.Failure {
            failure.log("opening a ticket's link", logger: context.logger)
            return Pages.redirect("/t/\(id)", error: [401, 403, 404].contains(failure.status) ? refused : failure.shown)
        }
        // Back to the page the link opened (a mail's "confirm" or "still broken"); anything else is the ticket.
        let step = context.form["next"].flatMap { Self.steps.contains($0) ? "/\($0)" : nil } ?? ""
        var response = Pages.redirect("/t/\(id)\(step)")
        response.setCookie(try await sessions.startRequester(token: token, ticketID: id, replacing: context.requesterSessionID, logger: context.logger))
        return response
    }

    /// The pages a mail's link opens besides the ticket's own: they ask, and only their button changes anything.
    static let steps: Set<String> = ["confirm", "reopen", "satisfaction"]

    /// "Yes, it is solved" from the resolution mail: a page whose button posts the confirmation.
    /// Opening it (a link, a mail scanner following it) changes nothing.
    @Sendable func confirmPage(request: Request, context: ConsoleContext) async throws -> Response {
        try await stepPage(request, context, step: "confirm", title: "Is it solved?") { id, _ in
            """
            <form method="post" action="/t/\(id)/confirm" id="confirm">\(Pages.csrf(context))
            <p>Confirm it, and the ticket is closed.</p><button type="submit" id="confirm-button">Yes, it is solved</button></form>
            <p>Not solved? <a href="/t/\(id)/reopen">Tell us what is still wrong</a>.</p>
            """
        }
    }

    /// "Still broken" from the resolution mail: a page whose form posts the requester's reply, which
    /// opens the ticket again (within the reopen window).
    @Sendable func reopenPage(request: Request, context: ConsoleContext) async throws -> Response {
        try await stepPage(request, context, step: "reopen", title: "Still broken?") { id, _ in
            """
            <form method="post" action="/t/\(id)/reply" id="reply">\(Pages.csrf(context))
            <label for="message">What is still wrong? The ticket opens again.</label><textarea id="message" name="message" required rows="4" maxlength="65536"></textarea>
            <button type="submit" id="send-reply">Open it again</button></form>
            """
        }
    }

    /// "How did we do?" from the resolution mail: the satisfaction question, whose form posts.
    @Sendable func satisfactionPage(request: Request, context: ConsoleContext) async throws -> Response {
        try await stepPage(request, context, step: "satisfaction", title: "How did we do?") { id, token in
            let ticket = try await backend.get(TicketDetail.self, .intake, "/v1/tickets/\(id)", token: token).ticket
            guard ticket.status == .resolved || ticket.status == .closed else {
                return "<p id=\"not-yet\">The question comes once the ticket is resolved.</p>"
            }
            return RequesterAccount.question(ticket, answer: try await satisfaction(of: ticket, token: token), context, now: context.now)
        }
    }

    /// The requester's satisfaction answer on a resolved or closed ticket; nil while there is none.
    func satisfaction(of ticket: Ticket, token: String) async throws -> Satisfaction? {
        guard ticket.status == .resolved || ticket.status == .closed else { return nil }
        do {
            return try await backend.get(Satisfaction.self, .intake, "/v1/tickets/\(ticket.id)/satisfaction", token: token)
        } catch let failure as Backend.Failure where failure.kind == .notFound {
            return nil  // not answered yet
        }
    }

    /// A page of a mail's link: without a requester session that may open this ticket (its link's,
    /// or a signed-in requester's), the form that opens it from the link's fragment (coming back
    /// here); with one, `form`.
    func stepPage(
        _ request: Request, _ context: ConsoleContext, step: String, title: String, _ form: (UUID, String) async throws -> HTML
    ) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.error(status: .notFound, title: "Not found", detail: "No such ticket.") }
        let (notice, error) = Pages.notices(request, context)
        guard let own = context.requesterToken, Secrets.requesterTicket(own) == id || Session.isRequesterAccount(own) else {
            return Self.openPage(id, context, error: error, status: .ok, then: step)
        }
        return Pages.page(
            title, context, notice: notice, error: error,
            """
            <h1>\(title)</h1>
            \(try await form(id, own))
            <p><a href="/t/\(id)">See the ticket</a></p>
            """
        ).response()
    }

    /// A line of the public history, in the requester's words.
    static func describe(_ event: TicketEvent) -> String {
        switch event.type {
        case .ticketCreated: "You filed the ticket"
        case .ticketTriaged, .ticketQueued: "Routed to \(Pages.level(event.tier))"
        case .ticketClaimed: "An agent picked it up"
        case .ticketCommented: event.actor.hasPrefix("requester") ? "You replied" : "The help desk wrote"
        case .ticketEscalated: "Passed to \(Pages.level(event.tier))"
        case .ticketDeescalated: "Passed back to \(Pages.level(event.tier))"
        case .ticketPending: "Waiting for your answer"
        case .ticketResolved: "Resolved"
        case .ticketReopened: "Opened again"
        case .ticketClosed: "Closed"
        default: event.type.rawValue
        }
    }

    @Sendable func reply(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        return try await Pages.attempt(orBackTo: "/t/\(id)", context) {
            _ = try await backend.raw(
                .POST, .intake, "/v1/tickets/\(id)/replies", token: context.requesterToken, body: CommentRequest(message: context.form["message"] ?? ""))
            return Pages.redirect("/t/\(id)", notice: .replied)
        }
    }

    @Sendable func confirm(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        return try await Pages.attempt(orBackTo: "/t/\(id)", context) {
            _ = try await backend.raw(.POST, .intake, "/v1/tickets/\(id)/confirm", token: context.requesterToken, body: NoBody?.none)
            return Pages.redirect("/t/\(id)", notice: .confirmed)
        }
    }
}
