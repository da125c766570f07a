import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// Who is signed in as staff (an agent, a vendor or the admin, who pasted their token once): the
/// token comes from the server-side session the cookie names, never from the cookie itself. Every
/// API call carries it, so the API's own authorization decides what each page may show or do.
struct Session: Sendable {
    /// Team leads sign in as agents (their lead's rights are the API's); auditors read reports and the audit trail.
    enum Role: String, Sendable {
        case agent, vendor, admin, auditor, requester
    }

    var token: String?
    var role: Role?
    /// The provider's ID token of a session begun by single sign-on (its sign-out's `id_token_hint`).
    var idToken: String?

    /// The kind of caller a pasted token claims by its prefix (the service it belongs to then checks
    /// it): a staff person's (`tda_`, whose role tier-queue tells), a vendor's or a requester's; nil
    /// for anything else.
    static func role(of token: String) -> Role? {
        if token.hasPrefix("tda_") { return .agent }
        if token.hasPrefix("tdv_") { return .vendor }
        if token.hasPrefix("tdr_") || token.hasPrefix("tdp_") { return .requester }
        return nil
    }

    /// The console role of a staff person's role.
    static func role(of staff: StaffRole) -> Role {
        switch staff {
        case .agent, .lead: .agent
        case .admin: .admin
        case .auditor: .auditor
        }
    }

    /// Whether a requester's token is a signed-in requester's (all their tickets), not one ticket's link.
    static func isRequesterAccount(_ token: String) -> Bool { token.hasPrefix("tdp_") }
}

/// The request context of the console: the staff session, the requester's session (a ticket
/// link's, kept apart), and, on a POST, the form it sent (already checked against the CSRF token).
struct ConsoleContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var session = Session()
    /// The staff session's id (the cookie's value), for sign-out.
    var sessionID: String?
    /// The token of the ticket link this browser opened, and its ticket.
    var requesterToken: String?
    var requesterSessionID: String?
    /// The `_csrf` value this visitor's forms carry.
    var csrf = ""
    var form: [String: String] = [:]
    /// The error the previous answer left for this page (a signed, short-lived cookie; never the address).
    var flashError: String?
    /// The instant this request is served at (the injected clock, read once).
    var now = Date(timeIntervalSince1970: 0)
    /// The socket peer (the gateway, behind one).
    let peer: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }

    var maxUploadSize: Int { 1 << 20 }

    /// The token for a ticket's page: the link's, else the staff member's.
    var ticketToken: String? { requesterToken ?? session.token }
}

/// The console's cookies and sessions: names (`__Host-` prefixed and Secure unless cookies are
/// explicitly insecure, for plain http on localhost), lifetimes, and starting and ending sessions.
struct Sessions: Sendable {
    let store: SessionStore
    let clock: any WallClock
    let secure: Bool
    let staff: SessionLifetime
    let requester: SessionLifetime

    var staffCookie: String { name("td_session") }
    var requesterCookie: String { name("td_ticket") }
    var csrfCookie: String { name("td_csrf") }
    var flashCookie: String { name("td_flash") }

    func name(_ base: String) -> String { secure ? "__Host-" + base : base }

    /// A cookie only this site's pages send back (HttpOnly, SameSite=Strict, Path=/; Secure unless insecure).
    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    func clearing(_ name: String) -> Cookie { cookie(name, "", maxAge: 0) }

    /// A new staff session for a token its service accepted, in place of `replacing`; its cookie. It
    /// ends at `until` at the latest (a signed-in session token's own end); `idToken` is single
    /// sign-on's, kept sealed for the provider's sign-out.
    func startStaff(role: Session.Role, token: String, idToken: String? = nil, replacing: String?, until: Date? = nil, logger: Logger) async throws -> Cookie {
        if let replacing { try await store.delete(id: replacing, logger: logger) }
        let now = clock.now()
        var lifetime = staff
        if let until { lifetime.absolute = max(0, min(lifetime.absolute, until.timeIntervalSince(now))) }
        let id = try await store.create(role: role, token: token, idToken: idToken, ticketID: nil, lifetime: lifetime, now: now, logger: logger)
        return cookie(staffCookie, id, maxAge: Int(lifetime.absolute))
    }

    /// A new requester session for a token intake vouched for (a ticket's, or a signed-in requester's
    /// with no `ticketID`), in place of `replacing`; its cookie.
    func startRequester(token: String, ticketID: UUID?, replacing: String?, logger: Logger) async throws -> Cookie {
        if let replacing { try await store.delete(id: replacing, logger: logger) }
        let id = try await store.create(role: .requester, token: token, ticketID: ticketID, lifetime: requester, now: clock.now(), logger: logger)
        return cookie(requesterCookie, id, maxAge: Int(requester.absolute))
    }
}

/// Reads the sessions the cookies name, gives a new visitor its CSRF cookie, checks every POST, and
/// puts the security headers on every answer. A POST's form must carry `_csrf`: an HMAC of the
/// staff session's CSRF secret, else the requester session's, else (no session yet) of the
/// visitor's CSRF cookie under a key of the console's secret (403 otherwise).
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let sessions: Sessions
    /// The key of an anonymous visitor's CSRF tokens, and of the flash cookie's MAC.
    let csrfKey: Data
    let flashKey: Data
    /// Whose X-Forwarded-For names the visitor (the gateway).
    let clientAddress: ClientAddress

    init(sessions: Sessions, secret: String, clientAddress: ClientAddress) {
        self.sessions = sessions
        csrfKey = ConsoleKeys.key(ConsoleKeys.csrfPurpose, secret: secret)
        flashKey = ConsoleKeys.key(ConsoleKeys.flashPurpose, secret: secret)
        self.clientAddress = clientAddress
    }

    /// The visitor's address, which the console passes on to the services as X-Forwarded-For so
    /// their limits count each visitor, not the console (the services trust the console for it).
    @TaskLocal static var visitor: String?

    /// How a page asks for an error to be shown on the next one: `Pages.redirect(_:error:)` sets it,
    /// this middleware turns it into the signed flash cookie and never lets it out.
    static let flashHeader = HTTPField.Name("X-Tierdesk-Flash")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await serve(request, context: context, next: next)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        secure(&response)
        return response
    }

    func serve(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let cookies = request.cookies
        context.now = sessions.clock.now()
        var cleared: [String] = []
        var staffSecret: StoredSession?
        var requesterSecret: StoredSession?
        do {
            if let id = cookies[sessions.staffCookie]?.value.nilIfEmpty {
                if let found = try await sessions.store.find(id: id, idle: sessions.staff.idle, now: context.now, logger: context.logger),
                    found.role != .requester
                {
                    context.session = Session(token: found.token, role: found.role, idToken: found.idToken)
                    context.sessionID = id
                    staffSecret = found
                } else {
                    cleared.append(sessions.staffCookie)
                }
            }
            if let id = cookies[sessions.requesterCookie]?.value.nilIfEmpty {
                if let found = try await sessions.store.find(id: id, idle: sessions.requester.idle, now: context.now, logger: context.logger),
                    found.role == .requester
                {
                    context.requesterToken = found.token
                    context.requesterSessionID = id
                    requesterSecret = found
                } else {
                    cleared.append(sessions.requesterCookie)
                }
            }
        } catch {
            context.logger.error("console sessions cannot be read", metadata: ["error": "\(String(reflecting: error))"])
            return Pages.error(status: .serviceUnavailable, title: "Not available", detail: "Sign-in is not available right now; try again shortly.")
        }
        let visitor = cookies[sessions.csrfCookie]?.value.nilIfEmpty
        let visitorCookie = visitor ?? Secrets.base64URL(Secrets.randomBytes(32))
        context.csrf = staffSecret?.formToken ?? requesterSecret?.formToken ?? Self.formToken(for: visitorCookie, key: csrfKey)
        if let flash = cookies[sessions.flashCookie]?.value { context.flashError = readFlash(flash, now: context.now) }
        if request.method == .post {
            // A staff session that ended under an open page: say so, rather than "out of date".
            if cleared.contains(sessions.staffCookie) {
                var response = Pages.redirect("/signin", error: "Your session has ended (signed out, or unused too long). Sign in again.")
                finish(&response, cleared: cleared, visitor: visitor, visitorCookie: visitorCookie, context: context)
                return response
            }
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            request.body = RequestBody(buffer: body)
            context.form = Self.parseForm(String(buffer: body))
            let anonymous = staffSecret == nil && requesterSecret == nil
            guard let sent = context.form["_csrf"], !anonymous || visitor != nil, Secrets.equal(sent, context.csrf) else {
                return Pages.error(
                    status: .forbidden, title: "Forbidden",
                    detail: "This form is out of date or did not come from this site. Go back, reload the page and try again.")
            }
        }
        let address = clientAddress.of(request, peer: context.peer)
        let served = context
        var response: Response
        do {
            response = try await Self.$visitor.withValue(address) { try await next(request, served) }
        } catch let failure as Backend.Failure {
            response = try await answer(failure, request, context: served, cleared: &cleared)
        }
        // A page showed the flash error: it is spent.
        if context.flashError != nil, !(300..<400).contains(response.status.code), response.headers[.contentType]?.hasPrefix("text/html") == true,
            response.headers[Self.flashHeader] == nil
        {
            cleared.append(sessions.flashCookie)
        }
        finish(&response, cleared: cleared, visitor: visitor, visitorCookie: visitorCookie, context: context)
        return response
    }

    /// The answer to a failure no page caught. A 401 for the token of one of this browser's sessions
    /// ends that session (its row is deleted, its cookie cleared) and says so: staff go to sign in,
    /// a requester back to the ticket's page, which asks for the link again.
    func answer(_ failure: Backend.Failure, _ request: Request, context: Context, cleared: inout [String]) async throws -> Response {
        guard failure.kind == .sessionEnded, let hash = failure.tokenHash else { return Pages.failed(failure, request, context) }
        let data = Pages.wantsData(request)
        if let token = context.session.token, Secrets.hash(token) == hash, let id = context.sessionID {
            failure.log("the staff session", logger: context.logger)
            try await sessions.store.delete(id: id, logger: context.logger)
            cleared.append(sessions.staffCookie)
            return data ? Response(status: .unauthorized) : Pages.redirect("/signin", error: Backend.Failure.sessionEndedText)
        }
        if let token = context.requesterToken, Secrets.hash(token) == hash, let id = context.requesterSessionID {
            failure.log("the ticket's session", logger: context.logger)
            try await sessions.store.delete(id: id, logger: context.logger)
            cleared.append(sessions.requesterCookie)
            let parts = request.uri.path.split(separator: "/")
            let ticket = parts.count >= 2 && parts[0] == "t" ? "/t/\(parts[1])" : "/"
            return data
                ? Response(status: .unauthorized)
                : Pages.redirect(ticket, error: "This ticket's key no longer opens it (the help desk issued a new one). Open the newest link you were given.")
        }
        // A token no session of this browser holds (one being tried): a refusal like a 403.
        var refusal = failure
        refusal.tokenHash = nil
        return Pages.failed(refusal, request, context)
    }

    /// Turns a page's flash request into the signed cookie, clears ended sessions' cookies, and gives
    /// a new visitor its CSRF cookie.
    func finish(_ response: inout Response, cleared: [String], visitor: String?, visitorCookie: String, context: Context) {
        if let message = response.headers[Self.flashHeader] {
            response.headers[Self.flashHeader] = nil
            response.setCookie(sessions.cookie(sessions.flashCookie, signFlash(message, now: context.now), maxAge: 60))
        }
        // Only cookies this answer does not set anew.
        let setting = response.headers[values: .setCookie].map { String($0.prefix { $0 != "=" }) }
        for name in cleared where !setting.contains(name) { response.setCookie(sessions.clearing(name)) }
        if visitor == nil { response.setCookie(sessions.cookie(sessions.csrfCookie, visitorCookie)) }
    }

    /// Every answer, pages, fragments, JSON, files and errors alike: no sniffing, a content security
    /// policy that allows nothing from elsewhere, no inline script and no `<base>`, no referrer, and
    /// HSTS when the console is served over https (its cookies are Secure).
    func secure(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] = Pages.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[Self.flashHeader] = nil
        if sessions.secure { response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000" }
    }

    /// `base64url(message).expiry.mac`: text only this console wrote, for a minute.
    func signFlash(_ encoded: String, now: Date) -> String {
        let payload = "\(encoded).\(Int(now.timeIntervalSince1970) + 60)"
        return payload + "." + Secrets.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: flashKey))))
    }

    /// The message of a flash cookie whose MAC holds and which has not expired; nil otherwise.
    func readFlash(_ value: String, now: Date) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int(parts[1]), expiry >= Int(now.timeIntervalSince1970),
            let mac = Secrets.fromBase64URL(String(parts[2])),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: flashKey)),
            let text = Secrets.fromBase64URL(String(parts[0]))
        else { return nil }
        return String(decoding: text, as: UTF8.self)
    }

    /// An anonymous visitor's form token: an HMAC of its CSRF cookie.
    static func formToken(for cookie: String, key: Data) -> String {
        Secrets.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data("console-csrf:\(cookie)".utf8), using: SymmetricKey(data: key))))
    }

    /// `application/x-www-form-urlencoded` into fields (the last of a repeated name wins).
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String { String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first else { continue }
            fields[decode(name)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
