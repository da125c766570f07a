import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Publishes the articles agents write when they resolve a ticket (`kb.published`), and writes the
/// mail requesters receive (`RequesterMail`) for their ticket filed (`ticket.created`, which intake
/// hands to itself) and for what the ticket store hands intake (`TicketChange.requesterMailed`).
struct IntakeEventHandler: EventHandler {
    let deps: IntakeDependencies
    var consumes: Set<EventType> { TicketChange.requesterMailed.union([.kbPublished, .ticketCreated]) }

    /// The articles one by one; the batch's mail in one read and one write.
    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        for event in events where event.type == .kbPublished {
            var eventLogger = logger
            eventLogger[metadataKey: "event.id"] = "\(event.id)"
            try await handle(event, on: connection, logger: eventLogger)
        }
        try await deps.requesterMail.write(
            for: events.filter { $0.type != .kbPublished }, on: connection, now: deps.runtime.clock.now(), logger: logger)
    }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.type == .kbPublished else { return }
        guard let published = KnowledgeArticlePublished(data: event.data) else {
            throw IntakeError.invalidEvent("a kb.published event needs a title and a body")
        }
        // One article per source ticket: resolving it again (after a reopen) updates the article.
        let slug = event.ticketId.map { "ticket-\($0.uuidString.lowercased())" }
        let article = CreateArticleRequest(title: published.title, body: published.body, category: published.category, slug: slug)
        let level = published.authorLevel.flatMap(Tier.init(rawValue:))
        let author = published.authorAgentId
        // Levels 1 and 2 write drafts that level 3 reviews, as `POST /v1/kb/articles` allows them nothing more.
        let draft = author != nil && (level ?? .firstLine) < .specialist
        let id = try await deps.knowledgeBase.publish(
            article, sourceTicketID: event.ticketId, authorLevel: level, authorAgentID: author, draft: draft, on: connection,
            now: deps.runtime.clock.now(), logger: logger)
        logger.info(
            draft ? (id == nil ? "draft dropped: the ticket's article is published" : "article drafted for level 3") : "article published",
            metadata: ["article.id": "\(id.map { "\($0)" } ?? "none")", "ticket.id": "\(event.ticketId.map { "\($0)" } ?? "none")"])
    }
}
