import Crypto
import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// Level 0: the knowledge base, suggestions before a ticket is filed, and resolutions the
/// requester found alone (recorded as tickets resolved at level 0).
struct KnowledgeBaseController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("v1/kb/search", use: search)
        router.get("v1/kb/articles/{id}", use: article)
        router.post("v1/kb/articles", use: create)
        router.put("v1/kb/articles/{id}", use: edit)
        router.post("v1/kb/articles/{id}/votes", use: vote)
        router.delete("v1/kb/articles/{id}", use: retire)
        router.get("v1/kb/drafts", use: drafts)
        router.post("v1/kb/articles/{id}/publish", use: publishDraft)
        router.post("v1/self-service/suggestions", use: suggest)
        router.post("v1/self-service/resolutions", use: resolve)
    }

    /// `?q=` ranked, with highlighted snippets; `?limit=` (default 10, at most 50).
    @Sendable func search(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ArticleSummary>> {
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        var v = Validation()
        v.text(query, field: "q", maxLength: 200)
        try v.check()
        let limit = try Pagination.limit(request, default: 10, max: 50)
        let items = try await deps.knowledgeBase.search(query, subject: query, limit: limit, on: deps.runtime.postgres, logger: context.logger)
        return JSONResponse(Page(items: items, nextCursor: nil))
    }

    /// A published article; who wrote it and from which ticket only for agents and the admin.
    @Sendable func article(request: Request, context: AppRequestContext) async throws -> JSONResponse<Article> {
        guard let id = context.parameters.get("id", as: UUID.self),
            var article = try await deps.knowledgeBase.find(id, on: deps.runtime.postgres, logger: context.logger)
        else { throw IntakeError.articleNotFound }
        switch context.principal {
        case .agent, .admin: break
        default:
            article.sourceTicketId = nil
            article.authorAgentId = nil
        }
        return JSONResponse(article)
    }

    /// Drafts from levels 1 and 2 waiting for review (level 3 agents and the admin).
    @Sendable func drafts(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<Article>> {
        _ = try writer(context)
        let cursor = try Pagination.cursor(request, Cursor.instantAndID)
        return JSONResponse(
            try await deps.knowledgeBase.drafts(limit: try Pagination.limit(request), after: cursor, on: deps.runtime.postgres, logger: context.logger))
    }

    /// Level 3 (or the admin) publishes a draft as it stands; 404 when there is no such draft.
    @Sendable func publishDraft(request: Request, context: AppRequestContext) async throws -> JSONResponse<Article> {
        _ = try writer(context)
        guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.articleNotFound }
        let (knowledgeBase, now) = (deps.knowledgeBase, deps.runtime.clock.now())
        let published = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
            guard try await knowledgeBase.publishDraft(id, on: connection, now: now, logger: context.logger) else { return nil as Article? }
            return try await knowledgeBase.find(id, on: connection, logger: context.logger)
        }
        guard let published else { throw IntakeError.articleNotFound }
        return JSONResponse(published)
    }

    /// Retires an article (level 3 agents, its author, the admin): it leaves search and suggestions;
    /// tickets that cite it keep the reference.
    @Sendable func retire(request: Request, context: AppRequestContext) async throws -> Response {
        let article = try await editable(context)
        guard try await deps.knowledgeBase.retire(article.id, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger) else {
            throw IntakeError.articleNotFound
        }
        return Response(status: .noContent)
    }

    /// Level 3 agents and the admin write articles directly; resolving a ticket with an article
    /// publishes one too (through `kb.published`, with the resolving agent as its author).
    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let author = try writer(context)
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(CreateArticleRequest.self, context: context)
        try Self.validate(input)
        let (knowledgeBase, now) = (deps.knowledgeBase, deps.runtime.clock.now())
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/kb/articles", context), fingerprint: try Idempotency.fingerprint(input),
            client: deps.runtime.postgres, now: now, logger: context.logger
        ) { connection in
            guard
                let id = try await knowledgeBase.publish(
                    input, authorLevel: author?.tiers.max(), authorAgentID: author?.id, on: connection, now: now, logger: context.logger),
                let article = try await knowledgeBase.find(id, on: connection, logger: context.logger)
            else { throw IntakeError.articleNotFound }
            return try StoredResponse(article, status: .created, location: "/v1/kb/articles/\(id.uuidString.lowercased())")
        }
        return stored.response()
    }

    /// Replaces an article's text (level 3 agents, its author, the admin).
    @Sendable func edit(request: Request, context: AppRequestContext) async throws -> JSONResponse<Article> {
        let article = try await editable(context)
        let input = try await request.decodeJSON(CreateArticleRequest.self, context: context)
        try Self.validate(input)
        let (knowledgeBase, now) = (deps.knowledgeBase, deps.runtime.clock.now())
        let updated = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
            guard try await knowledgeBase.update(article.id, with: input, on: connection, now: now, logger: context.logger) else { return nil as Article? }
            return try await knowledgeBase.find(article.id, on: connection, logger: context.logger)
        }
        guard let updated else { throw IntakeError.articleNotFound }
        return JSONResponse(updated)
    }

    /// Who may write a new article: the admin (nil) or a level 3 agent; 401/403 for anyone else.
    func writer(_ context: AppRequestContext) throws -> AgentIdentity? {
        switch try context.authenticated() {
        case .admin: return nil
        case .agent(let agent) where agent.tiers.contains(.specialist): return agent
        default: throw Problem.forbidden("articles are written by level 3 agents and the admin")
        }
    }

    /// The published article in the path, when the caller may change it: the admin, a level 3
    /// agent, or the agent who wrote it.
    func editable(_ context: AppRequestContext) async throws -> Article {
        let refused = Problem.forbidden("articles are changed by level 3 agents, their author and the admin")
        let principal = try context.authenticated()
        switch principal {
        case .admin, .agent: break
        default: throw refused
        }
        let article = try await pathArticle(context)
        if case .agent(let agent) = principal, !agent.tiers.contains(.specialist), article.authorAgentId != agent.id { throw refused }
        return article
    }

    func pathArticle(_ context: AppRequestContext) async throws -> Article {
        guard let id = context.parameters.get("id", as: UUID.self),
            let article = try await deps.knowledgeBase.find(id, on: deps.runtime.postgres, logger: context.logger)
        else { throw IntakeError.articleNotFound }
        return article
    }

    /// An article's fields, plus the slugs the system keeps for articles published from tickets.
    static func validate(_ input: CreateArticleRequest) throws {
        try input.validate()
        if input.slug?.hasPrefix("ticket-") == true { throw IntakeError.reservedSlug }
    }

    /// Helpful or not: one vote per person and article, by a verified token (the requester of a
    /// ticket, or an agent), feeding the ranking. Anonymous votes are refused: they could be stuffed.
    @Sendable func vote(request: Request, context: AppRequestContext) async throws -> JSONResponse<[String: Int]> {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.articleNotFound }
        let principal = try context.authenticated()
        let input = try await request.decodeJSON(VoteRequest.self, context: context)
        let (knowledgeBase, tickets, now) = (deps.knowledgeBase, deps.runtime.tickets, deps.runtime.clock.now())
        let (helpful, notHelpful) = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
            let voter: String
            switch principal {
            case .agent(let agent): voter = TicketStore.actor(agent)
            case .requester, .requesterAccount:
                // One person, one vote, however many tickets (and tokens) they hold.
                let requesterID: UUID
                if case .requesterAccount(let id) = principal {
                    requesterID = id
                } else {
                    guard case .requester(let ticketID) = principal, let ticket = try await tickets.find(ticketID, on: connection, logger: context.logger)
                    else { throw Problem.unauthorized }
                    requesterID = ticket.requester.id
                }
                // Only a requester an agent has served: a token anybody can get by filing a ticket would let votes be stuffed.
                let served =
                    try await connection.first(
                        """
                        SELECT 1 AS served WHERE EXISTS (
                            SELECT 1 FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id
                            WHERE t.requester_id = \(requesterID) AND e.actor LIKE 'agent:%')
                        """, logger: context.logger
                    ) { _ in true } ?? false
                guard served else { throw Problem.forbidden("votes come from requesters an agent has served, and from agents") }
                voter = "requester:\(requesterID.uuidString.lowercased())"
            default: throw Problem.forbidden("votes come from requesters and agents")
            }
            guard try await knowledgeBase.find(id, on: connection, logger: context.logger) != nil else { throw IntakeError.articleNotFound }
            return try await knowledgeBase.vote(id, voter: Secrets.hash(voter), helpful: input.helpful, on: connection, now: now, logger: context.logger)
        }
        return JSONResponse(["helpful": helpful, "notHelpful": notHelpful])
    }

    /// The best articles for a draft subject and description, before a ticket is filed.
    @Sendable func suggest(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ArticleSummary>> {
        let input = try await request.decodeJSON(SuggestionRequest.self, context: context)
        try input.validate()
        let text = input.subject + " " + input.subject + " " + (input.description ?? "")
        let items = try await deps.knowledgeBase.search(text, subject: input.subject, limit: 5, on: deps.runtime.postgres, logger: context.logger)
        return JSONResponse(Page(items: items, nextCursor: nil))
    }

    /// The requester solved it from an article: see `SelfService`.
    @Sendable func resolve(request: Request, context: AppRequestContext) async throws -> Response {
        switch context.principal {
        case .vendor, .internal, .mailGateway, .integration, .bootstrap, .auditor:
            throw Problem.forbidden("level 0 resolutions are recorded by requesters, agents and administrators")
        default: break
        }
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(SelfServiceResolutionRequest.self, context: context)
        try input.validate()
        try deps.requesterLimiter.take("requester:\(RequesterStore.normalize(input.requester.email))")
        let (selfService, now) = (deps.selfService, deps.runtime.clock.now())
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/self-service/resolutions", context), fingerprint: try Idempotency.fingerprint(input),
            client: deps.runtime.postgres, now: now, logger: context.logger
        ) { connection in
            let resolved = try await selfService.resolve(input, on: connection, now: now, logger: context.logger)
            return try StoredResponse(
                SubmitTicketResponse(id: resolved.id, reference: resolved.reference, status: resolved.status),
                status: .created, location: "/v1/tickets/\(resolved.id.uuidString.lowercased())")
        }
        return try withRequesterToken(stored, key: deps.requesterTokenKey)
    }
}
