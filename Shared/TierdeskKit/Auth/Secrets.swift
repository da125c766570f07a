import Crypto
import Foundation

/// Tokens, their hashes and the server-derived requester token. Every token is 256 random bits,
/// so one SHA-256 is the right hash at rest (a slow password hash buys nothing against 2^256).
public enum Secrets {
    /// The kinds of token, told apart by prefix so a leaked one is recognisable (and scannable).
    public enum Kind: String, Sendable {
        case agent = "tda_"
        case vendorKey = "tdv_"
        case requester = "tdr_"
        case webhookSecret = "whsec_"
    }

    /// A new random token of a kind: prefix + base64url of 32 random bytes.
    public static func newToken(_ kind: Kind) -> String {
        kind.rawValue + base64URL(randomBytes(32))
    }

    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// What rests in the database for a token.
    public static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// Constant-time equality of two secrets (compares their hashes).
    public static func equal(_ a: String, _ b: String) -> Bool {
        let left = SHA256.hash(data: Data(a.utf8))
        let right = SHA256.hash(data: Data(b.utf8))
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The requester token of a ticket: HMAC of its id under the server secret. Never stored, so an
    /// idempotent replay can answer it again.
    public static func requesterToken(ticketID: UUID, secret: String) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("requester-token:\(ticketID.uuidString.lowercased())".utf8), using: key)
        return Kind.requester.rawValue + base64URL(Data(mac))
    }

    /// Whether `token` is the requester token of `ticketID`.
    public static func verifyRequesterToken(_ token: String, ticketID: UUID, secret: String) -> Bool {
        equal(token, requesterToken(ticketID: ticketID, secret: secret))
    }

    /// Seals a secret that must be used again later (a vendor's signing secret) under a key derived
    /// from the server secret.
    public static func seal(_ plaintext: String, secret: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: sealingKey(secret)).combined else {
            throw CryptoKitError.incorrectParameterSize
        }
        return combined
    }

    public static func open(_ sealed: Data, secret: String) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        return String(decoding: try AES.GCM.open(box, using: sealingKey(secret)), as: UTF8.self)
    }

    static func sealingKey(_ secret: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("tierdesk-sealing-v1".utf8), outputByteCount: 32)
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes of a base64url text (padding optional); nil when it is not one.
    public static func fromBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
