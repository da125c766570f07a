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
        case integration = "tdi_"
        case webhookSecret = "whsec_"
    }

    /// The length of a random token's text after its prefix: base64url of 32 bytes.
    static let randomTokenLength = 43

    /// Whether `token` has the shape of a random token of `kind` (prefix, length, base64url
    /// alphabet), so a malformed one is refused before it costs a database query.
    public static func isWellFormed(_ token: String, _ kind: Kind) -> Bool {
        guard token.hasPrefix(kind.rawValue) else { return false }
        let body = token.utf8.dropFirst(kind.rawValue.utf8.count)
        return body.count == randomTokenLength && body.allSatisfy(isBase64URL)
    }

    static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
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

    /// The requester token of a ticket: `tdr_` + base64url(the ticket id's 16 bytes + HMAC-SHA256 of
    /// the id and the token's generation under the server secret). Never stored: it is derived again
    /// whenever it is needed; raising the generation (an admin's revocation) kills the earlier ones.
    public static func requesterToken(ticketID: UUID, generation: Int = 0, secret: String) -> String {
        Kind.requester.rawValue + base64URL(uuidBytes(ticketID) + requesterMAC(ticketID: ticketID, generation: generation, secret: secret))
    }

    /// The ticket a requester token names, read from the token alone (nil when it is not shaped like
    /// one); whether it is genuine is `verifyRequesterToken`'s question.
    public static func requesterTicket(_ token: String) -> UUID? {
        guard token.hasPrefix(Kind.requester.rawValue) else { return nil }
        let body = token.dropFirst(Kind.requester.rawValue.count)
        guard body.count == 64, body.utf8.allSatisfy(isBase64URL), let bytes = fromBase64URL(String(body)), bytes.count == 48 else { return nil }
        return bytes.prefix(16).withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
    }

    /// Whether `token` is the current requester token (of `generation`) of the ticket it names.
    public static func verifyRequesterToken(_ token: String, ticketID: UUID, generation: Int, secret: String) -> Bool {
        equal(token, requesterToken(ticketID: ticketID, generation: generation, secret: secret))
    }

    static func requesterMAC(ticketID: UUID, generation: Int, secret: String) -> Data {
        let key = SymmetricKey(data: Data(secret.utf8))
        let message = "requester-token:\(ticketID.uuidString.lowercased()):\(generation)"
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key))
    }

    static func uuidBytes(_ id: UUID) -> Data { withUnsafeBytes(of: id.uuid) { Data($0) } }

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
        // Byte by byte: three `replacingOccurrences` passes cost more than the HMAC on every submission.
        var bytes = Array(data.base64EncodedString().utf8)
        bytes.removeAll { $0 == UInt8(ascii: "=") }
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "+") {
                bytes[index] = UInt8(ascii: "-")
            } else if bytes[index] == UInt8(ascii: "/") {
                bytes[index] = UInt8(ascii: "_")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of a base64url text (padding optional); nil when it is not one.
    public static func fromBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
