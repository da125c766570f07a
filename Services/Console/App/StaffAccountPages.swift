import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Local accounts in the console: signing in with email, password and a TOTP code (tier-queue
/// checks them and mints the session's token, which is kept in the server-side session exactly as
/// a pasted token is); "My account" (change the password, set up TOTP, make, list and revoke
/// personal tokens); and the administrators' page of a person's account (a temporary password,
/// the second factor reset, unlock, their sessions and tokens revoked).
struct StaffAccountPages: Sendable {
    let backend: Backend
    let sessions: Sessions

    func addRoutes(to groups: RouteGroups) {
        groups.open.post("signin/password", use: signIn)
        let account = groups.open.group("account").add(
            middleware: RoleMiddleware(allowed: [.agent, .admin, .auditor], refusal: "Sign in as a member of staff first."))
        account.get(use: accountPage)
        account.post("password", use: changePassword)
        account.post("totp", use: startTOTP)
        account.post("totp/confirm", use: confirmTOTP)
        account.post("tokens", use: createToken)
        account.post("tokens/{tokenID}/revoke", use: revokeOwnToken)
        groups.admin.get("staff/{id}", use: personPage)
        groups.admin.post("staff/{id}/{action}", use: changePerson)
        groups.admin.post("staff/{id}/tokens/{tokenID}/revoke", use: revokeToken)
    }

    // MARK: Sign-in

    /// The sign-in form for people with a local account; `newPassword` adds the field a temporary
    /// password needs, `email` fills the address in again.
    static func passwordForm(_ context: ConsoleContext, email: String = "", newPassword: Bool = false) -> HTML {
        let choose: HTML =
            newPassword
            ? """
            <label for="signin-new-password">New password (at least 12 characters)</label>\
            <input type="password" id="signin-new-password" name="newPassword" required autocomplete="new-password" maxlength="200">
            """ : ""
        return """
            <form method="post" action="/signin/password" id="signin-password">\(Pages.csrf(context))
            <label for="signin-email">Email</label><input type="email" id="signin-email" name="email" required autocomplete="username" value="\(email)">
            <label for="signin-secret">Password</label><input type="password" id="signin-secret" name="password" required autocomplete="current-password" maxlength="200">
            <label for="signin-code">Code from your authenticator app (once you have set one up)</label>\
            <input type="text" id="signin-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="20">
            \(choose)<button type="submit" id="signin-password-button">Sign in</button></form>
            """
    }

    /// Asks tier-queue to check the email, password and code; with the session token it answers,
    /// starts a server-side session (in place of any earlier one) that ends no later than the token.
    @Sendable func signIn(request: Request, context: ConsoleContext) async throws -> Response {
        let form = context.form
        let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces)
        let input = SignInRequest(
            email: email, password: form["password"] ?? "", code: form["code"].flatMap { $0.isEmpty ? nil : $0 },
            newPassword: form["newPassword"].flatMap { $0.isEmpty ? nil : $0 })
        let answer: SignInResponse
        do {
            answer = try await backend.send(SignInResponse.self, .POST, .tierQueue, "/v1/sign-in", token: nil, body: input)
        } catch let failure as Backend.Failure {
            failure.log("sign-in with a password", logger: context.logger)
            let newPassword = failure.type?.hasSuffix("new-password-required") == true || input.newPassword != nil
            let message: String
            switch failure.status {
            case 401 where failure.type?.hasSuffix("code-required") == true:
                message = "Enter the code your authenticator app shows, with your password."
            case 401 where failure.type?.hasSuffix("new-password-required") == true:
                message = "That is a temporary password: enter it again and choose a new one."
            case 401: message = "The email, password or code is not accepted. After repeated failures an account is locked for a while."
            case 429: message = "Too many attempts from here: wait a minute and try again."
            default: message = failure.shown
            }
            return Pages.page("Sign in", context, error: message, Self.signInContent(context, email: email, newPassword: newPassword))
                .response(status: failure.status == 429 ? .tooManyRequests : .unauthorized)
        }
        let role = Session.role(of: answer.person.role)
        var response = Pages.redirect(AgentConsole.home(of: role))
        response.setCookie(
            try await sessions.startStaff(role: role, token: answer.token, replacing: context.sessionID, until: answer.expiresAt, logger: context.logger))
        return response
    }

    static func signInContent(_ context: ConsoleContext, email: String, newPassword: Bool) -> HTML {
        """
        <h1>Sign in</h1>\(passwordForm(context, email: email, newPassword: newPassword))
        <p><a href="/signin">Sign in with a token instead</a></p>
        """
    }

    // MARK: My account

    @Sendable func accountPage(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        return try await account(context, notice: notice, error: error)
    }

    /// The person's account: its password and second factor, and their live tokens and sessions.
    /// What was just made (a TOTP secret being set up, a personal token) is shown on the answer to
    /// the form that made it, once, never in an address.
    func account(_ context: ConsoleContext, notice: String? = nil, error: String? = nil, enrolment: TOTPEnrolment? = nil, made: PersonalToken? = nil)
        async throws -> Response
    {
        let token = context.session.token
        let me = try await backend.get(Agent.self, .tierQueue, "/v1/staff/me", token: token)
        let status = try await backend.get(StaffAccountStatus.self, .tierQueue, "/v1/me/account", token: token)
        let tokens = try await backend.get(Page<StaffTokenSummary>.self, .tierQueue, "/v1/me/tokens", token: token)
        var shown: HTML = ""
        if let made {
            shown = """
                <section id="made-token" aria-labelledby="made-token-title"><h2 id="made-token-title">Your new token “\(made.name)”</h2>
                <p>Shown this once: copy it into your script now. It rests only as a hash.</p><p><code id="made-token-value">\(made.token)</code></p></section>
                """
        }
        let totp: HTML
        if let enrolment {
            totp = """
                <section id="totp-enrolment"><p>Add this account to your authenticator app: type the secret in, or give it the address.</p>
                <p>Secret: <code id="totp-secret">\(enrolment.secret)</code></p><p>Address: <code id="totp-uri">\(enrolment.uri)</code></p>
                <form method="post" action="/account/totp/confirm" id="totp-confirm">\(Pages.csrf(context))
                <label for="totp-code">The code the app shows</label><input type="text" id="totp-code" name="code" inputmode="numeric" required maxlength="20">
                <button type="submit">Turn on</button></form></section>
                """
        } else if status.totpEnabled {
            totp = "<p id=\"totp-state\">On: signing in asks for the code your app shows.</p>"
        } else {
            totp = """
                <p id="totp-state">Off.</p><form method="post" action="/account/totp" id="totp-start">\(Pages.csrf(context))\
                <button type="submit">Set up an authenticator app</button></form>
                """
        }
        let scopes = TokenScope.allCases.filter(me.role.scopes.contains)
        return Pages.page(
            "My account", context, notice: notice, error: error,
            """
            <h1>My account</h1><p>\(me.name) · \(me.email) · \(Pages.words(me.role.rawValue))</p>\(shown)
            <h2>Password</h2>
            <form method="post" action="/account/password" id="change-password">\(Pages.csrf(context))
            \(status.hasPassword ? "<label for=\"current-password\">Current password</label><input type=\"password\" id=\"current-password\" name=\"currentPassword\" required autocomplete=\"current-password\" maxlength=\"200\">" as HTML : "")
            <label for="new-password">New password (at least 12 characters)</label><input type="password" id="new-password" name="newPassword" required autocomplete="new-password" maxlength="200">
            <button type="submit">\(status.hasPassword ? "Change" : "Set") password</button></form>
            <h2>Authenticator app</h2>\(totp)
            <h2>Sessions and tokens</h2>\(Self.tokenTable(tokens.items, context, revokeBase: "/account/tokens"))
            <form method="post" action="/account/tokens" id="new-token">\(Pages.csrf(context))<h3>New personal token</h3>
            <label for="token-name">Name</label><input type="text" id="token-name" name="name" required maxlength="100">
            <label for="token-scope">Scope</label><select id="token-scope" name="scope">\(Pages.options(scopes, selected: scopes.first))</select>
            <label for="token-days">Expires in (days)</label><input type="text" id="token-days" name="days" inputmode="numeric" required value="30">
            <button type="submit" id="create-token">Create</button></form>
            """
        ).response()
    }

    /// Live sessions and tokens, each with a form that revokes it under `revokeBase`.
    static func tokenTable(_ tokens: [StaffTokenSummary], _ context: ConsoleContext, revokeBase: String) -> HTML {
        let rows = tokens.map { token -> HTML in
            """
            <tr data-token="\(token.id)"><td>\(token.kind == .session ? "session" : token.name)\(token.current ? " (this one)" : "")</td>\
            <td>\(token.scope.rawValue)</td><td>\(token.createdAt)</td><td>\(token.expiresAt.map { date -> HTML in "\(date)" } ?? "never")</td>
            <td><form method="post" action="\(revokeBase)/\(token.id)/revoke" class="inline">\(Pages.csrf(context))<button type="submit">Revoke</button></form></td></tr>
            """
        }
        return """
            <table id="tokens"><thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Made</th><th scope="col">Ends</th>
            <th scope="col">Actions</th></tr></thead><tbody>\(tokens.isEmpty ? "<tr><td colspan=\"5\">None.</td></tr>" as HTML : HTML.join(rows))</tbody></table>
            """
    }

    @Sendable func changePassword(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/account", context) {
            let input = ChangePasswordRequest(currentPassword: context.form["currentPassword"], newPassword: context.form["newPassword"] ?? "")
            _ = try await backend.raw(.PUT, .tierQueue, "/v1/me/password", token: context.session.token, body: input)
            return Pages.redirect("/account", notice: .saved)
        }
    }

    @Sendable func startTOTP(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/account", context) {
            let enrolment = try await backend.send(TOTPEnrolment.self, .POST, .tierQueue, "/v1/me/totp", token: context.session.token, body: NoBody?.none)
            return try await account(context, enrolment: enrolment)
        }
    }

    @Sendable func confirmTOTP(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/account", context) {
            let input = ConfirmTOTPRequest(code: context.form["code"] ?? "")
            _ = try await backend.raw(.POST, .tierQueue, "/v1/me/totp/confirm", token: context.session.token, body: input)
            return Pages.redirect("/account", notice: .saved)
        }
    }

    @Sendable func createToken(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/account", context) {
            let days = try FormValue.number(context.form["days"], "The days until it expires", in: 1...3650) ?? 30
            let input = CreatePersonalTokenRequest(
                name: context.form["name"] ?? "", scope: try FormValue.choice(context.form["scope"], "The scope"),
                expiresAt: context.now.addingTimeInterval(Double(days) * 86_400))
            let made = try await backend.send(PersonalToken.self, .POST, .tierQueue, "/v1/me/tokens", token: context.session.token, body: input)
            return try await account(context, notice: "The token is made.", made: made)
        }
    }

    @Sendable func revokeOwnToken(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("tokenID", as: UUID.self) else { return Pages.redirect("/account") }
        return try await Pages.attempt(orBackTo: "/account", context) {
            _ = try await backend.raw(.DELETE, .tierQueue, "/v1/me/tokens/\(id)", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/account", notice: .revoked)
        }
    }

    // MARK: A person's account (administrators)

    @Sendable func personPage(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.redirect("/admin/agents") }
        let (notice, error) = Pages.notices(request, context)
        return try await person(id, context, notice: notice, error: error)
    }

    /// A person's local account and their live sessions and tokens; a temporary password just set is
    /// shown on the answer to the form that set it, once.
    func person(_ id: UUID, _ context: ConsoleContext, notice: String? = nil, error: String? = nil, temporary: TemporaryPassword? = nil) async throws
        -> Response
    {
        let token = context.session.token
        let person = try await backend.get(Agent.self, .tierQueue, "/v1/agents/\(id)", token: token)
        let status = try await backend.get(StaffAccountStatus.self, .tierQueue, "/v1/staff/\(id)/account", token: token)
        let tokens = try await backend.get(Page<StaffTokenSummary>.self, .tierQueue, "/v1/staff/\(id)/tokens", token: token)
        var shown: HTML = ""
        if let temporary {
            shown = """
                <section id="temporary-password" aria-labelledby="temporary-password-title"><h2 id="temporary-password-title">\(person.name)'s temporary password</h2>
                <p>Shown this once: give it to them in person or by phone. It signs in once, until \(temporary.expiresAt), and they choose a new password with it.</p>
                <p><code id="temporary-password-value">\(temporary.temporaryPassword)</code></p></section>
                """
        }
        func action(_ name: String, _ label: String, id formID: String) -> HTML {
            "<form method=\"post\" action=\"/admin/staff/\(id)/\(name)\" class=\"inline\" id=\"\(formID)\">\(Pages.csrf(context))<button type=\"submit\">\(label)</button></form>"
        }
        let lock: HTML = status.lockedUntil.map { "Locked until \($0). " } ?? ""
        return Pages.page(
            person.name, context, notice: notice, error: error,
            """
            <h1>\(person.name)</h1>\(AdminPages.menu)<p>\(person.email) · \(Pages.words(person.role.rawValue)) · \(person.active ? "active" : "deactivated")</p>\(shown)
            <h2>Local account</h2>
            <p id="account-state">\(status.hasPassword ? (status.temporaryPassword ? "A temporary password is set." : "Has a password.") : "No password.") \
            \(status.totpEnabled ? "Authenticator app on." : "No authenticator app.") \(lock)\(status.failures) failed attempts since the last success.</p>
            \(action("password", status.hasPassword ? "Reset the password" : "Set a temporary password", id: "reset-password"))
            \(status.totpEnabled ? action("totp", "Remove the authenticator app", id: "reset-totp") : "")
            \(status.lockedUntil != nil || status.failures > 0 ? action("unlock", "Unlock", id: "unlock") : "")
            <h2>Sessions and tokens</h2>\(Self.tokenTable(tokens.items, context, revokeBase: "/admin/staff/\(id)/tokens"))
            """
        ).response()
    }

    @Sendable func changePerson(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self), let action = context.parameters.get("action") else {
            return Pages.redirect("/admin/agents")
        }
        let back = "/admin/staff/\(id)"
        return try await Pages.attempt(orBackTo: back, context) {
            let token = context.session.token
            switch action {
            case "password":
                let temporary = try await backend.send(TemporaryPassword.self, .POST, .tierQueue, "/v1/staff/\(id)/password", token: token, body: NoBody?.none)
                return try await person(id, context, notice: "A temporary password is set; their sessions are ended.", temporary: temporary)
            case "totp":
                _ = try await backend.raw(.DELETE, .tierQueue, "/v1/staff/\(id)/totp", token: token, body: NoBody?.none)
            case "unlock":
                _ = try await backend.raw(.POST, .tierQueue, "/v1/staff/\(id)/unlock", token: token, body: NoBody?.none)
            default:
                return Pages.redirect(back)
            }
            return Pages.redirect(back, notice: .saved)
        }
    }

    @Sendable func revokeToken(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self), let tokenID = context.parameters.get("tokenID", as: UUID.self) else {
            return Pages.redirect("/admin/agents")
        }
        return try await Pages.attempt(orBackTo: "/admin/staff/\(id)", context) {
            _ = try await backend.raw(.DELETE, .tierQueue, "/v1/staff/\(id)/tokens/\(tokenID)", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/admin/staff/\(id)", notice: .revoked)
        }
    }
}
