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
        router.post("v1/tickets/{id}/de-escalate", use: deescalate)
        router.post("v1/tickets/{id}/reassign", use: reassign)
        router.post("v1/tickets/{id}/close", use: close)
        router.post("v1/tickets/{id}/reopen", use: reopen)
        router.post("v1/tickets/{id}/collaborators", use: addCollaborator)
        router.delete("v1/tickets/{id}/collaborators/{agentId}", use: removeCollaborator)
    }

    /// The agent view: everything, with the requester's other tickets (those the caller may read),
    /// the knowledge-base articles that fit (from intake) and the ticket's problem (from triage),
    /// each absent, logged and named in `unavailable` when the peer does not answer in time; the SLA clock, the
    /// swarm, what the latest escalation into the ticket's level carried, and a vendor's question
    /// waiting for an answer.
    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<TicketDetail> {
        let (id, worker) = try caller(context)
        let runtime = deps.runtime
        let ticket = try await deps.work.visible(id, to: worker, logger: context.logger)
        async let suggested = suggestions(for: ticket, context.logger)
        async let linked = problem(of: ticket, context.logger)
        let events = try await runtime.tickets.events(of: id, publicOnly: false, on: runtime.postgres, logger: context.logger)
        let history = try await runtime.tickets.history(
            requesterID: ticket.requester.id, excluding: id, readableBy: worker.agent, on: runtime.postgres, logger: context.logger)
        let policies = deps.work.policies
        let settings = try await SLAStore().settings(on: runtime.postgres, logger: context.logger)
        let (problem, articles) = (await linked, await suggested)
        let missing = [problem.answered ? nil : "problem", articles.answered ? nil : "suggestedArticles"].compactMap { $0 }
        let work = TicketWorkContext(
            sla: SLAKeeper.state(of: ticket, events: events, settings: settings, now: runtime.clock.now()),
            workMode: try await policies.mode(for: ticket.category, on: runtime.postgres, logger: context.logger),
            collaborators: try await policies.collaborators(of: id, on: runtime.postgres, logger: context.logger),
            handOff: try await handOff(into: ticket, events: events, context.logger), problem: problem.value,
            vendorQuestion: VendorQuestion.open(in: events, status: ticket.status), unavailable: missing.isEmpty ? nil : missing,
            requesterBouncing: try await bouncing(ticket.requester.id, context.logger))
        return JSONResponse(TicketDetail(ticket: ticket, events: events, requesterHistory: history, suggestedArticles: articles.value, work: work))
    }

    /// Whether mail to the requester's address bounces (`mail_bounces`, intake's, read with SQL like the requester).
    func bouncing(_ requesterID: UUID, _ logger: Logger) async throws -> MailBounce? {
        try await deps.runtime.postgres.first(
            """
            SELECT b.address, b.status, b.diagnostic, b.first_bounced_at, b.last_bounced_at, b.bounces
            FROM mail_bounces b JOIN requesters r ON r.email_normalized = b.address_normalized WHERE r.id = \(requesterID)
            """, logger: logger
        ) { row in
            MailBounce(
                address: try row.get("address", as: String.self), status: try row.get("status", as: String?.self),
                diagnostic: try row.get("diagnostic", as: String?.self), firstBouncedAt: try row.get("first_bounced_at", as: Date.self),
                lastBouncedAt: try row.get("last_bounced_at", as: Date.self), bounces: Int(try row.get("bounces", as: Int32.self)))
        }
    }

    /// What the latest escalation into the ticket's current level carried, labelled by that level's contract.
    func handOff(into ticket: Ticket, events: [TicketEvent], _ logger: Logger) async throws -> TicketWorkContext.HandOff? {
        guard let tier = ticket.tier,
            let escalation = events.compactMap(TicketEscalated.init).last(where: { $0.toTier == tier.rawValue })
        else { return nil }
        let contract = try await deps.work.policies.contract(into: tier, on: deps.runtime.postgres, logger: logger)
        let given = escalation.handOff ?? [:]
        let labelled = contract.fields.compactMap { field in
            given[field.name].map { TicketWorkContext.HandOff.Field(name: field.name, label: field.label, value: $0) }
        }
        return TicketWorkContext.HandOff(fromTier: escalation.fromTier, toTier: tier.rawValue, reason: escalation.reason, fields: labelled)
    }

    /// The ticket's problem from triage (nil: none), and whether triage answered (logged when not).
    func problem(of ticket: Ticket, _ logger: Logger) async -> (value: ProblemRecord?, answered: Bool) {
        do {
            return (try await deps.triage.problem(ofTicket: ticket.id, logger: logger), true)
        } catch {
            logger.warning("no problem from triage", metadata: ["ticket.id": "\(ticket.id)", "error": "\(error)"])
            return (nil, false)
        }
    }

    /// The articles intake suggests for the ticket, and whether intake answered (logged when not).
    func suggestions(for ticket: Ticket, _ logger: Logger) async -> (value: [ArticleSummary], answered: Bool) {
        do {
            return (try await deps.intake.suggestions(subject: ticket.subject, description: ticket.description, logger: logger), true)
        } catch {
            logger.warning("no article suggestions", metadata: ["ticket.id": "\(ticket.id)", "error": "\(error)"])
            return ([], false)
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

    @Sendable func deescalate(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(DeescalateRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.deescalate(
                id, by: worker, input, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    @Sendable func reassign(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(ReassignRequest.self, context: context)
        try input.validate()
        guard let agent = try await deps.agents.find(input.agentId, on: deps.runtime.postgres, logger: context.logger) else {
            throw TierQueueError.notAnAgentOfTheLevel(tier: 0)
        }
        return JSONResponse(
            try await deps.work.reassign(
                id, by: worker, input, to: agent, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    @Sendable func close(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(CloseRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.close(
                id, by: worker, input, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    @Sendable func reopen(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(ReopenRequest.self, context: context)
        try input.validate()
        return JSONResponse(
            try await deps.work.reopen(
                id, by: worker, input, expectedVersion: try expectedVersion(request), now: deps.runtime.clock.now(), logger: context.logger))
    }

    /// Answers the ticket's collaborators.
    @Sendable func addCollaborator(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<UUID>> {
        let (id, worker) = try caller(context)
        let input = try await request.decodeJSON(CollaboratorRequest.self, context: context)
        guard let agent = try await deps.agents.find(input.agentId, on: deps.runtime.postgres, logger: context.logger) else {
            throw TierQueueError.agentNotFound
        }
        let collaborators = try await deps.work.addCollaborator(id, by: worker, agent: agent, now: deps.runtime.clock.now(), logger: context.logger)
        return JSONResponse(Page(items: collaborators, nextCursor: nil))
    }

    @Sendable func removeCollaborator(request: Request, context: AppRequestContext) async throws -> Response {
        let (id, worker) = try caller(context)
        guard let agentID = context.parameters.get("agentId", as: UUID.self) else { throw TierQueueError.collaboratorNotFound }
        try await deps.work.removeCollaborator(id, by: worker, agentID: agentID, now: deps.runtime.clock.now(), logger: context.logger)
        return Response(status: .noContent)
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
        case .agent(let agent): return (id, .agent(agent))
        case .admin(let admin): return (id, .admin(admin))
        default: throw Problem.forbidden("this needs an agent or an administrator")
        }
    }
}
