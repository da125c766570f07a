import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TierdeskKit

/// The OpenID provider as the console talks to it: its discovery document and key set (both
/// cached), the code exchange at its token endpoint, and the ID token's checks.
final class OIDCProvider: Sendable {
    /// What discovery (`/.well-known/openid-configuration`) says the console needs.
    struct Discovery: Decodable, Sendable {
        var issuer: String
        var authorizationEndpoint: String
        var tokenEndpoint: String
        var jwksURI: String
        var endSessionEndpoint: String?
        var idTokenSigningAlgValuesSupported: [String]?
        var tokenEndpointAuthMethodsSupported: [String]?

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
            case endSessionEndpoint = "end_session_endpoint"
            case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
            case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        }
    }

    /// The token endpoint's answer; only the ID token matters (the console calls no provider API).
    struct TokenAnswer: Decodable, Sendable {
        var idToken: String
        enum CodingKeys: String, CodingKey { case idToken = "id_token" }
    }

    /// The provider cannot be used: unreachable, or it answered what OpenID Connect does not allow.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let settings: OIDCSettings
    let clock: any WallClock
    /// Discovery is read again after this long; the key set too, and at once when a token names a key it lacks.
    static let cacheLifetime: TimeInterval = 3600
    /// An unknown `kid` fetches the key set again at most this often (a flood of forged kids does not flood the provider).
    static let refetchInterval: TimeInterval = 10

    private struct Cache {
        var discovery: (value: Discovery, at: Date)?
        var keys: (value: JWKS, at: Date)?
    }
    private let cache = Mutex(Cache())

    init(settings: OIDCSettings, clock: any WallClock) {
        self.settings = settings
        self.clock = clock
    }

    /// The discovery document, fetched when none is cached or it is older than `cacheLifetime`; its
    /// `issuer` must be the configured one exactly (OpenID Connect Discovery 4.3).
    func discovery(logger: Logger) async throws -> Discovery {
        let now = clock.now()
        if let cached = cache.withLock({ $0.discovery }), now.timeIntervalSince(cached.at) < Self.cacheLifetime { return cached.value }
        let base = settings.issuer.hasSuffix("/") ? String(settings.issuer.dropLast()) : settings.issuer
        let document = try await fetch(Discovery.self, base + "/.well-known/openid-configuration", logger: logger)
        guard document.issuer == settings.issuer else {
            throw Failure(description: "the provider's discovery names the issuer '\(document.issuer)', not TIERDESK_OIDC_ISSUER's '\(settings.issuer)'")
        }
        cache.withLock { $0.discovery = (document, now) }
        return document
    }

    /// The key set: cached, fetched again when older than `cacheLifetime` or when `refresh` (an
    /// unknown kid) and the last fetch is older than `refetchInterval`.
    func keys(refresh: Bool, logger: Logger) async throws -> JWKS {
        let now = clock.now()
        if let cached = cache.withLock({ $0.keys }) {
            let age = now.timeIntervalSince(cached.at)
            if age < Self.cacheLifetime && (!refresh || age < Self.refetchInterval) { return cached.value }
        }
        let keys = try await fetch(JWKS.self, try await discovery(logger: logger).jwksURI, logger: logger)
        cache.withLock { $0.keys = (keys, now) }
        return keys
    }

    /// Checks `token` against the key set, fetching it again once when the token names a key it lacks.
    func verify(_ token: String, nonceHash: Data, logger: Logger) async throws -> IDTokenClaims {
        let discovery = try await discovery(logger: logger)
        let verifier = IDTokenVerifier(issuer: settings.issuer, clientID: settings.clientID, algorithms: discovery.idTokenSigningAlgValuesSupported)
        let cached = try await keys(refresh: false, logger: logger)
        do {
            return try await verifier.verify(token, keys: cached, nonceHash: nonceHash, now: clock.now())
        } catch .unknownKey {
            // The provider may have rotated its keys since the set was cached.
            return try await verifier.verify(token, keys: try await keys(refresh: true, logger: logger), nonceHash: nonceHash, now: clock.now())
        }
    }

    /// Exchanges the authorization `code` (with its PKCE verifier) for the ID token at the token
    /// endpoint, authenticated with the client secret (HTTP Basic, or in the form where the provider
    /// only takes `client_secret_post`).
    func exchange(code: String, verifier: String, logger: Logger) async throws -> String {
        let discovery = try await discovery(logger: logger)
        var fields = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", settings.redirectURI), ("code_verifier", verifier),
        ]
        var request = HTTPClientRequest(url: discovery.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let methods = discovery.tokenEndpointAuthMethodsSupported ?? ["client_secret_basic"]
        if methods.contains("client_secret_basic") || !methods.contains("client_secret_post") {
            // RFC 6749 2.3.1: the id and secret are form-encoded before Basic.
            let credentials = Self.formEncode(settings.clientID) + ":" + Self.formEncode(settings.clientSecret)
            request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        } else {
            fields += [("client_id", settings.clientID), ("client_secret", settings.clientSecret)]
        }
        request.body = .bytes(ByteBuffer(string: fields.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")))
        return try await send(request, as: TokenAnswer.self, what: "token endpoint", logger: logger).idToken
    }

    /// The address the browser goes to for sign-in: the authorization endpoint with the code flow's
    /// parameters, PKCE's S256 challenge of `verifier`, the state and the nonce.
    func authorizationURL(state: String, nonce: String, verifier: String, logger: Logger) async throws -> String {
        let endpoint = try await discovery(logger: logger).authorizationEndpoint
        let challenge = Secrets.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
        let query = [
            ("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", settings.redirectURI),
            ("scope", settings.scopes.joined(separator: " ")), ("state", state), ("nonce", nonce), ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ].map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query
    }

    /// Where sign-out sends the browser: the provider's end-session endpoint with the ID token as a
    /// hint and the console's page to come back to; nil when the provider offers none.
    func endSessionURL(idToken: String?, logger: Logger) async throws -> String? {
        guard let endpoint = try await discovery(logger: logger).endSessionEndpoint else { return nil }
        var query = [("post_logout_redirect_uri", settings.postLogoutRedirectURI), ("client_id", settings.clientID)]
        if let idToken { query.insert(("id_token_hint", idToken), at: 0) }
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
    }

    func fetch<T: Decodable>(_ type: T.Type, _ url: String, logger: Logger) async throws -> T {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        return try await send(request, as: T.self, what: url, logger: logger)
    }

    func send<T: Decodable>(_ request: HTTPClientRequest, as type: T.Type, what: String, logger: Logger) async throws -> T {
        let response: HTTPClientResponse
        do {
            response = try await Backend.client.execute(request, timeout: .seconds(10), logger: logger)
        } catch {
            throw Failure(description: "the provider's \(what) cannot be reached: \(String(reflecting: error))")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw Failure(description: "the provider's \(what) answered \(response.status.code): \(String(buffer: body).prefix(500))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw Failure(description: "the provider's \(what) answered what the console cannot read: \(error)")
        }
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `application/x-www-form-urlencoded` of one value (unreserved characters kept, the rest %-escaped).
    static func formEncode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
