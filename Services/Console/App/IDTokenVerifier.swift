import Crypto
import Foundation
import JWTKit
import TierdeskKit

/// Why an ID token is refused. `description` is for the log; the visitor is only told that the
/// provider's answer could not be verified.
enum IDTokenError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    /// The header names an algorithm that is not an asymmetric one the provider announced (`none`, HS256 ...).
    case algorithmRefused(String)
    /// The header's `kid` is not in the provider's key set (the caller fetches the set again, once).
    case unknownKey(String?)
    case badSignature
    case wrongIssuer(String)
    case wrongAudience([String])
    case wrongAuthorizedParty(String?)
    case expired(Date)
    case issuedInTheFuture(Date)
    case tooOld(Date)
    case notYetValid(Date)
    case wrongNonce
    case noSubject

    var description: String {
        switch self {
        case .malformed(let why): "malformed ID token: \(why)"
        case .algorithmRefused(let alg): "ID token signed with \(alg), which is refused"
        case .unknownKey(let kid): "ID token signed with a key not in the provider's key set (kid \(kid ?? "none"))"
        case .badSignature: "the ID token's signature does not verify"
        case .wrongIssuer(let issuer): "the ID token is from another issuer: \(issuer)"
        case .wrongAudience(let audience): "the ID token is for another audience: \(audience)"
        case .wrongAuthorizedParty(let azp): "the ID token's azp is not this client: \(azp ?? "none, with several audiences")"
        case .expired(let exp): "the ID token expired at \(RFC3339.format(exp))"
        case .issuedInTheFuture(let iat): "the ID token is issued in the future: \(RFC3339.format(iat))"
        case .tooOld(let iat): "the ID token was issued too long ago: \(RFC3339.format(iat))"
        case .notYetValid(let nbf): "the ID token is not valid before \(RFC3339.format(nbf))"
        case .wrongNonce: "the ID token's nonce is not this sign-in's (replayed or mixed up)"
        case .noSubject: "the ID token has no sub"
        }
    }
}

/// The claims of a verified ID token: the standard ones checked, the rest kept for the settings'
/// email, name and groups claims.
struct IDTokenClaims: JWTPayload, Equatable {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var nbf: NotBeforeClaim?
    var nonce: String?
    var azp: String?
    /// Every claim, by name, as JSON values.
    var all: [String: ClaimValue]

    /// A claim's JSON value, as far as the console reads claims.
    enum ClaimValue: Codable, Equatable, Sendable {
        case string(String)
        case bool(Bool)
        case number(Double)
        case strings([String])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {  // try?: each shape is tried in turn; none is `.other`
                self = .bool(value)
            } else if let value = try? container.decode(String.self) {  // try?: as above
                self = .string(value)
            } else if let value = try? container.decode(Double.self) {  // try?: as above
                self = .number(value)
            } else if let value = try? container.decode([String].self) {  // try?: as above
                self = .strings(value)
            } else {
                self = .other
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .strings(let value): try container.encode(value)
            case .other: try container.encodeNil()
            }
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        iss = try container.decode(IssuerClaim.self, forKey: Key(stringValue: "iss"))
        sub = try container.decode(SubjectClaim.self, forKey: Key(stringValue: "sub"))
        aud = try container.decode(AudienceClaim.self, forKey: Key(stringValue: "aud"))
        exp = try container.decode(ExpirationClaim.self, forKey: Key(stringValue: "exp"))
        iat = try container.decode(IssuedAtClaim.self, forKey: Key(stringValue: "iat"))
        nbf = try container.decodeIfPresent(NotBeforeClaim.self, forKey: Key(stringValue: "nbf"))
        nonce = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "nonce"))
        azp = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "azp"))
        var all: [String: ClaimValue] = [:]
        for key in container.allKeys { all[key.stringValue] = try container.decode(ClaimValue.self, forKey: key) }
        self.all = all
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, value) in all { try container.encode(value, forKey: Key(stringValue: name)) }
    }

    /// The claims are checked against the console's clock by `IDTokenVerifier`, not here.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// A string claim (nil when absent or not a string).
    func string(_ name: String) -> String? {
        if case .string(let value) = all[name] { return value }
        return nil
    }

    /// A list of strings: an array, or a single string as a list of one.
    func strings(_ name: String) -> [String] {
        switch all[name] {
        case .strings(let values)?: values
        case .string(let value)?: [value]
        default: []
        }
    }

    /// A boolean claim; the string `"true"` some providers send counts as true.
    func bool(_ name: String) -> Bool {
        switch all[name] {
        case .bool(let value)?: value
        case .string(let value)?: value == "true"
        default: false
        }
    }
}

/// Checks an ID token as OpenID Connect Core 3.1.3.7 asks: the signature (jwt-kit) with a key of the
/// provider's JWKS, an asymmetric algorithm the provider announced, `iss`, `aud` (and `azp` when
/// there are several audiences), `exp`, `iat` and `nbf` within the clock skew, and the sign-in's nonce.
struct IDTokenVerifier: Sendable {
    var issuer: String
    var clientID: String
    /// The algorithms the provider's discovery announces (`id_token_signing_alg_values_supported`), asymmetric ones only.
    var algorithms: Set<String>
    var clockSkew: TimeInterval = OIDCSettings.clockSkew
    /// A token issued longer ago than this (plus the skew) is refused: the code exchange takes seconds.
    var maxAge: TimeInterval = 600

    static let asymmetric: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

    init(issuer: String, clientID: String, algorithms: [String]?) {
        self.issuer = issuer
        self.clientID = clientID
        self.algorithms = Set(algorithms ?? ["RS256"]).intersection(Self.asymmetric)
    }

    /// The header's algorithm and key id, unverified (to pick the key).
    static func header(of token: String) throws(IDTokenError) -> (alg: String, kid: String?) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Secrets.fromBase64URL(String(parts[0])) else { throw .malformed("not three base64url parts") }
        struct Header: Decodable {
            var alg: String
            var kid: String?
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {  // try?: a header that does not decode is malformed, said here
            throw .malformed("the header does not decode")
        }
        return (header.alg, header.kid)
    }

    /// The token's claims once every check passes; `nonceHash` is the SHA-256 of the nonce this sign-in sent.
    func verify(_ token: String, keys: JWKS, nonceHash: Data, now: Date) async throws(IDTokenError) -> IDTokenClaims {
        let (alg, kid) = try Self.header(of: token)
        guard algorithms.contains(alg) else { throw .algorithmRefused(alg) }
        let key: JWK
        if let kid {
            guard let found = keys.find(identifier: kid)?.first else { throw .unknownKey(kid) }
            key = found
        } else {
            // No kid: only a provider with a single key can be meant.
            guard keys.keys.count == 1 else { throw .unknownKey(nil) }
            key = keys.keys[0]
        }
        var named = key
        named.keyIdentifier = JWKIdentifier(string: kid ?? "the provider's key")
        named.algorithm = JWK.Algorithm(rawValue: alg)
        let claims: IDTokenClaims
        do {
            let collection = JWTKeyCollection()
            try await collection.add(jwk: named, isDefault: true)
            claims = try await collection.verify(token, as: IDTokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            throw .malformed(String(describing: error))
        }
        guard claims.iss.value == issuer else { throw .wrongIssuer(claims.iss.value) }
        do {
            try claims.aud.verifyIntendedAudience(includes: clientID)
        } catch {
            throw .wrongAudience(claims.aud.value)
        }
        if claims.aud.value.count > 1 || claims.azp != nil {
            guard claims.azp == clientID else { throw .wrongAuthorizedParty(claims.azp) }
        }
        do {
            try claims.exp.verifyNotExpired(currentDate: now.addingTimeInterval(-clockSkew))
        } catch {
            throw .expired(claims.exp.value)
        }
        guard claims.iat.value <= now.addingTimeInterval(clockSkew) else { throw .issuedInTheFuture(claims.iat.value) }
        guard claims.iat.value >= now.addingTimeInterval(-(maxAge + clockSkew)) else { throw .tooOld(claims.iat.value) }
        if let nbf = claims.nbf {
            do {
                try nbf.verifyNotBefore(currentDate: now.addingTimeInterval(clockSkew))
            } catch {
                throw .notYetValid(nbf.value)
            }
        }
        guard let nonce = claims.nonce, Secrets.hash(nonce) == nonceHash else { throw .wrongNonce }
        guard !claims.sub.value.isEmpty else { throw .noSubject }
        return claims
    }
}
