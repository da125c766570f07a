import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// An agent's work on one ticket: read it whole, comment, wait, resolve, escalate.
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

    /// The agent view: everything, with the requester's other tickets and the knowledge-base
    /// articles that fit (from intake; an empty list, logged, when intake does not answer in time).
    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<TicketDetail> {
        let (id, actor) = try caller(context)
        let runtime = deps.runtime
        let ticket = try await load(id, actor, context)
        async let articles = suggestions(for: ticket, context.logger)
        let events = try await runtime.tickets.events(of: id, publicOnly: false, on: runtime.postgres, logger: context.logger)
        let history = try await runtime.tickets.history(
            requesterID: ticket.requester.id, excluding: id, readableBy: actor.agent, on: runtime.postgres, logger: context.logger)
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

    /// A public reply to the requester or, with `internal: true`, a note only agents see.
    @Sendable func comment(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, actor) = try caller(context)
        _ = try await load(id, actor, context)
        let input = try await request.decodeJSON(CommentRequest.self, context: context)
        try input.validate()
        let event = EventDraft(type: .ticketCommented, actor: actor.name, isPublic: !(input.internal ?? false), data: ["message": .string(input.message)])
        return JSONResponse(try await change(id, event: event, request, context) { ticket in
            try actor.mayWork(on: ticket)
            guard ticket.status != .closed else { throw Problem.conflict("the ticket is closed", type: "invalid-transition") }
        })
    }

    /// Waiting on the customer or a vendor: the assignee pauses the ticket.
    @Sendable func pending(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, actor) = try caller(context)
        _ = try await load(id, actor, context)
        let input = try await request.decodeJSON(PendingRequest.self, context: context)
        try input.validate()
        let event = EventDraft(type: .ticketPending, actor: actor.name, data: ["on": .string(input.on.rawValue), "reason": .string(input.reason)])
        return JSONResponse(try await change(id, to: input.on == .customer ? .pendingCustomer : .pendingVendor, event: event, request, context) { ticket in
            try actor.mayWork(on: ticket, asAssignee: true)
        })
    }

    /// Resolves the ticket; an `article` is handed to intake to publish in the knowledge base.
    @Sendable func resolve(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, actor) = try caller(context)
        _ = try await load(id, actor, context)
        let input = try await request.decodeJSON(ResolveRequest.self, context: context)
        try input.validate()
        let now = Date()
        let runtime = deps.runtime
        let expected = try expectedVersion(request)
        let ticket = try await runtime.postgres.transaction(logger: context.logger) { connection in
            let event = EventDraft(type: .ticketResolved, actor: actor.name, data: ["resolution": .string(input.resolution)])
            let ticket = try await runtime.tickets.update(
                id, to: .resolved, expectedVersion: expected, event: event, on: connection, now: now, logger: context.logger
            ) { ticket in
                try actor.mayWork(on: ticket, asAssignee: true)
            }
            if let article = input.article {
                let publish = EventDraft(
                    type: .kbPublished, actor: actor.name,
                    data: [
                        "title": .string(article.title), "body": .string(article.body), "category": .optional(ticket.category),
                        "sourceTicketId": .string(id.uuidString.lowercased()), "authorLevel": .optional(ticket.tier?.rawValue),
                        "authorAgentId": .optional(actor.agent?.id.uuidString.lowercased()),
                    ])
                try await runtime.tickets.record(publish, ticketID: id, handOff: ["intake"], on: connection, now: now, logger: context.logger)
            }
            return ticket
        }
        return JSONResponse(ticket)
    }

    /// One level up by default; `toTier` names a higher level; level 4 hands the ticket to a vendor
    /// through vendor-bridge (the named one, or the one whose categories cover the ticket).
    @Sendable func escalate(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let (id, actor) = try caller(context)
        let input = try await request.decodeJSON(EscalateRequest.self, context: context)
        try input.validate()
        let before = try await load(id, actor, context)
        try actor.mayWork(on: before)
        guard let from = before.tier, let target = input.toTier.flatMap(Tier.init(rawValue:)) ?? from.next, target > from else {
            throw Problem.validation([FieldError(field: "toTier", message: "must be above the ticket's level \(before.tier?.rawValue ?? 0)")])
        }
        var vendorID: UUID?
        if target == .vendor {
            vendorID = try await deps.vendorBridge.resolveVendor(id: input.vendorId, category: before.category, logger: context.logger)
            guard vendorID != nil else {
                let detail = input.vendorId == nil ? "no vendor covers category '\(before.category ?? "none")'; name a vendorId" : "is not a registered vendor"
                throw Problem.validation([FieldError(field: "vendorId", message: detail)])
            }
        }
        let chosenVendor = vendorID
        let event = EventDraft(
            type: .ticketEscalated, actor: actor.name,
            data: [
                "fromTier": .optional(from.rawValue), "toTier": .optional(target.rawValue), "reason": .string(input.reason),
                "vendorId": .optional(vendorID?.uuidString.lowercased()),
            ])
        let move: TicketStatus = target == .vendor ? .pendingVendor : .queued
        let ticket = try await change(id, to: move, event: event, handOff: target == .vendor ? ["vendor-bridge"] : [], request, context) { ticket in
            try actor.mayWork(on: ticket)
            guard ticket.tier == from else {
                throw Problem.conflict("the ticket changed while escalating; read it again", type: "stale-version")
            }
            if target == .vendor {
                ticket.tier = .vendor
                ticket.vendorId = chosenVendor
            } else {
                ticket.requeue(tier: target, now: Date())
            }
        }
        return JSONResponse(ticket)
    }

    // MARK: - helpers

    /// The ticket, when the caller may read it (`TicketStore.agentMayRead`); 404 otherwise, as if
    /// it did not exist.
    func load(_ id: UUID, _ actor: Actor, _ context: AppRequestContext) async throws -> Ticket {
        let tickets = deps.runtime.tickets
        guard let ticket = try await tickets.find(id, on: deps.runtime.postgres, logger: context.logger) else { throw Problem.notFound("ticket") }
        if let agent = actor.agent {
            guard try await tickets.agentMayRead(ticket, agent: agent, on: deps.runtime.postgres, logger: context.logger) else { throw Problem.notFound("ticket") }
        }
        return ticket
    }

    func change(
        _ id: UUID, to target: TicketStatus? = nil, event: EventDraft, handOff: [String] = [], _ request: Request, _ context: AppRequestContext, _ edit: @escaping @Sendable (inout Ticket) throws -> Void)
        async throws -> Ticket
    {
        let runtime = deps.runtime
        let expected = try expectedVersion(request)
        return try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await runtime.tickets.update(
                id, to: target, expectedVersion: expected, event: event, handOff: handOff, on: connection, now: Date(), logger: context.logger, edit)
        }
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

    func caller(_ context: AppRequestContext) throws -> (UUID, Actor) {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw Problem.notFound("ticket") }
        switch try context.authenticated() {
        case .admin: return (id, .admin)
        case .agent(let agent): return (id, .agent(agent))
        default: throw Problem.forbidden("this needs an agent token")
        }
    }
}

/// Who works a ticket, and the rule for what they may touch.
enum Actor {
    case admin
    case agent(AgentIdentity)

    var name: String {
        switch self {
        case .admin: "admin"
        case .agent(let agent): TicketStore.actor(agent)
        }
    }

    /// The agent, or nil for the admin.
    var agent: AgentIdentity? {
        if case .agent(let agent) = self { return agent }
        return nil
    }

    /// An agent works tickets of its levels, and those assigned to it; `asAssignee` requires the
    /// ticket to be theirs (the admin may always act).
    func mayWork(on ticket: Ticket, asAssignee: Bool = false) throws {
        guard case .agent(let agent) = self else { return }
        if ticket.assigneeId == agent.id { return }
        if asAssignee {
            throw Problem.forbidden("only the agent working this ticket may do that; claim it first")
        }
        guard let tier = ticket.tier, agent.tiers.contains(tier) else {
            throw Problem.forbidden("this ticket is at level \(ticket.tier?.rawValue ?? 0), which you do not work")
        }
    }
}
