import Crypto
import Foundation

/// Standard Webhooks signatures, as vendors' receivers check them: headers `webhook-id`,
/// `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">`, several separated by spaces while a secret is being rotated), keyed with
/// the bytes of the `whsec_` secret. Receivers allow ±5 minutes of clock skew.
public enum WebhookSignature {
    public static let tolerance: TimeInterval = 300

    /// Why a delivery does not verify.
    public enum Failure: Error, Equatable {
        /// The secret is not `whsec_` followed by base64 of 24 to 64 bytes.
        case malformedSecret
        case missingHeaders
        case malformedTimestamp
        /// Older or newer than the tolerance: a replay, or a badly wrong clock.
        case timestampOutOfTolerance
        /// No `v1` signature in the header matches the body.
        case noMatchingSignature
    }

    /// The `webhook-signature` value for one delivery.
    public static func sign(id: String, timestamp: Int64, body: Data, secret: String) throws(Failure) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: message(id: id, timestamp: String(timestamp), body: body), using: try key(secret))
        return "v1," + Data(code).base64EncodedString()
    }

    /// Checks a delivery's three headers and body against the secret, at `now` (in constant time).
    public static func verify(id: String?, timestamp: String?, signatures: String?, body: Data, secret: String, now: Date) throws(Failure) {
        let key = try key(secret)
        guard let id, let timestamp, let signatures, !id.isEmpty else { throw .missingHeaders }
        guard timestamp.allSatisfy(\.isASCII), let seconds = Int64(timestamp) else { throw .malformedTimestamp }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { throw .timestampOutOfTolerance }
        let signed = message(id: id, timestamp: timestamp, body: body)
        let matches = signatures.split(separator: " ").contains { entry in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let given = Data(base64Encoded: String(parts[1])) else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: signed, using: key)
        }
        guard matches else { throw .noMatchingSignature }
    }

    /// The key: the bytes of a `whsec_` secret.
    static func key(_ secret: String) throws(Failure) -> SymmetricKey {
        guard secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))), (24...64).contains(bytes.count) else {
            throw .malformedSecret
        }
        return SymmetricKey(data: bytes)
    }

    /// What is signed: `id.timestamp.body`.
    static func message(id: String, timestamp: String, body: Data) -> Data { Data("\(id).\(timestamp).".utf8) + body }
}
