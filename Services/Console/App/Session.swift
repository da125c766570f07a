import Crypto
import Foundation
import Hummingbird
import TierdeskKit

/// Who is signed in, by the token kept in the `td_token` cookie: agents, vendors and the admin
/// paste theirs once; a requester's comes from the ticket link. The console only holds it: every
/// API call carries it, so the API's own authorization decides what each page may show or do.
struct Session: Sendable {
    enum Role: String, Sendable {
        case agent, vendor, admin, requester
    }

    var token: String?

    var role: Role? {
        guard let token else { return nil }
        if token.hasPrefix("tda_") { return .agent }
        if token.hasPrefix("tdv_") { return .vendor }
        if token.hasPrefix("tdr_") { return .requester }
        return .admin
    }
}

/// The request context of the console: the session and, on a POST, the form it sent (already
/// checked against the CSRF token).
struct ConsoleContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var session = Session()
    /// The `_csrf` value this visitor's forms carry.
    var csrf = ""
    var form: [String: String] = [:]
    /// The socket peer (the gateway, behind one).
    let peer: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress
    }

    var maxUploadSize: Int { 1 << 20 }
}

/// Reads the cookies, gives a new visitor its CSRF cookie, and checks every POST: its form must
/// carry `_csrf`, an HMAC of the visitor's CSRF cookie under the server secret (403 otherwise). The
/// cookies are HttpOnly and SameSite=Strict (and Secure behind https), so another site can neither
/// read them nor send them.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let secret: String
    let secureCookies: Bool
    /// Whose X-Forwarded-For names the visitor (the gateway).
    let clientAddress: ClientAddress

    /// The visitor's address, which the console passes on to the services as X-Forwarded-For so
    /// their limits count each visitor, not the console (the services trust the console for it).
    @TaskLocal static var visitor: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let cookies = request.cookies
        context.session.token = cookies["td_token"]?.value.nilIfEmpty
        let visitor = cookies["td_csrf"]?.value.nilIfEmpty
        let csrfCookie = visitor ?? Secrets.base64URL(Secrets.randomBytes(32))
        context.csrf = Self.formToken(for: csrfCookie, secret: secret)
        if request.method == .post {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            request.body = RequestBody(buffer: body)
            context.form = Self.parseForm(String(buffer: body))
            guard let sent = context.form["_csrf"], visitor != nil, Secrets.equal(sent, context.csrf) else {
                return Pages.error(
                    status: .forbidden, title: "Forbidden",
                    detail: "This form is out of date or did not come from this site. Go back, reload the page and try again.")
            }
        }
        let address = clientAddress.of(request, peer: context.peer)
        var response = try await Self.$visitor.withValue(address) { try await next(request, context) }
        if visitor == nil { response.setCookie(cookie("td_csrf", csrfCookie)) }
        return response
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    static func formToken(for cookie: String, secret: String) -> String {
        Secrets.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data("console-csrf:\(cookie)".utf8), using: SymmetricKey(data: Data(secret.utf8)))))
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
