import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import IntakeApp

@Suite struct SelfServiceTests {
    @Test(.freshDatabase) func aLevelZeroResolutionIsATicketResolvedAtTierZeroWithoutAVote() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let knowledgeBase = KnowledgeBaseStore()
            let article = try #require(
                try await knowledgeBase.publish(
                    CreateArticleRequest(title: "Mailbox full", body: "Archive old mail."), on: client, now: Date(), logger: db.logger))
            let selfService = SelfService(tickets: db.store, requesters: RequesterStore(), knowledgeBase: knowledgeBase)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let request = SelfServiceResolutionRequest(
                requester: RequesterInput(email: "sam@example.com", phone: "+1 555 0100"), subject: "Mailbox full", articleId: article)
            let ticket = try await client.transaction(logger: db.logger) { connection in
                try await selfService.resolve(request, on: connection, now: now, logger: db.logger)
            }
            #expect(ticket.status == .resolved && ticket.tier == .selfService && ticket.createdAt == now && ticket.updatedAt == now)
            #expect(ticket.channelDetails["contact"] == ["phone": "+1 555 0100"])
            #expect(try await db.count("kb_votes") == 0)
            await #expect(throws: IntakeError.notAPublishedArticle) {
                try await client.transaction(logger: db.logger) { connection in
                    var unknown = request
                    unknown.articleId = UUID()
                    return try await selfService.resolve(unknown, on: connection, now: now, logger: db.logger)
                }
            }
        }
    }
}
