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
        /// A signed-in requester's session: it reads all of that requester's tickets.
        case requesterSession = "tdp_"
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
        matches(a, digest: hash(b))
    }

    /// The requester token of a ticket under the server secret itself (tests and the admin tool);
    /// services hold only the derived `RequesterTokenKey`.
    public static func requesterToken(ticketID: UUID, generation: Int = 0, secret: String) -> String {
        RequesterTokenKey(secret: secret).token(ticketID: ticketID, generation: generation)
    }

    /// The ticket a requester token names, read from the token alone (nil when it is not shaped like
    /// one); whether it is genuine is `RequesterTokenKey.verify`'s question.
    public static func requesterTicket(_ token: String) -> UUID? {
        guard token.hasPrefix(Kind.requester.rawValue) else { return nil }
        let body = token.dropFirst(Kind.requester.rawValue.count)
        guard body.count == 64, body.utf8.allSatisfy(isBase64URL), let bytes = fromBase64URL(String(body)), bytes.count == 48 else { return nil }
        return bytes.prefix(16).withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
    }

    /// Whether `token` is the current requester token (of `generation`) of the ticket it names, under the server secret.
    public static func verifyRequesterToken(_ token: String, ticketID: UUID, generation: Int, secret: String) -> Bool {
        RequesterTokenKey(secret: secret).verify(token, ticketID: ticketID, generation: generation)
    }

    static func uuidBytes(_ id: UUID) -> Data { withUnsafeBytes(of: id.uuid) { Data($0) } }

    /// The key for one purpose, derived from the server secret with HKDF-SHA256 (info
    /// `tierdesk-<purpose>-v1`): keys of different purposes are independent, so a service given one
    /// can compute neither another nor the server secret. Use one purpose per kind of use
    /// (`"sealing"`, `"requester-token"`, `"console-session"`): this is also "a sealing key for purpose X".
    public static func key(for purpose: String, secret: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("tierdesk-\(purpose)-v1".utf8), outputByteCount: 32)
    }

    /// Seals a secret that must be used again later (a vendor's signing secret) with AES-GCM under `key`.
    public static func seal(_ plaintext: String, key: SymmetricKey) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: key).combined else {
            throw CryptoKitError.incorrectParameterSize
        }
        return combined
    }

    /// Opens what `seal` sealed under `key`; throws when the key is another or the box was altered.
    public static func open(_ sealed: Data, key: SymmetricKey) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }

    /// Seals under the server secret's sealing key (the admin tool and tests; services hold only the key).
    public static func seal(_ plaintext: String, secret: String) throws -> Data {
        try seal(plaintext, key: key(for: KeyPurpose.sealing.name, secret: secret))
    }

    /// Opens under the server secret's sealing key (the admin tool and tests).
    public static func open(_ sealed: Data, secret: String) throws -> String {
        try open(sealed, key: key(for: KeyPurpose.sealing.name, secret: secret))
    }

    /// The SHA-256 digest a token that is only ever checked (the admin, mail gateway token) is held as.
    public static func digest(_ token: String) -> Data { hash(token) }

    /// Whether `token` hashes to `digest`, in constant time.
    public static func matches(_ token: String, digest: Data) -> Bool {
        let presented = hash(token)
        guard presented.count == digest.count else { return false }
        return zip(presented, digest).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
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

/// What a key derived from the server secret is for (see `Secrets.key(for:secret:)`). The
/// `sealing` key is the one vendors' signing secrets have always been sealed with.
public struct KeyPurpose: Hashable, Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }

    /// Mints and verifies requester tokens (intake alone).
    public static let requesterToken = KeyPurpose("requester-token")
    /// Seals secrets at rest: vendors' webhook signing secrets (vendor-bridge and the admin tool).
    public static let sealing = KeyPurpose("sealing")
    /// Makes and checks tickets' reply addresses (`ReplyAddress`): intake, and later the mail sender.
    public static let mailReply = KeyPurpose("mail-reply")
    /// Seals local accounts' bcrypt hashes and TOTP secrets at rest (tier-queue alone).
    public static let staffCredentials = KeyPurpose("staff-credentials")
}

/// The keys a service was given, each derived from `TIERDESK_SECRET` for one purpose; the server
/// secret itself is not kept. A service asks only for the purposes it uses (intake: requester
/// tokens; vendor-bridge: sealing; triage and tier-queue: none).
public struct ServiceKeys: Sendable {
    let keys: [KeyPurpose: Data]

    /// Derives the keys of `purposes` from the server secret.
    public init(secret: String, purposes: Set<KeyPurpose>) {
        var keys: [KeyPurpose: Data] = [:]
        for purpose in purposes { keys[purpose] = Secrets.key(for: purpose.name, secret: secret).withUnsafeBytes { Data($0) } }
        self.keys = keys
    }

    /// No keys: the service derives nothing from the server secret.
    public static let none = ServiceKeys(keys: [:])

    init(keys: [KeyPurpose: Data]) { self.keys = keys }

    /// The key of `purpose`, or nil when this service was not given it.
    public func key(_ purpose: KeyPurpose) -> SymmetricKey? { keys[purpose].map { SymmetricKey(data: $0) } }

    /// The key that seals secrets at rest (vendors' signing secrets), or nil when this service has none.
    public var sealing: SealingKey? { key(.sealing).map(SealingKey.init(key:)) }

    /// The reply-address key, or nil when this service neither makes nor reads reply addresses.
    public var replyAddresses: ReplyAddress? { key(.mailReply).map(ReplyAddress.init(key:)) }

    /// The requester-token key, or nil when this service may neither mint nor verify requester tokens.
    public var requesterTokens: RequesterTokenKey? { key(.requesterToken).map(RequesterTokenKey.init(key:)) }

    /// The purposes this service holds a key for.
    public var purposes: Set<KeyPurpose> { Set(keys.keys) }
}

/// Mints and verifies requester tokens: `tdr_` + base64url(the ticket id's 16 bytes + HMAC-SHA256 of
/// the id and the token's generation under the requester-token key). Never stored: a token is
/// derived again whenever it is needed; raising the generation (an admin's revocation) kills the
/// earlier ones. Whoever holds this key can mint tokens, so only intake holds it.
public struct RequesterTokenKey: Sendable {
    let key: Data

    public init(key: SymmetricKey) { self.key = key.withUnsafeBytes { Data($0) } }

    /// The key derived from the server secret.
    public init(secret: String) { self.init(key: Secrets.key(for: KeyPurpose.requesterToken.name, secret: secret)) }

    /// The ticket's requester token of `generation`.
    public func token(ticketID: UUID, generation: Int = 0) -> String {
        Secrets.Kind.requester.rawValue + Secrets.base64URL(Secrets.uuidBytes(ticketID) + mac(ticketID: ticketID, generation: generation))
    }

    /// Whether `token` is the ticket's requester token of `generation` (in constant time).
    public func verify(_ token: String, ticketID: UUID, generation: Int) -> Bool {
        Secrets.equal(token, self.token(ticketID: ticketID, generation: generation))
    }

    func mac(ticketID: UUID, generation: Int) -> Data {
        let message = "requester-token:\(ticketID.uuidString.lowercased()):\(generation)"
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key)))
    }
}

/// Seals and opens secrets with AES-GCM under one purpose's key. `SealingKey(purpose:secret:)` is the
/// one way to get a sealing key for a purpose: each purpose gets its own key, so what is sealed for
/// one cannot be opened as another's.
public struct SealingKey: Sendable {
    let key: Data

    public init(key: SymmetricKey) { self.key = key.withUnsafeBytes { Data($0) } }

    /// The key for `purpose` derived from `secret` (see `Secrets.key(for:secret:)`).
    public init(purpose: String, secret: String) { self.init(key: Secrets.key(for: purpose, secret: secret)) }

    /// Seals `plaintext`; the box carries its own nonce and tag.
    public func seal(_ plaintext: String) throws -> Data { try Secrets.seal(plaintext, key: SymmetricKey(data: key)) }

    /// Opens a box `seal` made; throws when it was sealed under another key or altered.
    public func open(_ sealed: Data) throws -> String { try Secrets.open(sealed, key: SymmetricKey(data: key)) }
}
