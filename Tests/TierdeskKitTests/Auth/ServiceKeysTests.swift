import Configuration
import Crypto
import Foundation
import Testing
import TierdeskKit
import TierdeskTestSupport

/// Issue 23, item 7: purpose-bound keys derived from the server secret, each service given only the
/// ones it uses.
@Suite struct ServiceKeysTests {
    static func configuration(_ service: String, keys: Set<KeyPurpose>) throws -> TierdeskConfiguration {
        let database = try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d")
        return try TierdeskConfiguration(reader: TestCredentials.reader(database: database), serviceName: service, defaultPort: 8080, keys: keys)
    }

    @Test func eachServiceHoldsOnlyTheKeysItUses() throws {
        let intake = try Self.configuration("intake", keys: [.requesterToken])
        #expect(intake.keys.purposes == [.requesterToken] && intake.keys.requesterTokens != nil && intake.keys.sealing == nil)
        // vendor-bridge seals vendors' secrets and can no longer mint a requester token.
        let bridge = try Self.configuration("vendor-bridge", keys: [.sealing])
        #expect(bridge.keys.purposes == [.sealing] && bridge.keys.sealing != nil && bridge.keys.requesterTokens == nil)
        // triage and tier-queue derive nothing, even where the secret is set in their environment.
        let triage = try Self.configuration("triage", keys: [])
        #expect(triage.keys.purposes.isEmpty && triage.keys.requesterTokens == nil && triage.keys.sealing == nil)
        // A service that needs a key and has no secret does not start.
        let reader = ConfigReader(
            provider: EnvironmentVariablesProvider(
                environmentVariables: TestCredentials.environment(database: try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d")).filter {
                    $0.key != "TIERDESK_SECRET"
                }))
        #expect(throws: ConfigurationError.self) {
            try TierdeskConfiguration(reader: reader, serviceName: "intake", defaultPort: 8080, keys: [.requesterToken])
        }
    }

    @Test func purposeKeysAreIndependentOfEachOtherAndOfTheSecret() throws {
        let secret = TestCredentials.secret
        let requester = Secrets.key(for: "requester-token", secret: secret).withUnsafeBytes { Data($0) }
        let sealing = Secrets.key(for: "sealing", secret: secret).withUnsafeBytes { Data($0) }
        let session = Secrets.key(for: "console-session", secret: secret).withUnsafeBytes { Data($0) }
        #expect(Set([requester, sealing, session]).count == 3 && requester.count == 32)
        // A requester token is no longer an HMAC under the secret itself: holding another purpose's key does not mint one.
        let ticket = UUID()
        let token = Secrets.requesterToken(ticketID: ticket, secret: secret)
        let underSecret = Data(
            HMAC<SHA256>.authenticationCode(
                for: Data("requester-token:\(ticket.uuidString.lowercased()):0".utf8), using: SymmetricKey(data: Data(secret.utf8))))
        #expect(token != Secrets.Kind.requester.rawValue + Secrets.base64URL(withUnsafeBytes(of: ticket.uuid) { Data($0) } + underSecret))
        #expect(RequesterTokenKey(key: SymmetricKey(data: sealing)).verify(token, ticketID: ticket, generation: 0) == false)
        #expect(RequesterTokenKey(secret: secret).verify(token, ticketID: ticket, generation: 0))
    }

    /// The sealing key is the one vendors' signing secrets were always sealed with, so secrets sealed
    /// before keep opening; a key of another purpose does not open them.
    @Test func theSealingKeyOpensWhatWasSealedBefore() throws {
        let secret = TestCredentials.secret
        let legacy = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("tierdesk-sealing-v1".utf8), outputByteCount: 32)
        let sealed = try Secrets.seal("whsec_before", key: legacy)
        #expect(try TestCredentials.sealingKey.open(sealed) == "whsec_before")
        #expect(throws: (any Error).self) { try SealingKey(purpose: "console-session", secret: secret).open(sealed) }
        let session = SealingKey(purpose: "console-session", secret: secret)
        #expect(try session.open(try session.seal("a session")) == "a session")
    }

    @Test func checkedTokensAreHeldAsDigests() throws {
        let configuration = try Self.configuration("triage", keys: [])
        let bootstrap = try #require(configuration.bootstrapTokenDigest)
        #expect(bootstrap == Secrets.digest(TestCredentials.bootstrapToken))
        #expect(Secrets.matches(TestCredentials.bootstrapToken, digest: bootstrap))
        #expect(!Secrets.matches(TestCredentials.bootstrapToken + "x", digest: bootstrap))
    }
}
