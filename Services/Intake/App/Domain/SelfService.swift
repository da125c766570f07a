import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Level 0: a requester who solved it from an article. The result is a ticket resolved at tier 0
/// with the article as its resolution, so the share solved by self-service is measurable. It casts
/// no vote: anybody may call it with any email, so votes come only from verified tokens.
struct SelfService: Sendable {
    let tickets: TicketStore
    let requesters: RequesterStore
    let knowledgeBase: KnowledgeBaseStore

    /// Records the resolution in the caller's transaction; `notAPublishedArticle` for an unknown or retired article.
    func resolve(_ input: SelfServiceResolutionRequest, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Ticket {
        guard let article = try await knowledgeBase.find(input.articleId, on: connection, logger: logger) else { throw IntakeError.notAPublishedArticle }
        let requesterID = try await requesters.findOrCreate(input.requester, on: connection, now: now, logger: logger)
        var details: [String: JSONValue] = ["selfService": true]
        if let contact = TicketIntake.contact(input.requester) { details["contact"] = contact }
        let draft = TicketDraft(
            tier: .selfService, impact: .low, urgency: .low, category: article.category, channel: .web, subject: input.subject,
            description: input.description ?? input.subject, requesterID: requesterID, channelDetails: details)
        let actor = "requester:\(requesterID.uuidString.lowercased())"
        _ = try await tickets.insert(
            draft, event: EventDraft(id: draft.id, TicketCreated(channel: .web, facts: SubmissionFacts()), actor: actor), on: connection, now: now,
            logger: logger)
        return try await tickets.update(
            draft.id, to: .resolved,
            event: EventDraft(
                TicketResolved(resolution: "Solved with the article \"\(article.title)\"", code: nil, articleId: article.id, tier: Tier.selfService.rawValue),
                actor: actor),
            on: connection, now: now, logger: logger)
    }
}
