import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The frame of every page, and the small pieces pages share.
enum Pages {
    /// A whole page: the header with what the visitor may reach, an optional notice or error, the content.
    static func page(_ title: String, _ context: ConsoleContext, notice: String? = nil, error: String? = nil, _ content: HTML) -> HTML {
        var links: [HTML] = [#"<a href="/">Help centre</a>"#]
        switch context.session.role {
        case .agent?:
            links += [
                #"<a href="/agent/">My queues</a>"#, #"<a href="/agent/problems">Problems</a>"#, #"<a href="/agent/reports">Reports</a>"#,
                #"<a href="/agent/notifications" id="notifications-link">Notifications <span class="count" id="unread-count" data-latest="/agent/notifications.json"></span></a>"#,
            ]
        case .admin?: links += [#"<a href="/admin/">Administration</a>"#, #"<a href="/agent/">Queues</a>"#, #"<a href="/agent/reports">Reports</a>"#]
        case .auditor?: links += [#"<a href="/agent/reports">Reports</a>"#]
        case .vendor?: links += [#"<a href="/vendor/">My cases</a>"#]
        case .requester?, nil: break
        }
        // A requester signed in by email (not by one ticket's link) reaches all their tickets.
        links.append(
            context.requesterToken.map(Session.isRequesterAccount) == true
                ? #"<a href="/my" id="my-tickets-link">Your tickets</a>"#
                : #"<a href="/sign-in" id="requester-sign-in-link">Your tickets</a>"#)
        let account: HTML =
            context.session.role == nil || context.session.role == .requester
            ? #"<a href="/signin">Staff and vendors: sign in</a>"#
            : "<form method=\"post\" action=\"/signout\" class=\"inline\">\(csrf(context))<button type=\"submit\" id=\"signout\">Sign out</button></form>"
        // Staff pages listen to the live stream (`console.js`): the agent's notifications, and the queues' changes.
        let staff = context.session.role == .agent || context.session.role == .admin
        let live: HTML = staff ? #" data-stream="/agent/notifications/stream""# : ""
        let latest: HTML =
            context.session.role == .agent
            ? #"<aside id="live-notifications" aria-label="New notifications" aria-live="polite" hidden><ul id="latest-notifications"></ul></aside>"# : ""
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
            <body\(live)>
            <a class="skip" href="#main">Skip to content</a>
            <header><nav aria-label="Main"><span class="brand">Tierdesk</span> \(links) <span class="account">\(account)</span></nav>\(latest)</header>
            <main id="main">
            \(banner)
            \(content)
            </main>
            </body>
            </html>
            """
    }

    /// The notice and the error a redirect left for this page: the notice by its code (`?notice=`,
    /// one of `Notice`'s fixed texts; anything else shows nothing), the error from the signed flash
    /// cookie. Nothing an address says is shown as it is, so a link cannot put words in the site's mouth.
    static func notices(_ request: Request, _ context: ConsoleContext) -> (notice: String?, error: String?) {
        (request.uri.queryParameters["notice"].flatMap { Notice(code: String($0)) }?.text, context.flashError)
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

    /// A 303 to `path`, with a notice (its code in the address) or an error for the next page (kept
    /// in a signed cookie for a minute, see `SessionMiddleware`).
    static func redirect(_ path: String, notice: Notice? = nil, error: String? = nil) -> Response {
        var target = path
        if let notice { target += (path.contains("?") ? "&" : "?") + "notice=" + notice.code }
        var response = Response(status: .seeOther, headers: [.location: target])
        if let error { response.headers[SessionMiddleware.flashHeader] = Secrets.base64URL(Data(error.prefix(2000).utf8)) }
        return response
    }

    /// The content security policy of every answer: nothing from elsewhere, no inline script or
    /// style, no `<base>`, no plugins, no framing, forms only to this site.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

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
    /// A form's work against the API: its own answer when it succeeds; otherwise the failure is
    /// logged and the visitor goes back to `back` with it (the service's refusal with the fields it
    /// named, an outage, or the console's own refusal of a value, which sent nothing). A session
    /// that ended is `SessionMiddleware`'s to end.
    static func attempt(orBackTo back: String, _ context: ConsoleContext, _ work: () async throws -> Response) async throws -> Response {
        do {
            return try await work()
        } catch let failure as Backend.Failure where failure.kind != .sessionEnded {
            failure.log("the form for \(back)", logger: context.logger)
            return redirect(back, error: failure.shown)
        }
    }
}

/// The notices a redirect may leave, by code: fixed texts, some naming a level or a priority (a
/// closed set), none carrying words from the address.
enum Notice: Equatable, Sendable {
    case signedOut, agentDeactivated, ruleCreated, ruleDeleted, vendorSaved, vendorReactivated, vendorDeactivated, webhookQueued
    case deadLetterQueued, claimed, commented, resolved, resolvedAndPublished, pending, handedOver, swarming, sentToVendor
    case voted, solved, filed, replied, confirmed, calendarSaved, saved, problemResolved, updatePosted
    case workModeRemoved, vipAdded, vipRemoved, signInSent, signedIn, requesterSignedOut, rated, mailQueued
    case queueEmpty(Tier)
    case escalated(Tier)
    case deescalated(Tier)
    case contractSaved(Tier)
    case slaSaved(Priority)
    case workMode(WorkMode)

    static let plain: [Notice] = [
        .signedOut, .agentDeactivated, .ruleCreated, .ruleDeleted, .vendorSaved, .vendorReactivated, .vendorDeactivated, .webhookQueued,
        .deadLetterQueued, .claimed, .commented, .resolved, .resolvedAndPublished, .pending, .handedOver, .swarming, .sentToVendor, .voted,
        .solved, .filed, .replied, .confirmed, .calendarSaved, .saved, .problemResolved, .updatePosted, .workModeRemoved, .vipAdded, .vipRemoved,
        .signInSent, .signedIn, .requesterSignedOut, .rated, .mailQueued,
    ]

    /// The code in the address: `saved`, `escalated-2`, `sla-saved-P5`.
    var code: String {
        switch self {
        case .queueEmpty(let tier): "queue-empty-\(tier.rawValue)"
        case .escalated(let tier): "escalated-\(tier.rawValue)"
        case .deescalated(let tier): "deescalated-\(tier.rawValue)"
        case .contractSaved(let tier): "contract-saved-\(tier.rawValue)"
        case .slaSaved(let priority): "sla-saved-\(priority.rawValue)"
        case .workMode(let mode): "work-mode-\(mode.rawValue)"
        default: String(describing: self).replacing(/[A-Z]/) { "-" + $0.output.lowercased() }
        }
    }

    /// The notice of a code; nil for any other text.
    init?(code: String) {
        if let plain = Self.plain.first(where: { $0.code == code }) {
            self = plain
            return
        }
        func tier(_ prefix: String) -> Tier? {
            code.hasPrefix(prefix) ? Int(code.dropFirst(prefix.count)).flatMap(Tier.init(rawValue:)) : nil
        }
        if let tier = tier("queue-empty-") {
            self = .queueEmpty(tier)
        } else if let tier = tier("escalated-") {
            self = .escalated(tier)
        } else if let tier = tier("deescalated-") {
            self = .deescalated(tier)
        } else if let tier = tier("contract-saved-") {
            self = .contractSaved(tier)
        } else if code.hasPrefix("sla-saved-"), let priority = Priority(rawValue: String(code.dropFirst("sla-saved-".count))) {
            self = .slaSaved(priority)
        } else if code.hasPrefix("work-mode-"), let mode = WorkMode(rawValue: String(code.dropFirst("work-mode-".count))) {
            self = .workMode(mode)
        } else {
            return nil
        }
    }

    /// What the page shows.
    var text: String {
        switch self {
        case .signedOut: "You are signed out."
        case .agentDeactivated: "Deactivated."
        case .ruleCreated: "The rule is created."
        case .ruleDeleted: "Rule deleted."
        case .vendorSaved: "Saved. A new contract sets the due times of cases opened from now on."
        case .vendorReactivated: "Reactivated: its API key works again."
        case .vendorDeactivated: "Deactivated: its API key stops working within seconds."
        case .webhookQueued: "The webhook is queued to be sent again."
        case .deadLetterQueued: "Queued to be delivered again."
        case .mailQueued: "The mail is queued to be sent again, with the same Message-ID."
        case .claimed: "The ticket is yours."
        case .commented: "Comment added."
        case .resolved: "Resolved."
        case .resolvedAndPublished: "Resolved, and the article is written: level 3's is published, levels 1 and 2 write a draft for level 3 to review."
        case .pending: "The ticket waits: its SLA clock is paused."
        case .handedOver: "Handed over."
        case .swarming: "They are in the swarm."
        case .sentToVendor: "Sent to the vendor."
        case .voted: "Thank you for telling us."
        case .solved: "Glad it helped. Nothing more to do."
        case .filed: "Your ticket is filed. This browser keeps it open for you; the link at the bottom of this page opens it in any other."
        case .replied: "Your reply is sent."
        case .confirmed: "Thank you: the ticket is closed."
        case .calendarSaved: "The calendar is saved."
        case .saved: "Saved."
        case .problemResolved: "The problem is resolved."
        case .updatePosted: "Update posted."
        case .workModeRemoved: "The category escalates again."
        case .vipAdded: "The VIP is added; it applies to the next ticket."
        case .vipRemoved: "Removed from the VIPs."
        case .signInSent: "If that address has filed tickets here, a sign-in link is on its way. It works once, for 15 minutes."
        case .signedIn: "You are signed in: here are all your tickets."
        case .requesterSignedOut: "You are signed out of your tickets."
        case .rated: "Thank you: your answer is saved. You can change it for 7 days."
        case .queueEmpty(let tier): "The level \(tier.rawValue) queue has nothing you can take."
        case .escalated(let tier): "The ticket went to \(Pages.level(tier))."
        case .deescalated(let tier): "The ticket went back to \(Pages.level(tier))."
        case .contractSaved(let tier): "Level \(tier.rawValue)'s contract is saved; it applies to the next escalation."
        case .slaSaved(let priority): "\(priority.rawValue) saved; queued tickets follow it from their next change."
        case .workMode(let mode): "The category now works in \(mode.rawValue) mode."
        }
    }
}
