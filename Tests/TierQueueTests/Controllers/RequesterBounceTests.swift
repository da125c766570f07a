import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// Agents see on the ticket that mail to its requester bounces (`mail_bounces`, intake's table).
extension TierQueueControllerTests {
    @Test(.freshDatabase) func theAgentViewSaysTheRequestersMailBounces() async throws {
        try await withTierQueue { http, db in
            let agent = AgentIdentity.fixture(tiers: [.firstLine])
            let token = try await db.agentToken(agent)
            let ticket = try await db.inProgress(agent: agent)
            let path = "/v1/tickets/\(ticket.id)"
            #expect(try await http.send(.get, path, token: token).decode(TicketDetail.self).work?.requesterBouncing == nil)
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            try await db.client.execute(
                """
                INSERT INTO mail_bounces (address_normalized, address, status, diagnostic, message_id, first_bounced_at, last_bounced_at, bounces)
                VALUES (lower(\(ticket.requester.email)), upper(\(ticket.requester.email)), '5.1.1', 'smtp; 550 no such user', '<dsn@mx>', \(at), \(at), 2)
                """, logger: db.logger)
            let bounce = try #require(try await http.send(.get, path, token: token).decode(TicketDetail.self).work?.requesterBouncing)
            #expect(
                bounce
                    == MailBounce(
                        address: ticket.requester.email.uppercased(), status: "5.1.1", diagnostic: "smtp; 550 no such user", firstBouncedAt: at,
                        lastBouncedAt: at, bounces: 2))
        }
    }
}
