import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// An agent's work on one ticket: read it whole, comment, wait, resolve, escalate (see `TicketWork`).
/// Any tier-queue instance serves these (the database is shared); only queues are per level.
struct TicketWorkController: Sendable {
    let deps: TierQueueDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/tickets/{id}", use: show)
        router.post("v1/tickets/{id}/comments", use: comment)
        router.post("v1/tickets/{id}/pending", use: pending)
        router.post("v1/tickets/{id}/resolve", use: resolve)
        router.post("v1/tickets/{id}/escalate", use: escalate)
    }

    /// The agent view: everything, with the requester's other tickets (those the caller may read)
    /// and the knowledge-base articles that fit (from intake; an empty list, logged, when intake
    /// does not answer in time).
    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<TicketDetail> {
        let (id, worker) = try caller(context)
        let runtime = deps.runtime
        let ticket = try await deps.work.visible(id, to: worker, logger: context.logger)
        async let articles = suggestions(for: ticket, context.logger)
        let events = try await runtime.tickets.events(of: id, publicOnly: false, on: runtime.postgres, logger: context.logger)
        let history = try await runtime.tickets.history(
            requesterID: ticket.requester.id, excluding: id, readableBy: worker.agent, on: runtime.postgres, logger: context.logger)
        return JSONResponse(TicketDetail(ticket: ticket, events: events, requesterHistory: history, suggestedArticles: await articles))
    }

    func suggestions(for ticket: Ticket, _ logger: Logger) async -> [ArticleSummary] {
        do {
            return try await deps.intake.suggestions(subject: ticket.subject, description: ticket.description, logger: logger)
        } catch {
            logger.warning("no article suggestions", metadata: ["ticket.id": "\(ticket.id)", "error": "\(error)"])
            return []
        }
    }

    @Sendable func comment(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(CommentRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.comment(
                id, by: worker, message: input.message, isInternal: input.internal ?? false, expectedVersion: try expectedVersion(request),
                now: deps.runtime.clock.now(), logger: context.logger))
    }

    @Sendable func pending(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(PendingRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.pend(
                id, by: worker, input, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    @Sendable func resolve(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(ResolveRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.resolve(
                id, by: worker, input, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    @Sendable func escalate(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(EscalateRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.escalate(
                id, by: worker, input, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    /// `If-Match: <version>` makes a change conditional on the version the agent read.
    func expectedVersion(_ request: Request) throws -> Int? {
        guard let header = request.headers[.ifMatch] else { return nil }
        let text = header.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))
        guard let version = Int(text), version > 0 else {
            throw Problem.validation([FieldError(field: "If-Match", message: "must be the ticket's version, a positive whole number")])
        }
        return version
    }

    func caller(_ context: AppRequestContext) throws -> (UUID, TicketWorker) {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw TierQueueError.ticketNotFound }
        switch try context.authenticated() {
        case .admin: return (id, .admin)
        case .agent(let agent): return (id, .agent(agent))
        default: throw Problem.forbidden("this needs an agent token")
        }
    }
}
