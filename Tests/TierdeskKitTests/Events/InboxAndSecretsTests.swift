import Foundation
import Testing
import TierdeskModels
import TierdeskTestSupport

@testable import TierdeskKit

@Suite struct InboxAndSecretsTests {
    @Test(.freshDatabase) func inboxAcceptsAnEventOncePerConsumer() async throws {
        try await TestDatabase.withClient { client throws in
            let event = EventEnvelope(type: .ticketCreated, ticketId: nil, occurredAt: Date())
            func accept(_ consumer: String) async throws -> Bool {
                try await client.transaction(logger: TestDatabase.logger) { connection in
                    try await Inbox(consumer: consumer).accept([event], on: connection, now: Date(), logger: TestDatabase.logger).contains(event.id)
                }
            }
            #expect(try await accept("triage"))
            #expect(try await !accept("triage"))
            #expect(try await accept("tier-queue"))
        }
    }

    @Test func requesterTokensAreBoundToTicketGenerationAndSecret() {
        let ticket = UUID()
        let secret = "server-secret-0123456789"
        let token = Secrets.requesterToken(ticketID: ticket, secret: secret)
        #expect(token.hasPrefix("tdr_") && token.count == 4 + 64)
        #expect(Secrets.requesterTicket(token) == ticket)
        #expect(Secrets.verifyRequesterToken(token, ticketID: ticket, generation: 0, secret: secret))
        #expect(!Secrets.verifyRequesterToken(token, ticketID: UUID(), generation: 0, secret: secret))
        #expect(!Secrets.verifyRequesterToken(token, ticketID: ticket, generation: 1, secret: secret))
        #expect(!Secrets.verifyRequesterToken(token, ticketID: ticket, generation: 0, secret: "another-secret-0123456789"))
        let next = Secrets.requesterToken(ticketID: ticket, generation: 1, secret: secret)
        #expect(next != token && Secrets.verifyRequesterToken(next, ticketID: ticket, generation: 1, secret: secret))
        // A forged token naming the ticket with another MAC parses, but does not verify.
        let forged = "tdr_" + Secrets.base64URL(Secrets.uuidBytes(ticket) + Data(repeating: 7, count: 32))
        #expect(Secrets.requesterTicket(forged) == ticket && !Secrets.verifyRequesterToken(forged, ticketID: ticket, generation: 0, secret: secret))
        for malformed in ["tdr_", "tdr_short", "tdr_" + String(repeating: "!", count: 64), token + "A", "tda_" + token.dropFirst(4)] {
            #expect(Secrets.requesterTicket(malformed) == nil, "\(malformed)")
        }
    }

    @Test func malformedRandomTokensAreRecognisedWithoutALookup() {
        let agent = Secrets.newToken(.agent)
        #expect(Secrets.isWellFormed(agent, .agent) && !Secrets.isWellFormed(agent, .vendorKey))
        #expect(Secrets.isWellFormed(Secrets.newToken(.integration), .integration))
        for bogus in ["tda_", "tda_abc", agent + "x", String(agent.dropLast()) + "=", "tda_" + String(repeating: "é", count: 43)] {
            #expect(!Secrets.isWellFormed(bogus, .agent), "\(bogus)")
        }
    }

    @Test func trustedProxyRangesMatchAddresses() throws {
        let ranges = try ClientAddress.parse("10.1.0.0/16, 192.168.7.7, fd00::/8").get()
        #expect(ranges.count == 3)
        #expect(ranges[0].contains("10.1.200.3") && !ranges[0].contains("10.2.0.1"))
        #expect(ranges[1].contains("192.168.7.7") && !ranges[1].contains("192.168.7.8"))
        #expect(ranges[2].contains("fd12::1") && !ranges[2].contains("fe80::1") && !ranges[2].contains("10.1.0.1"))
        #expect(ranges[0].contains("::ffff:10.1.2.3"))
        #expect(AddressRange("10.0.0.0/33") == nil && AddressRange("nonsense") == nil && AddressRange("::/129") == nil)
        if case .failure(let failure) = ClientAddress.parse("10.0.0.0/8, bogus") { #expect(failure.entry == "bogus") } else { Issue.record("bogus accepted") }
        #expect(try ClientAddress.parse("").get().isEmpty)
    }

    @Test func tokensAreRandomAndSealedSecretsOpen() throws {
        let a = Secrets.newToken(.agent)
        #expect(a.hasPrefix("tda_") && a.count > 40 && a != Secrets.newToken(.agent))
        #expect(Secrets.hash(a) == Secrets.hash(a) && Secrets.hash(a).count == 32)
        let sealed = try Secrets.seal("whsec_abc", secret: "server-secret-0123456789")
        #expect(try Secrets.open(sealed, secret: "server-secret-0123456789") == "whsec_abc")
        #expect(throws: (any Error).self) { try Secrets.open(sealed, secret: "wrong-secret-0123456789") }
    }

    @Test func cursorsRoundTrip() {
        let cursor = QueueCursor(priority: 2, dueAtMicroseconds: Date(timeIntervalSince1970: 1_700_000_000.5).epochMicroseconds, id: UUID())
        #expect(QueueCursor(encoded: cursor.encoded) == cursor)
        #expect(QueueCursor(encoded: "garbage") == nil)
    }

    /// Base64url as RFC 4648 §5 has it (no padding), read back whatever the length.
    @Test func base64URLMatchesTheRFCAndReadsBack() {
        for length in 0..<64 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255) })
            let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Secrets.base64URL(data) == expected)
            #expect(Secrets.fromBase64URL(Secrets.base64URL(data)) == data)
        }
        #expect(Secrets.base64URL(Data([0xFB, 0xFF, 0xBF])) == "-_-_")
    }
}
