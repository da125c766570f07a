import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@Suite struct InboxAndSecretsTests {
    @Test(.freshDatabase) func inboxAcceptsAnEventOncePerConsumer() async throws {
        try await TestDatabase.withClient { client throws in
            let event = EventEnvelope(type: .ticketCreated, ticketId: nil, occurredAt: Date())
            func accept(_ consumer: String) async throws -> Bool {
                try await client.transaction(logger: TestDatabase.logger) { connection in
                    try await Inbox(consumer: consumer).accept(event, on: connection, now: Date(), logger: TestDatabase.logger)
                }
            }
            #expect(try await accept("triage"))
            #expect(try await !accept("triage"))
            #expect(try await accept("tier-queue"))
        }
    }

    @Test func requesterTokensAreBoundToTicketAndSecret() {
        let ticket = UUID()
        let token = Secrets.requesterToken(ticketID: ticket, secret: "server-secret-0123456789")
        #expect(token.hasPrefix("tdr_"))
        #expect(Secrets.verifyRequesterToken(token, ticketID: ticket, secret: "server-secret-0123456789"))
        #expect(!Secrets.verifyRequesterToken(token, ticketID: UUID(), secret: "server-secret-0123456789"))
        #expect(!Secrets.verifyRequesterToken(token, ticketID: ticket, secret: "another-secret-0123456789"))
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
}
