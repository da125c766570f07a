import Foundation
import Testing
import TierdeskKit

/// Standard Webhooks signing and verification, against the specification's published example.
@Suite struct WebhookSignatureTests {
    // The example of the Standard Webhooks specification (its test vector).
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let timestamp: Int64 = 1_614_265_330
    let body = Data(#"{"test": 2432232314}"#.utf8)
    var at: Date { Date(timeIntervalSince1970: Double(timestamp)) }

    @Test func signsAsTheSpecificationsExample() throws {
        #expect(try WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: secret) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func verifiesTheRightDeliveryAndRefusesEveryTamperedOne() throws {
        let signature = try WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: secret)
        try WebhookSignature.verify(id: id, timestamp: "\(timestamp)", signatures: signature, body: body, secret: secret, now: at.addingTimeInterval(299))
        // During a secret's rotation a header carries several signatures; one that matches is enough.
        try WebhookSignature.verify(
            id: id, timestamp: "\(timestamp)", signatures: "v1,AAAA v2,zzz \(signature)", body: body, secret: secret, now: at)
        let otherSecret = "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()
        #expect(throws: WebhookSignature.Failure.noMatchingSignature) {
            try WebhookSignature.verify(id: id, timestamp: "\(timestamp)", signatures: signature, body: body, secret: otherSecret, now: at)
        }
        #expect(throws: WebhookSignature.Failure.noMatchingSignature) {
            try WebhookSignature.verify(id: id, timestamp: "\(timestamp)", signatures: signature, body: Data(#"{"test": 1}"#.utf8), secret: secret, now: at)
        }
        #expect(throws: WebhookSignature.Failure.noMatchingSignature) {
            try WebhookSignature.verify(id: "msg_other", timestamp: "\(timestamp)", signatures: signature, body: body, secret: secret, now: at)
        }
        #expect(throws: WebhookSignature.Failure.timestampOutOfTolerance) {
            try WebhookSignature.verify(id: id, timestamp: "\(timestamp)", signatures: signature, body: body, secret: secret, now: at.addingTimeInterval(301))
        }
        #expect(throws: WebhookSignature.Failure.timestampOutOfTolerance) {
            try WebhookSignature.verify(id: id, timestamp: "\(timestamp)", signatures: signature, body: body, secret: secret, now: at.addingTimeInterval(-301))
        }
        #expect(throws: WebhookSignature.Failure.malformedTimestamp) {
            try WebhookSignature.verify(id: id, timestamp: "soon", signatures: signature, body: body, secret: secret, now: at)
        }
        #expect(throws: WebhookSignature.Failure.missingHeaders) {
            try WebhookSignature.verify(id: nil, timestamp: "\(timestamp)", signatures: signature, body: body, secret: secret, now: at)
        }
        #expect(throws: WebhookSignature.Failure.malformedSecret) {
            try WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        }
    }

    /// The secrets vendor-bridge hands out sign and verify.
    @Test func aFreshSecretRoundTrips() throws {
        let fresh = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let signature = try WebhookSignature.sign(id: "evt_1", timestamp: 1_800_000_000, body: Data("{}".utf8), secret: fresh)
        try WebhookSignature.verify(
            id: "evt_1", timestamp: "1800000000", signatures: signature, body: Data("{}".utf8), secret: fresh,
            now: Date(timeIntervalSince1970: 1_800_000_000))
    }
}
