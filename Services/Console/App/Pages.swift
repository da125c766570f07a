import Foundation
import Hummingbird
import TierdeskModels

/// The frame of every page, and the small pieces pages share.
enum Pages {
    /// A whole page: the header with what the visitor may reach, an optional notice or error, the content.
    static func page(_ title: String, _ context: ConsoleContext, notice: String? = nil, error: String? = nil, _ content: HTML) -> HTML {
        var links: [HTML] = [#"<a href="/">Help centre</a>"#]
        switch context.session.role {
        case .agent?: links += [#"<a href="/agent/">My queues</a>"#, #"<a href="/agent/problems">Problems</a>"#, #"<a href="/agent/reports">Reports</a>"#]
        case .admin?: links += [#"<a href="/admin/">Administration</a>"#, #"<a href="/agent/">Queues</a>"#, #"<a href="/agent/reports">Reports</a>"#]
        case .vendor?: links += [#"<a href="/vendor/">My cases</a>"#]
        case .requester?, nil: break
        }
        let account: HTML =
            context.session.role == nil || context.session.role == .requester
            ? #"<a href="/signin">Staff and vendors: sign in</a>"#
            : "<form method=\"post\" action=\"/signout\" class=\"inline\">\(csrf(context))<button type=\"submit\" id=\"signout\">Sign out</button></form>"
        let banner: HTML =
            if let error { "<p class=\"error\" role=\"alert\" id=\"error\">\(error)</p>" } else if let notice {
                "<p class=\"notice\" role=\"status\" id=\"notice\">\(notice)</p>"
            } else { "" }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Tierdesk</title>
            <link rel="stylesheet" href="/static/console.css">
            <script src="/static/console.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header><nav aria-label="Main"><span class="brand">Tierdesk</span> \(links) <span class="account">\(account)</span></nav></header>
            <main id="main">
            \(banner)
            \(content)
            </main>
            </body>
            </html>
            """
    }

    /// The notice and the error a redirect left for this page (`?notice=`, `?error=`; see `redirect`).
    static func notices(_ request: Request) -> (notice: String?, error: String?) {
        let query = request.uri.queryParameters
        return (query["notice"].map(String.init), query["error"].map(String.init))
    }

    /// The hidden CSRF field every form carries.
    static func csrf(_ context: ConsoleContext) -> HTML { "<input type=\"hidden\" name=\"_csrf\" value=\"\(context.csrf)\">" }

    /// A page for a refusal, with its status.
    static func error(status: HTTPResponse.Status, title: String, detail: String) -> Response {
        let html: HTML = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Tierdesk</title><link rel="stylesheet" href="/static/console.css"></head>
            <body><main id="main"><h1>\(title)</h1><p class="error" role="alert" id="error">\(detail)</p><p><a href="/">Back to the help centre</a></p></main></body></html>
            """
        return html.response(status: status)
    }

    /// A 303 to `path`, with a notice or an error for the next page.
    static func redirect(_ path: String, notice: String? = nil, error: String? = nil) -> Response {
        var target = path
        var query: [String] = []
        if let notice { query.append("notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        if let error { query.append("error=" + (error.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        if !query.isEmpty { target += (path.contains("?") ? "&" : "?") + query.joined(separator: "&") }
        return Response(status: .seeOther, headers: [.location: target])
    }

    static func label(_ status: TicketStatus) -> String { words(status.rawValue) }

    /// A raw value as words: `awaiting_customer_info` reads `awaiting customer info`.
    static func words(_ rawValue: String) -> String { rawValue.replacingOccurrences(of: "_", with: " ") }

    /// A select's options, a value and a label each; the one whose value is `selected` is marked so.
    static func options(_ choices: [(value: String, label: String)], selected: String? = nil) -> HTML {
        HTML.join(choices.map { "<option value=\"\($0.value)\"\($0.value == selected ? " selected" as HTML : "")>\($0.label)</option>" })
    }

    /// The options of an enumeration's cases, labelled with their raw values as words.
    static func options<Choice: RawRepresentable<String>>(_ cases: [Choice], selected: Choice? = nil) -> HTML {
        options(cases.map { ($0.rawValue, words($0.rawValue)) }, selected: selected?.rawValue)
    }

    static func level(_ tier: Tier?) -> String {
        guard let tier else { return "not yet routed" }
        return tier == .vendor ? "level 4 (vendor)" : "level \(tier.rawValue)"
    }
}

extension Pages {
    /// A form's work against the API: its own answer when it succeeds, and back to `back` with the
    /// service's refusal (its detail and the fields it named) when it does not.
    static func attempt(orBackTo back: String, _ work: () async throws -> Response) async throws -> Response {
        do {
            return try await work()
        } catch let failure as Backend.Failure {
            return redirect(back, error: failure.message)
        }
    }
}
