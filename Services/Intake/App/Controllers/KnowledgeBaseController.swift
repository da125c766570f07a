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
        router.post("v1/kb/articles/{id}/votes", use: vote)
        router.delete("v1/kb/articles/{id}", use: retire)
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

    @Sendable func article(request: Request, context: AppRequestContext) async throws -> JSONResponse<Article> {
        guard let id = context.parameters.get("id", as: UUID.self),
            let article = try await deps.knowledgeBase.find(id, on: deps.runtime.postgres, logger: context.logger)
        else { throw Problem.notFound("article") }
        return JSONResponse(article)
    }

    /// Retires an article (agents, admin): it leaves search and suggestions; tickets that cite it keep the reference.
    @Sendable func retire(request: Request, context: AppRequestContext) async throws -> Response {
        switch try context.authenticated() {
        case .admin, .agent: break
        default: throw Problem.forbidden("articles are retired by agents and the admin")
        }
        guard let id = context.parameters.get("id", as: UUID.self),
            try await deps.knowledgeBase.retire(id, on: deps.runtime.postgres, now: Date(), logger: context.logger)
        else { throw Problem.notFound("article") }
        return Response(status: .noContent)
    }

    /// Agents and the admin write articles directly; resolving a ticket with an article also publishes one.
    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let level: Tier?
        switch try context.authenticated() {
        case .admin: level = nil
        case .agent(let agent): level = agent.tiers.max()
        default: throw Problem.forbidden("articles are written by agents and the admin")
        }
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(CreateArticleRequest.self, context: context)
        try input.validate()
        let knowledgeBase = deps.knowledgeBase
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/kb/articles", context), fingerprint: try Idempotency.fingerprint(input),
            client: deps.runtime.postgres, now: Date(), logger: context.logger
        ) { connection in
            let id = try await knowledgeBase.publish(input, authorLevel: level, on: connection, now: Date(), logger: context.logger)
            guard let article = try await knowledgeBase.find(id, on: connection, logger: context.logger) else { throw Problem.notFound("article") }
            return try StoredResponse(article, status: .created, location: "/v1/kb/articles/\(id.uuidString.lowercased())")
        }
        return stored.response()
    }

    /// Helpful or not: one vote per voter (the caller's token, or their address), feeding the ranking.
    @Sendable func vote(request: Request, context: AppRequestContext) async throws -> JSONResponse<[String: Int]> {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw Problem.notFound("article") }
        let input = try await request.decodeJSON(VoteRequest.self, context: context)
        let voter = Secrets.hash(request.headers[.authorization] ?? "address:\(context.remoteAddress?.ipAddress ?? "unknown")")
        let knowledgeBase = deps.knowledgeBase
        let (helpful, notHelpful) = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
            guard try await knowledgeBase.find(id, on: connection, logger: context.logger) != nil else { throw Problem.notFound("article") }
            return try await knowledgeBase.vote(id, voter: voter, helpful: input.helpful, on: connection, now: Date(), logger: context.logger)
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

    /// The requester solved it from an article: a ticket resolved at level 0, with the article as
    /// its resolution and a helpful vote for it.
    @Sendable func resolve(request: Request, context: AppRequestContext) async throws -> Response {
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(SelfServiceResolutionRequest.self, context: context)
        try input.validate()
        try deps.requesterLimiter.take("requester:\(RequesterStore.normalize(input.requester.email))")
        let (knowledgeBase, requesters, tickets, secret) = (deps.knowledgeBase, deps.requesters, deps.runtime.tickets, deps.secret)
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/self-service/resolutions", context), fingerprint: try Idempotency.fingerprint(input),
            client: deps.runtime.postgres, now: Date(), logger: context.logger
        ) { connection in
            let now = Date()
            guard let article = try await knowledgeBase.find(input.articleId, on: connection, logger: context.logger) else {
                throw Problem.validation([FieldError(field: "articleId", message: "is not a published article")])
            }
            let requesterID = try await requesters.upsert(input.requester, on: connection, now: now, logger: context.logger)
            let draft = TicketDraft(
                tier: .selfService, impact: .low, urgency: .low, category: article.category, channel: .web, subject: input.subject,
                description: input.description ?? input.subject, requesterID: requesterID, channelDetails: ["selfService": true])
            let actor = "requester:\(requesterID.uuidString.lowercased())"
            _ = try await tickets.insert(draft, event: EventDraft(id: draft.id, type: .ticketCreated, actor: actor, data: ["channel": "web"]), on: connection, now: now, logger: context.logger)
            let resolved = try await tickets.update(
                draft.id, to: .resolved,
                event: EventDraft(
                    type: .ticketResolved, actor: actor,
                    data: ["resolution": .string("Solved with the article \"\(article.title)\""), "articleId": .string(article.id.uuidString.lowercased()), "tier": 0]),
                on: connection, now: now, logger: context.logger)
            _ = try await knowledgeBase.vote(article.id, voter: Secrets.hash("requester:\(requesterID)"), helpful: true, on: connection, now: now, logger: context.logger)
            return try StoredResponse(
                SubmitTicketResponse(
                    id: resolved.id, reference: resolved.reference, status: resolved.status, requesterToken: Secrets.requesterToken(ticketID: resolved.id, secret: secret)),
                status: .created, location: "/v1/tickets/\(resolved.id.uuidString.lowercased())")
        }
        return stored.response()
    }
}
