import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Staff sign-in through the company's OpenID provider: the authorization code flow with PKCE
/// (S256), a state and a nonce kept server-side for one use and bound to the browser, the code
/// exchanged with the client secret, the ID token verified (`IDTokenVerifier`), and then tier-queue
/// (which owns the staff) links, creates or updates the person from the token's groups and mints
/// a session token, which the console keeps sealed in its session like a pasted one.
struct SingleSignOn: Sendable {
    let provider: OIDCProvider
    let backend: Backend
    let sessions: Sessions
    let signIns: SignInStore

    /// A sign-in at the provider must come back within this long.
    static let lifetime: TimeInterval = 600

    /// The cookie that binds a sign-in under way to the browser that began it. SameSite=Lax: the
    /// provider's redirect back is a cross-site navigation, on which Strict cookies are not sent.
    var browserCookie: String { sessions.name("td_oidc") }

    func addRoutes(to groups: RouteGroups) {
        groups.open.get("signin/oidc", use: start)
        groups.open.get("signin/oidc/callback", use: callback)
    }

    /// The sign-in page's offer: a link that starts single sign-on (a GET: the form-action policy
    /// would stop a form's redirect to the provider).
    func offer() -> HTML {
        """
        <p><a class="button" href="/signin/oidc" id="signin-oidc">Sign in with \(provider.settings.displayName)</a></p>
        <p>Or paste a token:</p>
        """
    }

    /// Begins a sign-in: a new state, nonce and PKCE verifier, stored (hashed, the verifier sealed) for
    /// ten minutes; the browser gets a binding cookie and goes to the provider's authorization endpoint.
    @Sendable func start(request: Request, context: ConsoleContext) async throws -> Response {
        let state = Secrets.base64URL(Secrets.randomBytes(32))
        let nonce = Secrets.base64URL(Secrets.randomBytes(32))
        let verifier = Secrets.base64URL(Secrets.randomBytes(32))
        let browser = Secrets.base64URL(Secrets.randomBytes(32))
        let target: String
        do {
            target = try await provider.authorizationURL(state: state, nonce: nonce, verifier: verifier, logger: context.logger)
            try await signIns.create(
                state: state, browser: browser, nonce: nonce, verifier: verifier, now: context.now, lifetime: Self.lifetime, logger: context.logger)
        } catch {
            context.logger.error("single sign-on cannot start", metadata: ["error": "\(String(reflecting: error))"])
            return refused(
                context, status: .serviceUnavailable, "Signing in with \(provider.settings.displayName) is not available right now; try again shortly.")
        }
        var response = Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"])
        response.setCookie(
            Cookie(name: browserCookie, value: browser, maxAge: Int(Self.lifetime), path: "/", secure: sessions.secure, httpOnly: true, sameSite: .lax))
        return response
    }

    /// The provider's redirect back: the sign-in of `state` is taken (once), checked against this
    /// browser's cookie, the code exchanged, the ID token verified, and tier-queue asked for the person.
    /// Every refusal shows the sign-in page with why, with nothing signed in (and the flow spent).
    @Sendable func callback(request: Request, context: ConsoleContext) async throws -> Response {
        let query = request.uri.queryParameters
        if let error = query["error"] {
            // The provider refused (a wrong password, a disabled account, the person said no); some
            // providers send no state with it. The sign-in under way, if named, is spent.
            if let state = query["state"].map(String.init), !state.isEmpty {
                do {
                    _ = try await signIns.take(state: state, now: context.now, logger: context.logger)
                } catch {
                    context.logger.error("single sign-on: the sign-in cannot be read", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            let code = String(error.prefix(64).filter { $0.isASCII && ($0.isLetter || $0 == "_") })
            context.logger.notice("single sign-on: the provider refused", metadata: ["oidc.error": "\(code)"])
            var response = refused(context, status: .forbidden, "\(provider.settings.displayName) did not sign you in (\(code)).")
            response.setCookie(sessions.clearing(browserCookie))
            return response
        }
        guard let state = query["state"].map(String.init), !state.isEmpty else {
            return refused(context, status: .badRequest, "This sign-in did not come back from \(provider.settings.displayName) as it should. Start again.")
        }
        let pending: SignInStore.Pending?
        do {
            pending = try await signIns.take(state: state, now: context.now, logger: context.logger)
        } catch {
            context.logger.error("single sign-on: the sign-in cannot be read", metadata: ["error": "\(String(reflecting: error))"])
            return refused(context, status: .serviceUnavailable, "Sign-in is not available right now; try again shortly.")
        }
        var response = try await finish(pending, request: request, context: context)
        response.setCookie(sessions.clearing(browserCookie))
        return response
    }

    func finish(_ pending: SignInStore.Pending?, request: Request, context: ConsoleContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let pending else {
            context.logger.notice("single sign-on: an unknown, used or expired state came back")
            return refused(context, status: .badRequest, "This sign-in was already used or has expired. Start again.")
        }
        guard let browser = request.cookies[browserCookie]?.value, Secrets.hash(browser) == pending.browserHash else {
            context.logger.notice("single sign-on: the state came back to another browser than the one that began it")
            return refused(context, status: .badRequest, "This sign-in was begun in another browser or window. Start again here.")
        }
        guard let code = query["code"].map(String.init), !code.isEmpty else {
            return refused(context, status: .badRequest, "This sign-in came back without its code. Start again.")
        }
        let idToken: String
        let claims: IDTokenClaims
        do {
            idToken = try await provider.exchange(code: code, verifier: pending.verifier, logger: context.logger)
            claims = try await provider.verify(idToken, nonceHash: pending.nonceHash, logger: context.logger)
        } catch let error as IDTokenError {
            context.logger.warning("single sign-on: the ID token is refused", metadata: ["error": "\(error.description)"])
            return refused(context, status: .forbidden, "The answer of \(provider.settings.displayName) could not be verified, so you are not signed in.")
        } catch {
            context.logger.error("single sign-on: the provider cannot be used", metadata: ["error": "\(String(reflecting: error))"])
            return refused(context, status: .badGateway, "\(provider.settings.displayName) cannot be reached right now; try again shortly.")
        }
        let settings = provider.settings
        let groups = claims.strings(settings.groupsClaim)
        let grant = settings.groups.grant(for: groups)
        let sessionEnd = context.now.addingTimeInterval(sessions.staff.absolute)
        let signIn = StaffSignInRequest(
            issuer: claims.iss.value, subject: claims.sub.value, email: claims.string(settings.emailClaim), emailVerified: claims.bool("email_verified"),
            name: claims.string(settings.nameClaim).map { String($0.prefix(200)) }, role: grant?.role, tiers: grant?.tiers.map(\.rawValue) ?? [],
            createStaff: settings.createStaff,
            sessionExpiresAt: sessionEnd)
        let person: StaffSignInResponse
        do {
            person = try await backend.send(
                StaffSignInResponse.self, .POST, .tierQueue, "/internal/v1/staff-sign-ins", token: settings.internalToken, body: signIn)
        } catch let failure as Backend.Failure {
            failure.log("single sign-on: tier-queue's staff sign-in", logger: context.logger)
            switch failure.status {
            case 403, 409, 422: return refused(context, status: .forbidden, failure.message)
            default: return refused(context, status: .serviceUnavailable, failure.shown)
            }
        }
        context.logger.info(
            "single sign-on: signed in", metadata: ["staff.id": "\(person.id)", "staff.role": "\(person.role.rawValue)", "oidc.sub": "\(claims.sub.value)"])
        let landing = AgentConsole.home(of: Session.role(of: person.role))
        var response = HTML(
            """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=\(landing)">
            <title>Signed in · Tierdesk</title><link rel="stylesheet" href="/static/console.css"></head>
            <body><main id="main"><h1>Signed in</h1><p>Welcome, \(person.name). <a href="\(landing)" id="continue">Continue</a></p></main></body></html>
            """
        ).response()
        // A page of this site leads on, not the redirect: the provider's navigation was cross-site, so
        // the session's SameSite=Strict cookie would not go with a redirect at its end.
        response.setCookie(
            try await sessions.startStaff(
                role: Session.role(of: person.role), token: person.token, idToken: idToken, replacing: context.sessionID, logger: context.logger))
        return response
    }

    /// The sign-in page with why this sign-in was refused (shown here, not after a redirect: at the
    /// end of the provider's cross-site navigation the flash cookie would not come back).
    func refused(_ context: ConsoleContext, status: HTTPResponse.Status, _ message: String) -> Response {
        Pages.page("Sign in", context, error: message, AgentConsole.signInForm(context, offer: offer())).response(status: status)
    }

    /// Where a sign-out sends the browser next: the provider's end-session endpoint, where it offers
    /// one; nil when it does not (or cannot be reached: the Tierdesk session is over anyway, its token
    /// revoked by tier-queue's `POST /v1/sign-out` as any session token is).
    func endSessionURL(idToken: String, context: ConsoleContext) async -> String? {
        do {
            return try await provider.endSessionURL(idToken: idToken, logger: context.logger)
        } catch {
            context.logger.error("single sign-on: the provider's sign-out cannot be found", metadata: ["error": "\(String(reflecting: error))"])
            return nil
        }
    }
}

/// `console_sign_ins`: single sign-ons under way, each taken once by its callback.
struct SignInStore: Sendable {
    let client: PostgresClient
    /// The console's seal (`ConsoleKeys.sealPurpose`), for the PKCE verifier, bound to the state's hash.
    let sessions: SessionStore

    /// A sign-in as the callback takes it.
    struct Pending: Sendable {
        var browserHash: Data
        var nonceHash: Data
        var verifier: String
    }

    /// Stores a sign-in under way for `lifetime`.
    func create(state: String, browser: String, nonce: String, verifier: String, now: Date, lifetime: TimeInterval, logger: Logger) async throws {
        let stateHash = Secrets.hash(state)
        let sealed = try sessions.seal(verifier, idHash: stateHash)
        try await client.query(
            """
            INSERT INTO console_sign_ins (state_hash, browser_hash, nonce_hash, sealed_verifier, created_at, expires_at)
            VALUES (\(stateHash), \(Secrets.hash(browser)), \(Secrets.hash(nonce)), \(sealed), \(now), \(now.addingTimeInterval(lifetime)))
            """, logger: logger)
    }

    /// The sign-in of `state`, deleted as it is read (a second callback with it finds nothing); nil
    /// when there is none or it expired.
    func take(state: String, now: Date, logger: Logger) async throws -> Pending? {
        let stateHash = Secrets.hash(state)
        let rows = try await client.query(
            "DELETE FROM console_sign_ins WHERE state_hash = \(stateHash) RETURNING browser_hash, nonce_hash, sealed_verifier, expires_at",
            logger: logger)
        for try await (browserHash, nonceHash, sealed, expiresAt) in rows.decode((Data, Data, Data, Date).self) {
            guard expiresAt > now else { return nil }
            return Pending(browserHash: browserHash, nonceHash: nonceHash, verifier: try sessions.open(sealed, idHash: stateHash))
        }
        return nil
    }

    /// Removes up to 1,000 sign-ins past their expiry.
    func prune(now: Date, logger: Logger) async throws {
        try await client.query(
            "DELETE FROM console_sign_ins WHERE state_hash IN (SELECT state_hash FROM console_sign_ins WHERE expires_at <= \(now) LIMIT 1000)",
            logger: logger)
    }
}
