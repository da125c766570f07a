import Foundation
import Hummingbird
import TierdeskModels

/// The requesters' portal: search the knowledge base (suggestions as they type), read an article
/// and say it helped or solved the problem, file a ticket (with articles suggested from the draft),
/// and follow a ticket through its link: status, level, public history, replies, confirmation.
struct Portal: Sendable {
    let backend: Backend
    let secureCookies: Bool

    func addRoutes(to router: Router<ConsoleContext>) {
        router.get("/", use: home)
        router.get("suggest", use: suggest)
        router.get("kb/{id}", use: article)
        router.post("kb/{id}/vote", use: vote)
        router.post("kb/{id}/solved", use: solved)
        router.get("tickets/new", use: newTicket)
        router.post("tickets", use: submit)
        router.get("t/{id}", use: ticket)
        router.post("t/{id}/reply", use: reply)
        router.post("t/{id}/confirm", use: confirm)
    }

    func search(_ query: String) async -> [ArticleSummary] {
        let escaped = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return (try? await backend.get(Page<ArticleSummary>.self, .intake, "/v1/kb/search?q=\(escaped)&limit=10", token: nil).items) ?? []
    }

    static func articleList(_ articles: [ArticleSummary], id: String) -> HTML {
        let items = articles.map { article -> HTML in
            "<li><a class=\"article\" href=\"/kb/\(article.id)\">\(article.title)</a>\(article.snippet.map { "<p class=\"snippet\">\(HTML.snippet($0))</p>" as HTML } ?? "")</li>"
        }
        return "<ul id=\"\(id)\" class=\"articles\">\(items)</ul>"
    }

    @Sendable func home(request: Request, context: ConsoleContext) async throws -> HTML {
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        let (notice, error) = Pages.notices(request)
        var results: HTML = ""
        if !query.trimmingCharacters(in: .whitespaces).isEmpty {
            let found = await search(String(query.prefix(200)))
            results =
                found.isEmpty
                ? "<p id=\"no-results\">Nothing in the knowledge base matches “\(query)”. <a href=\"/tickets/new?subject=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")\" id=\"file-instead\">File a ticket</a> and the help desk will answer.</p>"
                : "<h2>Articles</h2>\(Self.articleList(found, id: "results"))<p>Not what you need? <a href=\"/tickets/new\" id=\"file-instead\">File a ticket</a>.</p>"
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
        let found = query.trimmingCharacters(in: .whitespaces).count < 3 ? [] : await search(query)
        let body = try JSONEncoder().encode(found.prefix(5).map { ["id": $0.id.uuidString.lowercased(), "title": $0.title] })
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    @Sendable func article(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self),
            let article = try? await backend.get(Article.self, .intake, "/v1/kb/articles/\(id)", token: nil)
        else { return Pages.error(status: .notFound, title: "Not found", detail: "There is no such article.") }
        let (notice, error) = Pages.notices(request)
        let paragraphs = article.body.components(separatedBy: "\n\n").map { "<p>\($0)</p>" as HTML }
        // Votes come from people the help desk knows (a ticket's requester, an agent): anonymous ones could be stuffed.
        let voting: HTML =
            context.session.token == nil
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
        return try await Pages.attempt(orBackTo: "/kb/\(id)") {
            _ = try await backend.raw(
                .POST, .intake, "/v1/kb/articles/\(id)/votes", token: context.session.token, body: VoteRequest(helpful: context.form["helpful"] == "true"))
            return Pages.redirect("/kb/\(id)", notice: "Thank you for telling us.")
        }
    }

    /// "This solved it": a Level 0 resolution, counted for the article and the reports.
    @Sendable func solved(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        let form = context.form
        let input = SelfServiceResolutionRequest(requester: .init(email: form["email"] ?? ""), subject: form["subject"] ?? "", articleId: id)
        return try await Pages.attempt(orBackTo: "/kb/\(id)") {
            _ = try await backend.raw(.POST, .intake, "/v1/self-service/resolutions", token: nil, body: input)
            return Pages.redirect("/kb/\(id)", notice: "Glad it helped. Nothing more to do.")
        }
    }

    @Sendable func newTicket(request: Request, context: ConsoleContext) async throws -> HTML {
        let (notice, error) = Pages.notices(request)
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
        do {
            let created = try await backend.send(SubmitTicketResponse.self, .POST, .intake, "/v1/tickets", token: nil, body: input)
            var response = Pages.redirect("/t/\(created.id)", notice: "Ticket \(created.reference) is filed. Keep this page's address: it is your link to it.")
            if let token = created.requesterToken { response.setCookie(ticketCookie(token)) }
            return response
        } catch let failure as Backend.Failure {
            return Pages.redirect("/tickets/new", error: failure.fieldList ?? failure.detail)
        }
    }

    func ticketCookie(_ token: String) -> Cookie {
        Cookie(name: "td_token", value: token, maxAge: 90 * 86_400, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// The requester's view of a ticket. The link carries the ticket's token once (`?token=`); it is
    /// kept in the cookie and the address cleaned. A token for another ticket shows nothing of this one.
    @Sendable func ticket(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.error(status: .notFound, title: "Not found", detail: "No such ticket.") }
        // Only a token's own characters go into the cookie: a link cannot smuggle cookie attributes in.
        if let token = request.uri.queryParameters["token"].map(String.init), token.hasPrefix("tdr_"), token.count <= 200,
            token.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
        {
            var response = Pages.redirect("/t/\(id)")
            response.setCookie(ticketCookie(token))
            return response
        }
        let detail: TicketDetail
        do {
            detail = try await backend.get(TicketDetail.self, .intake, "/v1/tickets/\(id)", token: context.session.token)
        } catch let failure as Backend.Failure where [401, 403, 404].contains(failure.status) {
            return Pages.error(
                status: .notFound, title: "Not found",
                detail: "There is no ticket here for you. Open the link from your confirmation email (or the one shown when you filed it).")
        } catch let failure as Backend.Failure {
            return Pages.error(status: .serviceUnavailable, title: "Not available", detail: failure.detail)
        }
        let (notice, error) = Pages.notices(request)
        let ticket = detail.ticket
        let history = detail.events.map { event -> HTML in
            let message = event.data["message"]?.stringValue ?? event.data["resolution"]?.stringValue
            return
                "<li><span class=\"when\">\(event.at)</span> <span class=\"what\">\(Self.describe(event))</span>\(message.map { "<p class=\"message\">\($0)</p>" as HTML } ?? "")</li>"
        }
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
        return Pages.page(
            ticket.reference, context, notice: notice, error: error,
            """
            <h1 id="ticket-ref">\(ticket.reference): \(ticket.subject)</h1>
            <dl class="facts"><dt>Status</dt><dd id="status">\(Pages.label(ticket.status))</dd><dt>Handled at</dt><dd id="level">\(Pages.level(ticket.tier))</dd>
            <dt>Filed</dt><dd>\(ticket.createdAt)</dd></dl>
            <h2>What you wrote</h2><p class="message" id="description">\(ticket.description)</p>
            <h2>History</h2><ol id="history" class="history">\(history)</ol>
            \(actions)
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
        return try await Pages.attempt(orBackTo: "/t/\(id)") {
            _ = try await backend.raw(
                .POST, .intake, "/v1/tickets/\(id)/replies", token: context.session.token, body: CommentRequest(message: context.form["message"] ?? ""))
            return Pages.redirect("/t/\(id)", notice: "Your reply is sent.")
        }
    }

    @Sendable func confirm(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        return try await Pages.attempt(orBackTo: "/t/\(id)") {
            _ = try await backend.raw(.POST, .intake, "/v1/tickets/\(id)/confirm", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/t/\(id)", notice: "Thank you: the ticket is closed.")
        }
    }
}
