import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// The requester's side of a ticket: submit, follow, reply.
struct TicketController: Sendable {
    let deps: IntakeDependencies
    /// A resolved ticket reopens on a reply within this window.
    static let reopenWindow: TimeInterval = 7 * 86_400

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("v1/tickets", use: submit)
        router.get("v1/tickets/{id}", use: show)
        router.post("v1/tickets/{id}/replies", use: reply)
    }

    @Sendable func submit(request: Request, context: AppRequestContext) async throws -> JSONResponse<SubmitTicketResponse> {
        let input = try await request.decodeJSON(SubmitTicketRequest.self, context: context)
        try input.validate()
        let now = Date()
        let runtime = deps.runtime
        let ticket = try await runtime.postgres.transaction(logger: context.logger) { connection in
            let requesterID = try await deps.requesters.upsert(input.requester, on: connection, now: now, logger: context.logger)
            let draft = TicketDraft(
                impact: input.impact ?? .medium, urgency: input.urgency ?? .medium, category: input.category, channel: input.channel,
                subject: input.subject, description: input.description, requesterID: requesterID, metadata: input.metadata ?? [:])
            let event = EventDraft(
                id: draft.id, type: .ticketCreated, actor: "requester:\(requesterID.uuidString.lowercased())",
                data: ["channel": .string(input.channel.rawValue)])
            return try await runtime.tickets.insert(draft, event: event, handOff: ["triage"], on: connection, now: now, logger: context.logger)
        }
        context.logger.info("ticket submitted", metadata: ["ticket.id": "\(ticket.id)", "ticket.reference": "\(ticket.reference)"])
        let response = SubmitTicketResponse(
            id: ticket.id, reference: ticket.reference, status: ticket.status,
            requesterToken: Secrets.requesterToken(ticketID: ticket.id, secret: deps.secret))
        return JSONResponse(response, status: .created, headers: [.location: "/v1/tickets/\(ticket.id.uuidString.lowercased())"])
    }

    /// The requester's view: the ticket and its public history. Agents and admins may read it too.
    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<TicketDetail> {
        let id = try ticketID(context)
        let isRequester = try authorize(id, context)
        let runtime = deps.runtime
        guard let ticket = try await runtime.tickets.find(id, on: runtime.postgres, logger: context.logger) else { throw Problem.notFound("ticket") }
        let events = try await runtime.tickets.events(of: id, publicOnly: isRequester, on: runtime.postgres, logger: context.logger)
        return JSONResponse(TicketDetail(ticket: ticket, events: events))
    }

    /// The requester adds information. A ticket waiting on the customer, or resolved within the
    /// reopen window, goes back to its queue.
    @Sendable func reply(request: Request, context: AppRequestContext) async throws -> JSONResponse<TicketDetail> {
        let id = try ticketID(context)
        _ = try authorize(id, context)
        let input = try await request.decodeJSON(CommentRequest.self, context: context)
        try input.validate()
        let now = Date()
        let runtime = deps.runtime
        let ticket = try await runtime.postgres.transaction(logger: context.logger) { connection in
            guard let current = try await runtime.tickets.find(id, on: connection, logger: context.logger) else { throw Problem.notFound("ticket") }
            let actor = "requester:\(current.requester.id.uuidString.lowercased())"
            let reopening = current.status == .resolved && now.timeIntervalSince(current.updatedAt) <= Self.reopenWindow
            let event = EventDraft(
                type: reopening ? .ticketReopened : .ticketCommented, actor: actor, data: ["message": .string(input.message), "from": "requester"])
            return try await runtime.tickets.update(id, event: event, on: connection, now: now, logger: context.logger) { ticket in
                switch ticket.status {
                case .pendingCustomer, .resolved where reopening:
                    ticket.requeue(tier: max(ticket.tier ?? .firstLine, .firstLine), now: now)
                case .resolved, .closed:
                    throw Problem.conflict("this ticket is \(ticket.status.rawValue); submit a new ticket instead", type: "ticket-closed")
                default:
                    break
                }
            }
        }
        let events = try await runtime.tickets.events(of: id, publicOnly: true, on: runtime.postgres, logger: context.logger)
        return JSONResponse(TicketDetail(ticket: ticket, events: events))
    }

    func ticketID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw Problem.notFound("ticket") }
        return id
    }

    /// The ticket's own requester token, an agent or the admin; true when the caller is the requester.
    func authorize(_ id: UUID, _ context: AppRequestContext) throws -> Bool {
        switch try context.authenticated() {
        case .requester(let token):
            guard Secrets.verifyRequesterToken(token, ticketID: id, secret: deps.secret) else {
                throw Problem.forbidden("this requester token belongs to another ticket")
            }
            return true
        case .admin, .agent: return false
        case .internal, .vendor: throw Problem.forbidden("this needs the ticket's requester token or an agent token")
        }
    }
}
