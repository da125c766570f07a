import Foundation
import Testing
import TierdeskKit

@testable import TierQueueApp

/// The pure rules of local accounts: lockout lengths, what a password must be, and TOTP codes.
@Suite struct LocalAccountsTests {
    @Test func lockoutsDoubleUpToTheCap() {
        let settings = LocalAccountSettings(lockoutBase: 60, lockoutMax: 3600)
        #expect((0...7).map(settings.lockout(after:)) == [60, 120, 240, 480, 960, 1920, 3600, 3600])
        #expect(settings.lockout(after: 10_000) == 3600, "no overflow however many lockouts")
    }

    @Test func aPasswordIsTwelveCharactersToSeventyTwoBytes() {
        #expect(Passwords.problem("short") != nil)
        #expect(Passwords.problem("correct horse battery") == nil)
        #expect(Passwords.problem(String(repeating: "é", count: 37)) != nil, "74 bytes: bcrypt would cut it")
        #expect(Passwords.problem("twelve chars\u{0}!") != nil)
        let temporary = Passwords.temporary()
        #expect(temporary.count == 20 && Passwords.problem(temporary) == nil && temporary != Passwords.temporary())
    }

    @Test func bcryptHashesAndVerifiesOffTheEventLoop() async throws {
        let hash = try await Passwords.hash("correct horse battery", cost: 4)
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(try await Passwords.verify("correct horse battery", hash: hash))
        #expect(try await !Passwords.verify("correct horse batterY", hash: hash))
    }

    /// RFC 6238's SHA-1 vectors (their last six digits), with the RFC's 20-byte ASCII key.
    @Test func codesFollowRFC6238() {
        let secret = "12345678901234567890"
        let vectors: [(TimeInterval, String)] = [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        for (time, code) in vectors { #expect(OneTimeCodes.code(secret: secret, at: Date(timeIntervalSince1970: time)) == code) }
        // The base32 text an app is given is the key's bytes in base32.
        #expect(OneTimeCodes.typedSecret(secret: secret) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(OneTimeCodes.uri(secret: secret, account: "ada@example.com").hasPrefix("otpauth://totp/Tierdesk:ada@example.com?secret=GEZDGNBV"))
    }

    @Test func aCodeIsTakenForOneStepEitherSideAndNeverTwice() {
        let secret = OneTimeCodes.newSecret()
        #expect(secret.count == 32)
        let now = Date(timeIntervalSince1970: 1_798_761_615)  // 15 s into a step
        let step = Int64(1_798_761_615 / 30)
        func code(_ offset: Int64) -> String { OneTimeCodes.code(secret: secret, at: Date(timeIntervalSince1970: Double(step + offset) * 30)) }
        #expect(OneTimeCodes.acceptedStep(code(0), secret: secret, now: now, lastUsed: nil) == step)
        #expect(OneTimeCodes.acceptedStep(code(-1), secret: secret, now: now, lastUsed: nil) == step - 1)
        #expect(OneTimeCodes.acceptedStep(code(1), secret: secret, now: now, lastUsed: nil) == step + 1)
        // Two steps away is refused unless it happens to equal a nearer code (one in a million).
        if ![code(-1), code(0), code(1)].contains(code(-2)) {
            #expect(OneTimeCodes.acceptedStep(code(-2), secret: secret, now: now, lastUsed: nil) == nil)
        }
        #expect(OneTimeCodes.acceptedStep(code(0), secret: secret, now: now, lastUsed: step) == nil, "a used step's code is refused")
        #expect(OneTimeCodes.acceptedStep(code(1), secret: secret, now: now, lastUsed: step) == step + 1, "the next step's is not")
        #expect(OneTimeCodes.acceptedStep(" \(code(0).prefix(3)) \(code(0).suffix(3)) ", secret: secret, now: now, lastUsed: nil) == step)
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            #expect(OneTimeCodes.acceptedStep(bad, secret: secret, now: now, lastUsed: nil) == nil)
        }
    }
}
