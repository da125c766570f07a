import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// What local sign-in and the account routes refuse, each with a stable problem `type`.
enum StaffAccountError: Error, Equatable, ProblemConvertible {
    /// Unknown email, no password, wrong password or code, locked or deactivated: one answer for
    /// all, so it tells nobody whether an email has an account.
    case signInRefused
    /// The password was right and the account has TOTP: its code is needed (this does not count as a failure).
    case codeRequired
    /// The password is a temporary one: it signs in only together with a new password.
    case newPasswordRequired
    case wrongCurrentPassword
    case codeRefused
    case noEnrolment
    case tokenNotFound
    case personNotFound
    case invalid(field: String, message: String)

    var problem: Problem {
        switch self {
        case .signInRefused:
            Problem(
                type: Problem.typeBase + "sign-in-refused", title: "Unauthorized", status: 401,
                detail: "the email, password or code is not accepted (after repeated failures an account is locked for a while)")
        case .codeRequired:
            Problem(type: Problem.typeBase + "code-required", title: "Unauthorized", status: 401, detail: "enter the code your authenticator app shows")
        case .newPasswordRequired:
            Problem(
                type: Problem.typeBase + "new-password-required", title: "Unauthorized", status: 401,
                detail: "this is a temporary password: choose a new one to sign in")
        case .wrongCurrentPassword: .validation([FieldError(field: "currentPassword", message: "is not your current password")])
        case .codeRefused: .validation([FieldError(field: "code", message: "is not the code the app shows now, or was used already")])
        case .noEnrolment: .conflict("no TOTP enrolment is under way: start one first", type: "no-enrolment")
        case .tokenNotFound: .notFound("token")
        case .personNotFound: .notFound("person")
        case .invalid(let field, let message): .validation([FieldError(field: field, message: message)])
        }
    }
}

/// Local accounts, sessions and tokens: sign-in with email, password and (once enrolled) a TOTP
/// code; sign-out; a person's own password, second factor and tokens; and the administrators'
/// resets, unlocks and revocations. A reset of someone's password or second factor ends their
/// sessions in the same transaction; every token stops working on every replica within the auth
/// cache's 5 s.
struct StaffAccountController: Sendable {
    let deps: TierQueueDependencies
    /// Sign-in attempts per client address, per replica.
    let attempts: RateLimiter
    let tokens = StaffTokenStore()

    init(deps: TierQueueDependencies) {
        self.deps = deps
        attempts = RateLimiter(perMinute: deps.configuration.accounts.signInPerMinute)
    }

    var settings: LocalAccountSettings { deps.configuration.accounts }
    var credentials: StaffCredentialStore { deps.credentials }

    func personID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw StaffAccountError.personNotFound }
        return id
    }

    /// The calling person, any staff role; 403 for anyone else.
    func me(_ context: AppRequestContext) throws -> UUID {
        guard let id = try context.authenticated().personID else { throw Problem.forbidden("this needs a staff member's token") }
        return id
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("v1/sign-in") { request, context in
            try attempts.take("sign-in:\(deps.runtime.configuration.clientAddress.limitKey(request, context))")
            let input = try await request.decodeJSON(SignInRequest.self, context: context)
            try input.validate()
            return JSONResponse(try await signIn(input, logger: context.logger))
        }
        /// Ends the session whose token the call carries (the console's sign-out ends it at tier-queue
        /// too); a personal token is left alone.
        router.post("v1/sign-out") { request, context in
            let person = try me(context)
            guard let token = AuthMiddleware.bearerToken(request) else { throw Problem.unauthorized }
            _ = try await tokens.endSession(hash: Secrets.hash(token), personID: person, on: deps.runtime.postgres, now: now, logger: context.logger)
            return Response(status: .noContent)
        }
        router.get("v1/me/account") { _, context in
            JSONResponse(try await status(of: try me(context), logger: context.logger))
        }
        router.put("v1/me/password") { request, context in
            let person = try me(context)
            let input = try await request.decodeJSON(ChangePasswordRequest.self, context: context)
            try await changePassword(person, input, by: try AuditActor(context), logger: context.logger)
            return JSONResponse(try await status(of: person, logger: context.logger))
        }
        router.post("v1/me/totp") { _, context in
            let person = try me(context)
            let secret = OneTimeCodes.newSecret()
            let email = try await deps.agents.find(person, on: deps.runtime.postgres, logger: context.logger)?.email ?? "\(person)"
            try await credentials.startEnrolment(person, secret: secret, on: deps.runtime.postgres, now: now, logger: context.logger)
            return JSONResponse(TOTPEnrolment(secret: OneTimeCodes.typedSecret(secret: secret), uri: OneTimeCodes.uri(secret: secret, account: email)))
        }
        router.post("v1/me/totp/confirm") { request, context in
            let person = try me(context)
            let input = try await request.decodeJSON(ConfirmTOTPRequest.self, context: context)
            guard OneTimeCodes.isWellFormed(input.code) else { throw StaffAccountError.codeRefused }
            guard let pending = try await credentials.find(person, on: deps.runtime.postgres, logger: context.logger)?.pendingSecret else {
                throw StaffAccountError.noEnrolment
            }
            guard let step = OneTimeCodes.acceptedStep(input.code, secret: pending, now: now, lastUsed: nil) else { throw StaffAccountError.codeRefused }
            let (credentials, actor, now) = (credentials, try AuditActor(context), now)
            let confirmed = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("agent.totp_enabled", .agent, id: "\(person)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await credentials.confirmEnrolment(person, secret: pending, step: step, on: connection, now: now, logger: context.logger)
                }
            }
            guard confirmed else { throw StaffAccountError.noEnrolment }
            return JSONResponse(try await status(of: person, logger: context.logger))
        }
        router.get("v1/me/tokens") { request, context in
            let person = try me(context)
            let current = AuthMiddleware.bearerToken(request).map(Secrets.hash)
            return JSONResponse(
                try await tokens.live(of: person, current: current, now: now, on: deps.runtime.postgres, logger: context.logger))
        }
        router.post("v1/me/tokens") { request, context in
            let person = try me(context)
            let input = try await request.decodeJSON(CreatePersonalTokenRequest.self, context: context)
            return JSONResponse(try await createPersonalToken(person, input, by: try AuditActor(context), logger: context.logger), status: .created)
        }
        router.delete("v1/me/tokens/{tokenID}") { _, context in
            let person = try me(context)
            try await revoke(person, context: context)
            return Response(status: .noContent)
        }

        // Administrators: anyone's account, sessions and tokens.
        router.get("v1/staff/{id}/account") { _, context in
            _ = try context.requireAdmin()
            return JSONResponse(try await status(of: try existing(personID(context), logger: context.logger), logger: context.logger))
        }
        /// A temporary password, shown once: it signs in once, together with a new password; the
        /// person's sessions end.
        router.post("v1/staff/{id}/password") { _, context in
            _ = try context.requireAdmin()
            let person = try await existing(personID(context), logger: context.logger)
            let temporary = Passwords.temporary()
            let hash = try await Passwords.hash(temporary, cost: settings.bcryptCost)
            let expiresAt = now.addingTimeInterval(Self.temporaryPasswordLifetime)
            try await recordedChange("agent.password_reset", of: person, by: try AuditActor(context), logger: context.logger) { connection, now in
                try await credentials.setPassword(person, hash: hash, temporary: true, expiresAt: expiresAt, on: connection, now: now, logger: context.logger)
                try await tokens.endSessions(of: person, on: connection, now: now, logger: context.logger)
            }
            context.logger.notice("a staff member's password was reset", metadata: ["person.id": "\(person)"])
            return JSONResponse(TemporaryPassword(personId: person, temporaryPassword: temporary, expiresAt: expiresAt))
        }
        /// Removes the person's second factor (they enrol again); their sessions end.
        router.delete("v1/staff/{id}/totp") { _, context in
            _ = try context.requireAdmin()
            let person = try await existing(personID(context), logger: context.logger)
            try await recordedChange("agent.totp_removed", of: person, by: try AuditActor(context), logger: context.logger) { connection, now in
                try await credentials.resetTOTP(person, on: connection, now: now, logger: context.logger)
                try await tokens.endSessions(of: person, on: connection, now: now, logger: context.logger)
            }
            return JSONResponse(try await status(of: person, logger: context.logger))
        }
        router.post("v1/staff/{id}/unlock") { _, context in
            _ = try context.requireAdmin()
            let person = try await existing(personID(context), logger: context.logger)
            try await recordedChange("agent.unlocked", of: person, by: try AuditActor(context), logger: context.logger) { connection, now in
                try await credentials.unlock(person, on: connection, now: now, logger: context.logger)
            }
            return JSONResponse(try await status(of: person, logger: context.logger))
        }
        router.get("v1/staff/{id}/tokens") { _, context in
            _ = try context.requireAdmin()
            let person = try await existing(personID(context), logger: context.logger)
            return JSONResponse(try await tokens.live(of: person, current: nil, now: now, on: deps.runtime.postgres, logger: context.logger))
        }
        router.delete("v1/staff/{id}/tokens/{tokenID}") { _, context in
            _ = try context.requireAdmin()
            try await revoke(try personID(context), context: context)
            return Response(status: .noContent)
        }
    }

    /// A temporary password works for three days.
    static let temporaryPasswordLifetime: TimeInterval = 3 * 86_400

    var now: Date { deps.runtime.clock.now() }

    /// `id` when it is a staff person; 404 otherwise.
    func existing(_ id: UUID, logger: Logger) async throws -> UUID {
        guard try await deps.agents.find(id, on: deps.runtime.postgres, logger: logger) != nil else { throw StaffAccountError.personNotFound }
        return id
    }

    /// Revokes the token `{tokenID}` of `person`, recorded in the audit trail; 404 when they hold no such live token.
    func revoke(_ person: UUID, context: AppRequestContext) async throws {
        guard let tokenID = context.parameters.get("tokenID", as: UUID.self) else { throw StaffAccountError.tokenNotFound }
        let (tokens, actor, now) = (tokens, try AuditActor(context), now)
        let revoked = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
            try await AuditTrail.change("staff_token.revoked", .staffToken, id: "\(tokenID)", by: actor, on: connection, now: now, logger: context.logger) {
                try await tokens.revoke(id: tokenID, personID: person, on: connection, now: now, logger: context.logger)
            }
        }
        guard revoked else { throw StaffAccountError.tokenNotFound }
    }

    /// A person's account as they and the administrators see it.
    func status(of person: UUID, logger: Logger) async throws -> StaffAccountStatus {
        let found = try await credentials.find(person, on: deps.runtime.postgres, logger: logger)
        return StaffAccountStatus(
            personId: person, hasPassword: found?.passwordHash != nil, temporaryPassword: found?.temporary ?? false,
            totpEnabled: found?.totpSecret != nil, failures: found?.failures ?? 0,
            lockedUntil: found.flatMap { $0.locked(at: now) ? $0.lockedUntil : nil })
    }

    /// Checks email, password and code (see `StaffAccountError.signInRefused`), counts failures
    /// toward the lockout, and mints a session token good until the session's absolute end.
    func signIn(_ input: SignInRequest, logger: Logger) async throws -> SignInResponse {
        let now = self.now
        let postgres = deps.runtime.postgres
        let id = try await deps.agents.id(email: input.email.trimmingCharacters(in: .whitespaces), on: postgres, logger: logger)
        let person = try await id.asyncMap { try await deps.agents.find($0, on: postgres, logger: logger) } ?? nil
        let found = try await id.asyncMap { try await credentials.find($0, on: postgres, logger: logger) } ?? nil
        guard let person, person.active, let found, let hash = found.passwordHash, !found.locked(at: now),
            !(found.temporary && (found.passwordExpiresAt ?? now) <= now)
        else {
            try await Passwords.spendTime(input.password, cost: settings.bcryptCost)
            throw StaffAccountError.signInRefused
        }
        guard try await Passwords.verify(input.password, hash: hash) else {
            try await fail(person.id, logger: logger)
        }
        var step: Int64?
        if let secret = found.totpSecret {
            guard let code = input.code?.nilIfBlank else { throw StaffAccountError.codeRequired }
            guard let accepted = OneTimeCodes.acceptedStep(code, secret: secret, now: now, lastUsed: found.lastStep) else {
                try await fail(person.id, logger: logger)
            }
            step = accepted
        }
        var newHash: String?
        if found.temporary {
            guard let newPassword = input.newPassword?.nilIfBlank else { throw StaffAccountError.newPasswordRequired }
            if let problem = Passwords.problem(newPassword) { throw StaffAccountError.invalid(field: "newPassword", message: problem) }
            if newPassword == input.password { throw StaffAccountError.invalid(field: "newPassword", message: "must not be the temporary password") }
            newHash = try await Passwords.hash(newPassword, cost: settings.bcryptCost)
        }
        let expiresAt = now.addingTimeInterval(settings.sessionLifetime)
        let scope = person.role.widestScope
        let token = try await postgres.transaction(logger: logger) { connection in
            // A concurrent sign-in that spent the same code first wins; this one is refused.
            guard try await credentials.recordSuccess(person.id, step: step, on: connection, now: now, logger: logger) else {
                throw StaffAccountError.signInRefused
            }
            if let newHash {
                try await credentials.setPassword(person.id, hash: newHash, temporary: false, expiresAt: nil, on: connection, now: now, logger: logger)
            }
            return try await tokens.issue(
                personID: person.id, kind: .session, name: "signed in", scope: scope, expiresAt: expiresAt, on: connection, now: now, logger: logger)
        }
        logger.info("a staff member signed in with a password", metadata: ["person.id": "\(person.id)"])
        return SignInResponse(token: token, expiresAt: expiresAt, person: person)
    }

    /// Counts a failure toward the lockout and refuses the sign-in.
    func fail(_ person: UUID, logger: Logger) async throws -> Never {
        if let until = try await credentials.recordFailure(person, on: deps.runtime.postgres, now: now, logger: logger) {
            logger.notice("a staff account is locked after repeated failures", metadata: ["person.id": "\(person)", "until": "\(RFC3339.format(until))"])
        }
        throw StaffAccountError.signInRefused
    }

    /// The person's own new password: the current one is required when they have one. Their other
    /// sessions stay (the console's session is the one changing it).
    func changePassword(_ person: UUID, _ input: ChangePasswordRequest, by actor: AuditActor, logger: Logger) async throws {
        if let problem = Passwords.problem(input.newPassword) { throw StaffAccountError.invalid(field: "newPassword", message: problem) }
        let found = try await credentials.find(person, on: deps.runtime.postgres, logger: logger)
        if let hash = found?.passwordHash {
            guard let current = input.currentPassword, try await Passwords.verify(current, hash: hash) else {
                throw StaffAccountError.wrongCurrentPassword
            }
        }
        let (hash, credentials) = (try await Passwords.hash(input.newPassword, cost: settings.bcryptCost), credentials)
        try await recordedChange("agent.password_changed", of: person, by: actor, logger: logger) { connection, now in
            try await credentials.setPassword(person, hash: hash, temporary: false, expiresAt: nil, on: connection, now: now, logger: logger)
        }
    }

    /// A change to `person`'s credentials, run with the clock's now in one transaction with its row
    /// in the audit trail (recorded on the person: no secret column is ever copied).
    func recordedChange(
        _ action: String, of person: UUID, by actor: AuditActor, logger: Logger, _ change: (PostgresConnection, Date) async throws -> Void
    ) async throws {
        let now = now
        try await deps.runtime.postgres.transaction(logger: logger) { connection in
            try await AuditTrail.set(action, .agent, id: "\(person)", by: actor, on: connection, now: now, logger: logger) {
                try await change(connection, now)
            }
        }
    }

    /// A named personal token of a scope the person's role allows, expiring within the setting's
    /// maximum; its secret is in this answer only.
    func createPersonalToken(_ person: UUID, _ input: CreatePersonalTokenRequest, by actor: AuditActor, logger: Logger) async throws -> PersonalToken {
        var v = Validation()
        v.text(input.name, field: "name", maxLength: 100)
        let role = try await deps.agents.find(person, on: deps.runtime.postgres, logger: logger)?.role
        if let role, !role.scopes.contains(input.scope) {
            let allowed = TokenScope.allCases.filter(role.scopes.contains).map(\.rawValue).joined(separator: ", ")
            v.fail("scope", "must be \(allowed) for a person of role \(role.rawValue)")
        }
        let latest = now.addingTimeInterval(Double(settings.personalTokenMaxDays) * 86_400)
        if input.expiresAt <= now || input.expiresAt > latest {
            v.fail("expiresAt", "must be in the future and at most \(settings.personalTokenMaxDays) days away")
        }
        try v.check()
        let (tokens, now) = (tokens, now)
        return try await deps.runtime.postgres.transaction(logger: logger) { connection in
            let token = try await tokens.issue(
                personID: person, kind: .personal, name: input.name, scope: input.scope, expiresAt: input.expiresAt, on: connection, now: now, logger: logger)
            guard let id = try await tokens.id(of: token, on: connection, logger: logger) else { throw StaffAccountError.tokenNotFound }
            try await AuditTrail.record("staff_token.created", .staffToken, id: "\(id)", before: nil, by: actor, on: connection, now: now, logger: logger)
            return PersonalToken(id: id, name: input.name, scope: input.scope, expiresAt: input.expiresAt, token: token)
        }
    }
}

extension String {
    /// The text, or nil when it is empty or only spaces.
    fileprivate var nilIfBlank: String? { trimmingCharacters(in: .whitespaces).isEmpty ? nil : self }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
