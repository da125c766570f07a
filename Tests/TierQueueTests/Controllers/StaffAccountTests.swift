import Configuration
import Foundation
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import TierQueueApp

/// Issue 26, items 2 and 4: local accounts (password, TOTP, lockout, an administrator's reset),
/// sessions and personal tokens, against the running tier-queue and real PostgreSQL.
@Suite struct StaffAccountTests {
    /// tier-queue on `clock`, with bcrypt at cost 4 (the rules are the same; the tests are faster).
    func withTierQueue(
        clock: ManualClock, _ environment: [String: String] = [:], _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(
                environment: ["TIERDESK_PASSWORD_BCRYPT_COST": "4", "TIERDESK_SIGN_IN_RATE_PER_MINUTE": "1000"].merging(environment) { $1 },
                { try await TierQueueApp.buildApplication(reader: $0, clock: clock) }
            ) { http in try await test(http, StoreFixture(client: client)) }
        }
    }

    /// A new staff person of `role` with a password of their own; the person and a session token.
    static func person(
        _ http: any TestClientProtocol, role: StaffRole = .agent, password: String = "correct horse battery", name: String = "Ada"
    ) async throws -> (person: Agent, session: String) {
        let email = "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com"
        let tiers = role == .agent || role == .lead ? [1] : []
        let person = try await http.send(
            .post, "/v1/agents", token: TestCredentials.adminToken, json: CreateAgentRequest(name: name, email: email, tiers: tiers, role: role)
        ).decode(Agent.self)
        let reset = try await http.send(.post, "/v1/staff/\(person.id)/password", token: TestCredentials.adminToken).decode(TemporaryPassword.self)
        let signedIn = try await http.send(
            .post, "/v1/sign-in", json: SignInRequest(email: email, password: reset.temporaryPassword, newPassword: password))
        #expect(signedIn.status == .ok, "\(String(buffer: signedIn.body))")
        return (person, try signedIn.decode(SignInResponse.self).token)
    }

    static func signIn(_ http: any TestClientProtocol, _ email: String, _ password: String, code: String? = nil) async throws -> TestResponse {
        try await http.send(.post, "/v1/sign-in", json: SignInRequest(email: email, password: password, code: code))
    }

    @Test(.freshDatabase) func wrongPasswordsLockTheAccountForAGrowingTime() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock) { http, db in
            let (ada, _) = try await Self.person(http)
            let right = "correct horse battery"
            #expect(try await Self.signIn(http, ada.email, right).status == .ok)
            let unknown = try await Self.signIn(http, "nobody@example.com", right)
            #expect(unknown.status == .unauthorized)
            let refusal = try unknown.problem()
            for attempt in 1...5 {
                let wrong = try await Self.signIn(http, ada.email, "wrong password \(attempt)")
                #expect(try wrong.status == .unauthorized && wrong.problem() == refusal, "the same answer as for an unknown email")
            }
            let locked = try await Self.signIn(http, ada.email, right)
            #expect(try locked.status == .unauthorized && locked.problem() == refusal, "locked: the right password is refused, and nothing says so")
            let status = try await http.send(.get, "/v1/staff/\(ada.id)/account", token: TestCredentials.adminToken).decode(StaffAccountStatus.self)
            #expect(status.lockedUntil.map { abs($0.timeIntervalSince(clock.now().addingTimeInterval(60))) < 1 } == true, "the first lockout: a minute")

            clock.advance(by: 61)
            #expect(try await Self.signIn(http, ada.email, right).status == .ok, "the lock ends when its time is up; success starts over")
            for attempt in 1...5 { _ = try await Self.signIn(http, ada.email, "wrong again \(attempt)") }
            clock.advance(by: 61)
            #expect(try await Self.signIn(http, ada.email, right).status == .ok, "after a success the next lockout is a minute again")
            // Two lockouts in a row: the second is twice as long.
            for attempt in 1...5 { _ = try await Self.signIn(http, ada.email, "wrong \(attempt)") }
            clock.advance(by: 61)
            for attempt in 1...5 { _ = try await Self.signIn(http, ada.email, "still wrong \(attempt)") }
            clock.advance(by: 61)
            #expect(try await Self.signIn(http, ada.email, right).status == .unauthorized, "the second lockout lasts two minutes")
            clock.advance(by: 60)
            #expect(try await Self.signIn(http, ada.email, right).status == .ok)

            // An administrator unlocks at once.
            for attempt in 1...5 { _ = try await Self.signIn(http, ada.email, "wrong \(attempt)") }
            #expect(try await Self.signIn(http, ada.email, right).status == .unauthorized)
            #expect(try await http.send(.post, "/v1/staff/\(ada.id)/unlock", token: TestCredentials.adminToken).status == .ok)
            #expect(try await Self.signIn(http, ada.email, right).status == .ok)

            // A deactivated person cannot sign in, with the same answer.
            _ = try await http.send(.patch, "/v1/agents/\(ada.id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(active: false))
            let deactivated = try await Self.signIn(http, ada.email, right)
            #expect(try deactivated.status == .unauthorized && deactivated.problem() == refusal)
            #expect(try await db.count("staff_credentials") == 1)
        }
    }

    /// An unknown email costs what a known one does: both run one bcrypt at the configured cost.
    @Test(.freshDatabase) func anUnknownEmailTakesAsLongAsAWrongPassword() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock, ["TIERDESK_PASSWORD_BCRYPT_COST": "10", "TIERDESK_SIGN_IN_MAX_FAILURES": "100"]) { http, _ in
            let (ada, _) = try await Self.person(http)
            func time(_ email: String) async throws -> Double {
                let start = ContinuousClock.now
                for _ in 0..<6 { #expect(try await Self.signIn(http, email, "wrong password").status == .unauthorized) }
                return (ContinuousClock.now - start).seconds / 6
            }
            _ = try await time(ada.email)
            let known = try await time(ada.email)
            let unknown = try await time("nobody-\(UUID())@example.com")
            print("sign-in refused in \(Int(known * 1000)) ms for a known email, \(Int(unknown * 1000)) ms for an unknown one (bcrypt cost 10)")
            #expect(unknown > known * 0.5 && unknown < known * 2, "known \(known) s, unknown \(unknown) s")
        }
    }

    /// Rows of the audit trail with `action` made by `person`.
    static func audited(_ action: String, by person: UUID, _ db: StoreFixture) async throws -> Int64? {
        try await db.client.first(
            "SELECT count(*) AS n FROM audit_events WHERE action = \(action) AND person_id = \(person)", logger: db.logger
        ) { try $0.get("n", as: Int64.self) }
    }

    @Test(.freshDatabase) func totpIsRequiredOnceEnrolledAndACodeIsTakenOnce() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_798_761_615))
        try await withTierQueue(clock: clock) { http, db in
            let right = "correct horse battery"
            let (ada, session) = try await Self.person(http)
            let enrolment = try await http.send(.post, "/v1/me/totp", token: session).decode(TOTPEnrolment.self)
            #expect(enrolment.uri.hasPrefix("otpauth://totp/Tierdesk:") && enrolment.uri.contains("secret=\(enrolment.secret)"))
            let secret = try #require(Base32.decode(enrolment.secret))
            func code(_ offset: TimeInterval = 0) -> String { OneTimeCodes.code(secret: secret, at: clock.now().addingTimeInterval(offset)) }
            // Not yet confirmed: the password alone still signs in.
            #expect(try await Self.signIn(http, ada.email, right).status == .ok)
            let wrongCode = code() == "000000" ? "111111" : "000000"
            let refused = try await http.send(.post, "/v1/me/totp/confirm", token: session, json: ConfirmTOTPRequest(code: wrongCode))
            #expect(refused.status == .unprocessableContent)
            #expect(try await Self.audited("agent.totp_enabled", by: ada.id, db) == 0, "a refused code records nothing")
            let confirmed = try await http.send(.post, "/v1/me/totp/confirm", token: session, json: ConfirmTOTPRequest(code: code()))
            #expect(try confirmed.decode(StaffAccountStatus.self).totpEnabled)
            #expect(try await Self.audited("agent.totp_enabled", by: ada.id, db) == 1, "the enrolment is in the audit trail")

            let missing = try await Self.signIn(http, ada.email, right)
            #expect(try missing.status == .unauthorized && missing.problem().type.hasSuffix("code-required"))
            #expect(try await Self.signIn(http, "nobody@example.com", right).problem().type.hasSuffix("sign-in-refused"))
            #expect(try await Self.signIn(http, ada.email, right, code: code()).status == .unauthorized, "the enrolment's code was spent")
            clock.advance(by: 30)
            #expect(try await Self.signIn(http, ada.email, right, code: wrongCode).status == .unauthorized)
            let signedIn = try await Self.signIn(http, ada.email, right, code: code())
            #expect(signedIn.status == .ok)
            #expect(try await Self.signIn(http, ada.email, right, code: code()).status == .unauthorized, "a code is taken once")
            #expect(try await Self.signIn(http, ada.email, right, code: code(30)).status == .ok, "the next step's code, 30 s early")
            clock.advance(by: 90)
            #expect(try await Self.signIn(http, ada.email, right, code: code(-60)).status == .unauthorized, "two steps old")
            // Wrong codes count toward the lockout: this stale code and four wrong ones lock the account.
            for _ in 0..<4 { _ = try await Self.signIn(http, ada.email, right, code: wrongCode) }
            #expect(try await Self.signIn(http, ada.email, right, code: code()).status == .unauthorized, "locked by wrong codes")
            #expect(try await http.send(.post, "/v1/staff/\(ada.id)/unlock", token: TestCredentials.adminToken).status == .ok)

            // The secret rests sealed: neither it nor the bcrypt hash is in the row in plain form.
            let row = try await db.client.first("SELECT r::text AS row FROM staff_credentials r", logger: db.logger) { try $0.get("row", as: String.self) }
            #expect(row?.contains("$2b$") == false && row?.contains(secret) == false)

            // An administrator's reset of the second factor ends the person's sessions.
            let fresh = try signedIn.decode(SignInResponse.self).token
            #expect(try await http.send(.get, "/v1/me/account", token: fresh).status == .ok)
            let reset = try await http.send(.delete, "/v1/staff/\(ada.id)/totp", token: TestCredentials.adminToken)
            #expect(try reset.decode(StaffAccountStatus.self).totpEnabled == false)
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/me/account", token: fresh).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/me/account", token: session).status == .unauthorized)
            #expect(try await Self.signIn(http, ada.email, right).status == .ok, "the password alone again")
        }
    }

    @Test(.freshDatabase) func sessionsEndAtTheirAbsoluteEndAtSignOutAndAtDeactivation() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock, ["TIERDESK_STAFF_SESSION_MAX_HOURS": "2"]) { http, _ in
            let right = "correct horse battery"
            let (ada, first) = try await Self.person(http)
            let second = try await Self.signIn(http, ada.email, right).decode(SignInResponse.self)
            #expect(abs(second.expiresAt.timeIntervalSince(clock.now().addingTimeInterval(7200))) < 1, "the token ends at the session's absolute end")
            #expect(second.person.id == ada.id && second.person.role == .agent)
            let personal = try await http.send(
                .post, "/v1/me/tokens", token: first,
                json: CreatePersonalTokenRequest(name: "script", scope: .work, expiresAt: clock.now().addingTimeInterval(86_400))
            ).decode(PersonalToken.self)

            // Sign-out ends that session only; a personal token signing out is left alone.
            #expect(try await http.send(.post, "/v1/sign-out", token: second.token).status == .noContent)
            #expect(try await http.send(.post, "/v1/sign-out", token: personal.token).status == .noContent)
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/me/account", token: second.token).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/me/account", token: first).status == .ok)
            #expect(try await http.send(.get, "/v1/me/account", token: personal.token).status == .ok)

            // At its absolute end.
            clock.advance(by: 7200)
            #expect(try await http.send(.get, "/v1/me/account", token: first).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/me/account", token: personal.token).status == .ok)

            // Deactivation ends every session and token of the person within the cache lifetime.
            let third = try await Self.signIn(http, ada.email, right).decode(SignInResponse.self)
            #expect(try await http.send(.get, "/v1/me/account", token: third.token).status == .ok)
            _ = try await http.send(.patch, "/v1/agents/\(ada.id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(active: false))
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/me/account", token: third.token).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/me/account", token: personal.token).status == .unauthorized)
            // An administrator's password reset ends the sessions too (the person is active again).
            _ = try await http.send(.patch, "/v1/agents/\(ada.id)", token: TestCredentials.adminToken, json: UpdateAgentRequest(active: true))
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/me/account", token: third.token).status == .unauthorized, "a reactivation brings no session back")
            #expect(try await http.send(.get, "/v1/me/account", token: personal.token).status == .ok, "personal tokens do come back")
            let fourth = try await Self.signIn(http, ada.email, right).decode(SignInResponse.self)
            _ = try await http.send(.post, "/v1/staff/\(ada.id)/password", token: TestCredentials.adminToken)
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/me/account", token: fourth.token).status == .unauthorized)
            #expect(try await Self.signIn(http, ada.email, right).status == .unauthorized, "the old password is gone")
        }
    }

    @Test(.freshDatabase) func personalTokensAreNamedScopedExpiringListedAndRevoked() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock) { http, db in
            let (ada, session) = try await Self.person(http)
            let (bob, bobSession) = try await Self.person(http, name: "Bob")
            let (auditor, auditorSession) = try await Self.person(http, role: .auditor, name: "Audra")
            let day = clock.now().addingTimeInterval(86_400)
            func create(_ token: String, _ scope: TokenScope, _ expiresAt: Date, name: String = "nightly export") async throws -> TestResponse {
                try await http.send(.post, "/v1/me/tokens", token: token, json: CreatePersonalTokenRequest(name: name, scope: scope, expiresAt: expiresAt))
            }
            // Never above the role, always expiring, at most a year away.
            for (token, scope) in [(session, TokenScope.admin), (auditorSession, .work), (auditorSession, .admin)] {
                let refused = try await create(token, scope, day)
                #expect(try refused.status == .unprocessableContent && refused.problem().errors?.map(\.field) == ["scope"])
            }
            #expect(try await create(session, .read, clock.now()).status == .unprocessableContent)
            #expect(try await create(session, .read, clock.now().addingTimeInterval(366 * 86_400)).status == .unprocessableContent)
            #expect(try await create(session, .read, day, name: "").status == .unprocessableContent)
            let noExpiry = try await http.send(.post, "/v1/me/tokens", token: session, raw: #"{"name":"x","scope":"read"}"#)
            #expect(try noExpiry.status == .unprocessableContent && noExpiry.problem().errors?.map(\.field) == ["expiresAt"])

            let read = try await create(session, .read, day).decode(PersonalToken.self)
            #expect(read.token.hasPrefix("tda_") && read.scope == .read)
            #expect(try await create(auditorSession, .read, day).status == .created)
            // A read token reads and cannot POST.
            #expect(try await http.send(.get, "/v1/me/tokens", token: read.token).status == .ok)
            #expect(try await create(read.token, .read, day).status == .forbidden)
            #expect(try await http.send(.post, "/v1/sign-out", token: read.token).status == .forbidden)

            // Listed without a secret or a hash; the caller's own is marked.
            let listed = try await http.send(.get, "/v1/me/tokens", token: session)
            let body = String(buffer: listed.body)
            let page = try listed.decode(Page<StaffTokenSummary>.self)
            #expect(Set(page.items.map(\.kind)) == [.personal, .session])
            #expect(page.items.filter(\.current).map(\.kind) == [.session])
            #expect(page.items.contains { $0.id == read.id && $0.name == "nightly export" && $0.scope == .read })
            #expect(!body.contains("tda_") && !body.lowercased().contains("hash"))
            #expect(!body.contains(Secrets.hash(read.token).map { String(format: "%02x", $0) }.joined()))

            // One person neither lists nor revokes another's.
            #expect(try await http.send(.get, "/v1/staff/\(ada.id)/tokens", token: bobSession).status == .forbidden)
            #expect(try await http.send(.delete, "/v1/me/tokens/\(read.id)", token: bobSession).status == .notFound)
            #expect(try await http.send(.get, "/v1/me/tokens", token: read.token).status == .ok, "still works")
            _ = bob
            _ = auditor

            // Administrators list anyone's and revoke any.
            let adminView = try await http.send(.get, "/v1/staff/\(ada.id)/tokens", token: TestCredentials.adminToken).decode(Page<StaffTokenSummary>.self)
            #expect(Set(adminView.items.map(\.id)) == Set(page.items.map(\.id)) && adminView.items.allSatisfy { !$0.current })
            #expect(try await http.send(.delete, "/v1/staff/\(ada.id)/tokens/\(read.id)", token: TestCredentials.adminToken).status == .noContent)
            #expect(try await http.send(.delete, "/v1/staff/\(ada.id)/tokens/\(read.id)", token: TestCredentials.adminToken).status == .notFound)
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/me/tokens", token: read.token).status == .unauthorized)

            // The owner revokes their own; one past its expiry is 401.
            let work = try await create(session, .work, clock.now().addingTimeInterval(3600)).decode(PersonalToken.self)
            let other = try await create(session, .work, day).decode(PersonalToken.self)
            #expect(try await http.send(.delete, "/v1/me/tokens/\(other.id)", token: session).status == .noContent)
            #expect(try await Self.audited("staff_token.revoked", by: ada.id, db) == 1, "revoking one's own token is in the audit trail")
            #expect(try await http.send(.get, "/v1/me/tokens", token: work.token).status == .ok)
            clock.advance(by: 3600)
            #expect(try await http.send(.get, "/v1/me/tokens", token: work.token).status == .unauthorized, "past its expiry")
            #expect(try await http.send(.get, "/v1/me/tokens", token: other.token).status == .unauthorized, "revoked")
        }
    }

    @Test(.freshDatabase) func passwordsAreChangedKnowingTheOldOneAndTemporaryOnesWorkOnce() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock) { http, _ in
            let (ada, session) = try await Self.person(http)
            let change = { (current: String?, new: String) in
                try await http.send(.put, "/v1/me/password", token: session, json: ChangePasswordRequest(currentPassword: current, newPassword: new))
            }
            #expect(try await http.send(.post, "/v1/staff/\(ada.id)/password", token: session).status == .forbidden, "administrators only")
            #expect(try await change(nil, "a brand new passphrase").status == .unprocessableContent)
            #expect(try await change("wrong password!", "a brand new passphrase").status == .unprocessableContent)
            #expect(try await change("correct horse battery", "short").status == .unprocessableContent)
            #expect(try await change("correct horse battery", "a brand new passphrase").status == .ok)
            #expect(try await Self.signIn(http, ada.email, "correct horse battery").status == .unauthorized)
            #expect(try await Self.signIn(http, ada.email, "a brand new passphrase").status == .ok)

            // A temporary password signs in once, with a new password; alone it is refused without counting.
            let reset = try await http.send(.post, "/v1/staff/\(ada.id)/password", token: TestCredentials.adminToken).decode(TemporaryPassword.self)
            let alone = try await Self.signIn(http, ada.email, reset.temporaryPassword)
            #expect(try alone.status == .unauthorized && alone.problem().type.hasSuffix("new-password-required"))
            let same = try await http.send(
                .post, "/v1/sign-in", json: SignInRequest(email: ada.email, password: reset.temporaryPassword, newPassword: reset.temporaryPassword))
            #expect(same.status == .unprocessableContent)
            let signedIn = try await http.send(
                .post, "/v1/sign-in", json: SignInRequest(email: ada.email, password: reset.temporaryPassword, newPassword: "chosen after reset"))
            #expect(signedIn.status == .ok)
            #expect(try await Self.signIn(http, ada.email, reset.temporaryPassword).status == .unauthorized, "used once")
            #expect(try await Self.signIn(http, ada.email, "chosen after reset").status == .ok)
            // A temporary password expires unused.
            let late = try await http.send(.post, "/v1/staff/\(ada.id)/password", token: TestCredentials.adminToken).decode(TemporaryPassword.self)
            clock.advance(by: 3 * 86_400 + 1)
            let expired = try await http.send(
                .post, "/v1/sign-in", json: SignInRequest(email: ada.email, password: late.temporaryPassword, newPassword: "chosen too late"))
            #expect(expired.status == .unauthorized)
            #expect(try await http.send(.post, "/v1/staff/\(UUID())/password", token: TestCredentials.adminToken).status == .notFound)
        }
    }

    @Test(.freshDatabase) func signInIsLimitedPerAddress() async throws {
        let clock = ManualClock(Date())
        try await withTierQueue(clock: clock, ["TIERDESK_SIGN_IN_RATE_PER_MINUTE": "3"]) { http, _ in
            for _ in 0..<3 { #expect(try await Self.signIn(http, "nobody@example.com", "whatever").status == .unauthorized) }
            let limited = try await Self.signIn(http, "nobody@example.com", "whatever")
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
            #expect(try await http.send(.post, "/v1/sign-in", raw: "{").status == .tooManyRequests, "counted before the body is read")
        }
    }
}
