import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// A requester's own tickets: they give their email, open the single-use link they are mailed
/// (its key rides in the fragment, `/sign-in#token=…`, which no server or log sees; the page's
/// script posts it), and see every ticket they filed, each opening with its replies, confirmation
/// and the satisfaction question. The session lives on the server like a ticket link's.
struct RequesterAccount: Sendable {
    let backend: Backend
    let sessions: Sessions

    func addRoutes(to groups: RouteGroups) {
        groups.open.get("sign-in", use: signInPage)
        groups.open.post("sign-in", use: requestLink)
        groups.open.post("sign-in/open", use: open)
        groups.open.get("my", use: myTickets)
        groups.open.post("my/sign-out", use: signOut)
        groups.requester.post("{id}/satisfaction", use: answer)
    }

    /// The signed-in requester's token, when this browser's requester session is one.
    static func accountToken(_ context: ConsoleContext) -> String? {
        context.requesterToken.flatMap { Session.isRequesterAccount($0) ? $0 : nil }
    }

    @Sendable func signInPage(request: Request, context: ConsoleContext) async throws -> HTML {
        let (notice, error) = Pages.notices(request, context)
        return Pages.page(
            "Your tickets", context, notice: notice, error: error,
            """
            <h1>Your tickets</h1>
            <p>Give the email address you filed your tickets with. We mail you a link that signs you in: it works once, for 15 minutes. No password.</p>
            <form method="post" action="/sign-in" id="request-sign-in">\(Pages.csrf(context))
            <label for="sign-in-email">Your email</label><input type="email" id="sign-in-email" name="email" required maxlength="254" autocomplete="email">
            <button type="submit" id="request-sign-in-button">Mail me a link</button></form>
            <form method="post" action="/sign-in/open" id="open-sign-in" data-open-link>\(Pages.csrf(context))
            <details><summary>I have a sign-in key</summary>
            <label for="sign-in-key">Sign-in key</label><input type="password" id="sign-in-key" name="token" autocomplete="off" maxlength="200">
            <button type="submit" id="open-sign-in-button">Sign in</button></details></form>
            """)
    }

    /// Asks intake to mail a link; the answer is the same whether the address is known or not.
    @Sendable func requestLink(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/sign-in", context) {
            _ = try await backend.raw(.POST, .intake, "/v1/requester-sign-in", token: nil, body: SignInLinkRequest(email: context.form["email"] ?? ""))
            return Pages.redirect("/sign-in", notice: .signInSent)
        }
    }

    /// Redeems the link's key with intake; the session it answers becomes this browser's requester
    /// session, in place of any ticket link's (it opens those tickets too).
    @Sendable func open(request: Request, context: ConsoleContext) async throws -> Response {
        let key = (context.form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let session: RequesterSession
        do {
            session = try await backend.send(
                RequesterSession.self, .POST, .intake, "/v1/requester-sessions", token: nil, body: RequesterSessionRequest(key: key))
        } catch let failure as Backend.Failure {
            failure.log("a sign-in link", logger: context.logger)
            return Pages.redirect(
                "/sign-in", error: [401, 422].contains(failure.status) ? "That link is used, expired or mistyped: ask for a new one below." : failure.shown)
        }
        var response = Pages.redirect("/my", notice: .signedIn)
        response.setCookie(
            try await sessions.startRequester(token: session.token, ticketID: nil, replacing: context.requesterSessionID, logger: context.logger))
        return response
    }

    @Sendable func myTickets(request: Request, context: ConsoleContext) async throws -> Response {
        guard let token = Self.accountToken(context) else { return Pages.redirect("/sign-in") }
        let (notice, error) = Pages.notices(request, context)
        let page = try await backend.page(
            RequesterTicketSummary.self, .intake, "/v1/me/tickets", limit: Pages.pageSize, cursor: Pages.cursor(request), token: token)
        let rows = page.items.map { ticket -> HTML in
            let rated: HTML = ticket.satisfaction.map { "\($0) of 5" } ?? (ticket.status == .resolved || ticket.status == .closed ? "not yet" : "")
            return """
                <tr><td><a href="/t/\(ticket.id)">\(ticket.reference)</a></td><td>\(ticket.subject)</td><td>\(Pages.label(ticket.status))</td>
                <td>\(ticket.updatedAt)</td><td>\(rated)</td></tr>
                """
        }
        return Pages.page(
            "Your tickets", context, notice: notice, error: error,
            """
            <h1>Your tickets</h1>
            \(page.items.isEmpty ? "<p id=\"no-tickets\">You have no tickets.</p>" as HTML : "")
            <table id="my-tickets"><thead><tr><th scope="col">Ticket</th><th scope="col">Subject</th><th scope="col">Status</th>
            <th scope="col">Last change</th><th scope="col">Your rating</th></tr></thead><tbody>\(rows)</tbody></table>\(Pages.more(request, next: page.nextCursor))
            <p><a href="/tickets/new">File a ticket</a></p>
            <form method="post" action="/my/sign-out" id="requester-sign-out">\(Pages.csrf(context))<button type="submit" id="requester-sign-out-button">Sign out</button></form>
            """
        ).response()
    }

    /// Ends the signed-in requester's session, at intake and here.
    @Sendable func signOut(request: Request, context: ConsoleContext) async throws -> Response {
        if let token = Self.accountToken(context) {
            do {
                _ = try await backend.raw(.DELETE, .intake, "/v1/requester-sessions/current", token: token, body: NoBody?.none)
            } catch let failure as Backend.Failure {
                // The console's session goes regardless; intake's expires on its own.
                failure.log("signing a requester out", logger: context.logger)
            }
        }
        if let id = context.requesterSessionID { try await sessions.store.delete(id: id, logger: context.logger) }
        var response = Pages.redirect("/", notice: .requesterSignedOut)
        response.setCookie(sessions.clearing(sessions.requesterCookie))
        return response
    }

    /// The satisfaction question on a resolved ticket's page: the answer so far, and a form that
    /// posts (a mail's link opens this page; nothing changes on GET).
    static func question(_ ticket: Ticket, answer: Satisfaction?, _ context: ConsoleContext, now: Date) -> HTML {
        guard ticket.status == .resolved || ticket.status == .closed else { return "" }
        if let answer, now >= answer.changeableUntil {
            return
                "<section aria-labelledby=\"satisfaction-title\" id=\"satisfaction\"><h2 id=\"satisfaction-title\">Your rating</h2><p id=\"satisfaction-given\">\(answer.rating) of 5\(answer.comment.map { ": “\($0)”" } ?? "").</p></section>"
        }
        let choices = (1...5).reversed().map { rating -> HTML in
            let label = [5: "5 (very good)", 4: "4", 3: "3", 2: "2", 1: "1 (bad)"][rating] ?? "\(rating)"
            return
                "<label class=\"choice\"><input type=\"radio\" name=\"rating\" value=\"\(rating)\" id=\"rating-\(rating)\" required\(answer?.rating == rating ? " checked" : "")> \(label)</label>"
        }
        return """
            <section aria-labelledby="satisfaction-title" id="satisfaction"><h2 id="satisfaction-title">How did we do?</h2>
            \(answer.map { "<p id=\"satisfaction-given\">You rated it \($0.rating) of 5. You can change it until \($0.changeableUntil).</p>" as HTML } ?? "")
            <form method="post" action="/t/\(ticket.id)/satisfaction" id="satisfaction-form">\(Pages.csrf(context))
            <fieldset><legend>Your rating</legend>\(choices)</fieldset>
            <label for="satisfaction-comment">Anything to add? (optional)</label><textarea id="satisfaction-comment" name="comment" rows="3" maxlength="2000">\(answer?.comment ?? "")</textarea>
            <button type="submit" id="satisfaction-button">Send</button></form></section>
            """
    }

    @Sendable func answer(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/") }
        return try await Pages.attempt(orBackTo: "/t/\(id)", context) {
            guard let rating = try FormValue.number(context.form["rating"], "Your rating", in: 1...5) else {
                throw Backend.Failure.refused("Choose a rating from 1 to 5.")
            }
            let comment = context.form["comment"]?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
            _ = try await backend.raw(
                .PUT, .intake, "/v1/tickets/\(id)/satisfaction", token: context.requesterToken, body: SatisfactionRequest(rating: rating, comment: comment))
            return Pages.redirect("/t/\(id)", notice: .rated)
        }
    }
}
