import Configuration
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Synchronization
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Issue 26, item 1: the ID token checks, with keys made here (the end-to-end suite,
/// `SingleSignOnTests`, signs in through a real provider).
@Suite struct IDTokenVerifierTests {
    static let issuer = "https://id.example.com"
    static let clientID = "tierdesk"
    static let nonce = "n-0123456789"
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The claims a test signs; defaults make a token the verifier accepts.
    struct Claims: JWTPayload {
        var iss = IDTokenVerifierTests.issuer
        var sub = "u-42"
        var aud: [String] = [IDTokenVerifierTests.clientID]
        var exp: Int
        var iat: Int
        var nbf: Int?
        var nonce: String? = IDTokenVerifierTests.nonce
        var azp: String?
        var email = "ada@example.com"
        var emailVerified = true
        var groups = ["helpdesk-l2"]

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, iat, nbf, nonce, azp, email, groups
            case emailVerified = "email_verified"
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func claims(_ change: (inout Claims) -> Void = { _ in }) -> Claims {
        var claims = Claims(exp: Int(now.timeIntervalSince1970) + 3600, iat: Int(now.timeIntervalSince1970) - 5)
        change(&claims)
        return claims
    }

    let key = ES256PrivateKey()
    let otherKey = ES256PrivateKey()

    /// The provider's key set: the public half of `key` under the kid `k1`.
    var keys: JWKS {
        let parameters = key.publicKey.parameters!
        return JWKS(keys: [JWK.ecdsa(nil, identifier: "k1", x: parameters.x, y: parameters.y, curve: .p256)])
    }

    func sign(_ claims: Claims, with key: ES256PrivateKey? = nil, kid: String = "k1") async throws -> String {
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key ?? self.key, kid: JWKIdentifier(string: kid))
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid))
    }

    var verifier: IDTokenVerifier { IDTokenVerifier(issuer: Self.issuer, clientID: Self.clientID, algorithms: ["ES256", "RS256", "HS256"]) }

    func verify(_ token: String, nonce: String = IDTokenVerifierTests.nonce) async throws(IDTokenError) -> IDTokenClaims {
        try await verifier.verify(token, keys: keys, nonceHash: Secrets.hash(nonce), now: now)
    }

    func refusal(_ token: String, nonce: String = IDTokenVerifierTests.nonce) async -> IDTokenError? {
        do {
            _ = try await verify(token, nonce: nonce)
            return nil
        } catch {
            return error
        }
    }

    @Test func aGoodTokenGivesItsClaims() async throws {
        let verified = try await verify(try await sign(claims()))
        #expect(verified.sub.value == "u-42" && verified.iss.value == Self.issuer)
        #expect(verified.string("email") == "ada@example.com" && verified.bool("email_verified") && verified.strings("groups") == ["helpdesk-l2"])
    }

    @Test func aTamperedTokenIsRefused() async throws {
        let token = try await sign(claims())
        let parts = token.split(separator: ".").map(String.init)
        // Another payload (admin's groups) under the first one's signature.
        let forged = try await sign(claims { $0.groups = ["helpdesk-admins"] }).split(separator: ".").map(String.init)
        #expect(await refusal([parts[0], forged[1], parts[2]].joined(separator: ".")) == .badSignature)
        // One character of the signature changed.
        var signature = Array(parts[2])
        signature[10] = signature[10] == "A" ? "B" : "A"
        #expect(await refusal([parts[0], parts[1], String(signature)].joined(separator: ".")) == .badSignature)
        // Signed by another key under the provider's kid.
        #expect(await refusal(try await sign(claims(), with: otherKey)) == .badSignature)
    }

    @Test func anExpiredTokenIsRefusedPastTheClockSkew() async throws {
        let expired = Int(now.timeIntervalSince1970) - 61
        #expect(await refusal(try await sign(claims { $0.exp = expired })) == .expired(Date(timeIntervalSince1970: Double(expired))))
        // Within a minute of skew it still passes.
        _ = try await verify(try await sign(claims { $0.exp = Int(now.timeIntervalSince1970) - 50 }))
        let future = Int(now.timeIntervalSince1970) + 120
        #expect(await refusal(try await sign(claims { $0.iat = future })) == .issuedInTheFuture(Date(timeIntervalSince1970: Double(future))))
        let old = Int(now.timeIntervalSince1970) - 3600
        #expect(await refusal(try await sign(claims { $0.iat = old })) == .tooOld(Date(timeIntervalSince1970: Double(old))))
        let notYet = Int(now.timeIntervalSince1970) + 600
        #expect(await refusal(try await sign(claims { $0.nbf = notYet })) == .notYetValid(Date(timeIntervalSince1970: Double(notYet))))
    }

    @Test func aTokenForAnotherAudienceIsRefused() async throws {
        #expect(await refusal(try await sign(claims { $0.aud = ["another-app"] })) == .wrongAudience(["another-app"]))
        // Several audiences need azp naming this client.
        #expect(await refusal(try await sign(claims { $0.aud = [Self.clientID, "another-app"] })) == .wrongAuthorizedParty(nil))
        let forAnother = try await sign(
            claims {
                $0.aud = [Self.clientID, "another-app"]
                $0.azp = "another-app"
            })
        #expect(await refusal(forAnother) == .wrongAuthorizedParty("another-app"))
        let forUs = try await sign(
            claims {
                $0.aud = [Self.clientID, "another-app"]
                $0.azp = Self.clientID
            })
        _ = try await verify(forUs)
    }

    @Test func aTokenFromAnotherIssuerIsRefused() async throws {
        #expect(await refusal(try await sign(claims { $0.iss = "https://evil.example.com" })) == .wrongIssuer("https://evil.example.com"))
    }

    @Test func aTokenOfAnotherSignInIsRefused() async throws {
        let token = try await sign(claims())
        #expect(await refusal(token, nonce: "another sign-in's nonce") == .wrongNonce)
        #expect(await refusal(try await sign(claims { $0.nonce = nil })) == .wrongNonce)
    }

    @Test func onlyTheProvidersAsymmetricKeysAreTaken() async throws {
        // HS256 (as if signed with the public key as its secret: the classic confusion) is refused before any key is used.
        let hmac = JWTKeyCollection()
        await hmac.add(hmac: HMACKey(from: Data(repeating: 7, count: 32)), digestAlgorithm: .sha256, kid: "k1")
        #expect(await refusal(try await hmac.sign(claims(), kid: "k1")) == .algorithmRefused("HS256"))
        let header = Secrets.base64URL(Data(#"{"alg":"none","kid":"k1"}"#.utf8))
        let payload = try await sign(claims()).split(separator: ".")[1]
        #expect(await refusal("\(header).\(payload).") == .algorithmRefused("none"))
        #expect(await refusal(try await sign(claims(), kid: "k2")) == .unknownKey("k2"))
        #expect(await refusal("not.a-token") == .malformed("not three base64url parts"))
    }
}

/// Issue 26, item 1: the provider's key set is cached, fetched again when a token names a key it
/// lacks (at most every 10 s) and when the hour is up. The documents come from a small server the
/// test controls, so that it can rotate the keys (the end-to-end suite uses a real provider).
@Suite struct OIDCProviderKeyCacheTests {
    final class Documents: Sendable {
        let keys = Mutex<[ES256PrivateKey]>([])
        let port = Mutex(0)
        let keyFetches = Mutex(0)

        var issuer: String { "http://127.0.0.1:\(port.withLock { $0 })" }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get(".well-known/openid-configuration") { _, _ -> Response in
                let body = """
                    {"issuer": "\(self.issuer)", "authorization_endpoint": "\(self.issuer)/authorize", "token_endpoint": "\(self.issuer)/token",
                     "jwks_uri": "\(self.issuer)/jwks", "id_token_signing_alg_values_supported": ["ES256"]}
                    """
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            router.get("jwks") { _, _ -> Response in
                self.keyFetches.withLock { $0 += 1 }
                let keys = self.keys.withLock { $0 }.enumerated().map { index, key in
                    JWK.ecdsa(nil, identifier: JWKIdentifier(string: "k\(index)"), x: key.parameters!.x, y: key.parameters!.y, curve: .p256)
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(data: try JSONEncoder().encode(JWKS(keys: keys)))))
            }
            return router
        }
    }

    @Test func anUnknownKeyFetchesTheKeySetAgainAtMostEveryTenSeconds() async throws {
        let documents = Documents()
        let first = ES256PrivateKey()
        let second = ES256PrivateKey()
        documents.keys.withLock { $0 = [first] }
        let clock = ManualClock(Date())
        try await Application(router: documents.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            documents.port.withLock { $0 = client.port! }
            let settings = OIDCSettings(
                issuer: documents.issuer, clientID: "tierdesk", clientSecret: "s", scopes: ["openid"], emailClaim: "email", nameClaim: "name",
                groupsClaim: "groups", groups: try GroupMapping.parse("a=admin").get(), createStaff: true, displayName: "Test",
                publicURL: "http://console.test", internalToken: String(repeating: "i", count: 20))
            let provider = OIDCProvider(settings: settings, clock: clock)
            func token(_ key: ES256PrivateKey, kid: String) async throws -> String {
                let now = Int(clock.now().timeIntervalSince1970)
                let claims = IDTokenVerifierTests.Claims(iss: documents.issuer, exp: now + 3600, iat: now)
                let collection = JWTKeyCollection()
                await collection.add(ecdsa: key, kid: JWKIdentifier(string: kid))
                return try await collection.sign(claims, kid: JWKIdentifier(string: kid))
            }
            let logger = TestDatabase.logger
            let nonce = Secrets.hash(IDTokenVerifierTests.nonce)
            _ = try await provider.verify(try await token(first, kid: "k0"), nonceHash: nonce, logger: logger)
            _ = try await provider.verify(try await token(first, kid: "k0"), nonceHash: nonce, logger: logger)
            #expect(documents.keyFetches.withLock { $0 } == 1, "the key set is cached")

            // The provider adds a key: the first token naming it fetches the set again (the last fetch
            // being more than 10 s ago).
            documents.keys.withLock { $0 = [first, second] }
            clock.advance(by: 11)
            _ = try await provider.verify(try await token(second, kid: "k1"), nonceHash: nonce, logger: logger)
            #expect(documents.keyFetches.withLock { $0 } == 2)
            // A kid the provider does not have: refused; a flood of them does not flood the provider.
            for _ in 0..<3 {
                await #expect(throws: IDTokenError.unknownKey("k9")) {
                    try await provider.verify(try await token(second, kid: "k9"), nonceHash: nonce, logger: logger)
                }
            }
            #expect(documents.keyFetches.withLock { $0 } == 2, "at most one fetch in 10 s")
            clock.advance(by: 11)
            await #expect(throws: IDTokenError.unknownKey("k9")) {
                try await provider.verify(try await token(second, kid: "k9"), nonceHash: nonce, logger: logger)
            }
            #expect(documents.keyFetches.withLock { $0 } == 3)
            clock.advance(by: 3600)
            _ = try await provider.verify(try await token(second, kid: "k1"), nonceHash: nonce, logger: logger)
            #expect(documents.keyFetches.withLock { $0 } == 4, "an hour later the set is fetched again")
        }
    }
}

/// Issue 26, item 1: `TIERDESK_OIDC_GROUPS` and the other settings, parsed or refused with the setting's name.
@Suite struct OIDCSettingsTests {
    @Test func theGroupMappingGivesTheStrongestRoleWithItsLevels() throws {
        let mapping = try GroupMapping.parse(
            "helpdesk-l1=agent:1, helpdesk-l2=agent:2,helpdesk-leads=lead:1+2,helpdesk-admins=admin,helpdesk-audit=auditor"
        ).get()
        #expect(mapping.grant(for: ["helpdesk-l2"]) == StaffGrant(role: .agent, tiers: [.backOffice]))
        #expect(mapping.grant(for: ["helpdesk-l1", "helpdesk-l2", "staff"]) == StaffGrant(role: .agent, tiers: [.firstLine, .backOffice]))
        #expect(mapping.grant(for: ["helpdesk-leads", "helpdesk-l2"]) == StaffGrant(role: .lead, tiers: [.firstLine, .backOffice]))
        #expect(mapping.grant(for: ["helpdesk-audit", "helpdesk-admins", "helpdesk-l1"]) == StaffGrant(role: .admin, tiers: []))
        #expect(mapping.grant(for: ["helpdesk-audit", "helpdesk-l1"]) == StaffGrant(role: .agent, tiers: [.firstLine]))
        #expect(mapping.grant(for: ["helpdesk-audit"]) == StaffGrant(role: .auditor, tiers: []))
        #expect(mapping.grant(for: ["everyone"]) == nil && mapping.grant(for: []) == nil)
    }

    @Test func aBadMappingIsRefusedWithItsEntry() {
        for (text, problem) in [
            ("", "must map at least one group, e.g. helpdesk-l1=agent:1,helpdesk-admins=admin"),
            ("helpdesk", "'helpdesk': must be group=role[:levels]"),
            ("=admin", "'=admin': must be group=role[:levels]"),
            ("a=boss", "'a=boss': the role must be agent, lead, admin or auditor"),
            ("a=agent", "'a=agent': agent needs its levels, e.g. a=agent:1"),
            ("a=lead:", "'a=lead:': levels are 1, 2 or 3 joined by +, e.g. agent:1+2"),
            ("a=agent:4", "'a=agent:4': levels are 1, 2 or 3 joined by +, e.g. agent:1+2"),
            ("a=agent:1,2", "'2': must be group=role[:levels]"),
            ("a=admin:1", "'a=admin:1': admin has no levels: write a=admin"),
            ("a=admin,a=auditor", "'a=auditor': maps the group 'a' a second time"),
        ] {
            #expect(throws: GroupMapping.Failure.self) { try GroupMapping.parse(text).get() }
            if case .failure(let failure) = GroupMapping.parse(text) { #expect(failure.description == problem, "\(text)") }
        }
    }

    @Test func aBadSettingStopsStartUpWithItsName() throws {
        func read(_ environment: [String: String]) throws(ConfigurationError) -> OIDCSettings? {
            try OIDCSettings.read(ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
        }
        #expect(try read([:]) == nil, "no issuer: no single sign-on")
        let good = [
            "TIERDESK_OIDC_ISSUER": "https://id.example.com", "TIERDESK_OIDC_CLIENT_ID": "tierdesk", "TIERDESK_OIDC_CLIENT_SECRET": "s3cret",
            "TIERDESK_OIDC_GROUPS": "helpdesk-l2=agent:2", "TIERDESK_INTERNAL_TOKEN": String(repeating: "i", count: 20),
        ]
        let settings = try #require(try read(good))
        #expect(settings.scopes == ["openid", "email", "profile", "groups"] && settings.createStaff && settings.groupsClaim == "groups")
        #expect(settings.redirectURI == "http://127.0.0.1:8084/signin/oidc/callback" && settings.displayName == "id.example.com")
        for (change, named) in [
            (["TIERDESK_OIDC_GROUPS": "helpdesk-l2=agent"], "TIERDESK_OIDC_GROUPS 'helpdesk-l2=agent': agent needs its levels, e.g. helpdesk-l2=agent:1"),
            (["TIERDESK_OIDC_GROUPS": ""], "TIERDESK_OIDC_GROUPS must map at least one group, e.g. helpdesk-l1=agent:1,helpdesk-admins=admin"),
            (["TIERDESK_OIDC_SCOPES": "email profile"], "TIERDESK_OIDC_SCOPES must contain openid (space-separated scopes)"),
            (["TIERDESK_OIDC_CLIENT_SECRET": ""], "TIERDESK_OIDC_CLIENT_SECRET (or TIERDESK_OIDC_CLIENT_SECRET_FILE) is required with TIERDESK_OIDC_ISSUER"),
            (
                ["TIERDESK_OIDC_CLIENT_SECRET": "", "TIERDESK_OIDC_CLIENT_SECRET_FILE": "/nonexistent"],
                "TIERDESK_OIDC_CLIENT_SECRET_FILE names a file that cannot be read: '/nonexistent'"
            ),
            (["TIERDESK_OIDC_CREATE_STAFF": "yes"], "TIERDESK_OIDC_CREATE_STAFF must be true or false, not 'yes'"),
            (["TIERDESK_OIDC_ISSUER": "id.example.com"], "TIERDESK_OIDC_ISSUER must be the provider's http(s) issuer URL, not 'id.example.com'"),
            (["TIERDESK_OIDC_CLIENT_ID": ""], "TIERDESK_OIDC_CLIENT_ID is required"),
            (["TIERDESK_INTERNAL_TOKEN": ""], "TIERDESK_INTERNAL_TOKEN is required (or TIERDESK_INTERNAL_TOKEN_FILE)"),
        ] {
            #expect(throws: ConfigurationError.self) { try read(good.merging(change) { _, new in new }) }
            do {
                _ = try read(good.merging(change) { _, new in new })
            } catch {
                #expect(error.description == named)
            }
        }
    }
}
