import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// The requester's side of a ticket: submit on any channel, follow, reply, confirm.
struct TicketController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("v1/tickets", use: submit)
        router.get("v1/tickets/{id}", use: show)
        router.post("v1/tickets/{id}/replies", use: reply)
        router.post("v1/tickets/{id}/confirm", use: confirm)
    }

    /// Opens a ticket. `Idempotency-Key` makes retries safe; without one, an identical submission
    /// from the same requester within a minute answers the first ticket again.
    @Sendable func submit(request: Request, context: AppRequestContext) async throws -> Response {
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(SubmitTicketRequest.self, context: context)
        try input.validate()
        var details: [String: JSONValue] = [:]
        switch input.channel {
        case .phone:
            // A call is entered by the agent who took it.
            guard case .agent(let agent) = context.principal else { throw Problem.forbidden("phone tickets are entered by an agent: send an agent token") }
            details["takenBy"] = .string(agent.id.uuidString.lowercased())
        case .chat:
            if let transcript = input.transcript { details["transcript"] = try JSONCoding.decoder.decode(JSONValue.self, from: JSONCoding.encoder.encode(transcript)) }
        case .web, .email, .api:
            break
        }
        try deps.requesterLimiter.take("requester:\(RequesterStore.normalize(input.requester.email))")
        let intake = deps.intake
        let secret = deps.secret
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/tickets", context), fingerprint: try Idempotency.fingerprint(input),
            client: deps.runtime.postgres, now: Date(), logger: context.logger
        ) { connection in
            let (ticket, replayed) = try await intake.open(input, channelDetails: details, on: connection, now: Date(), logger: context.logger)
            var response = try StoredResponse(
                SubmitTicketResponse(
                    id: ticket.id, reference: ticket.reference, status: ticket.status, requesterToken: Secrets.requesterToken(ticketID: ticket.id, secret: secret)),
                status: .created, location: "/v1/tickets/\(ticket.id.uuidString.lowercased())")
            response.replayed = replayed
            return response
        }
        return stored.response()
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

    /// The requester adds information; see `TicketIntake.reply`.
    @Sendable func reply(request: Request, context: AppRequestContext) async throws -> Response {
        let id = try ticketID(context)
        _ = try authorize(id, context)
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(CommentRequest.self, context: context)
        try input.validate()
        let (intake, runtime) = (deps.intake, deps.runtime)
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/tickets/\(id)/replies", context), fingerprint: try Idempotency.fingerprint(input),
            client: runtime.postgres, now: Date(), logger: context.logger
        ) { connection in
            let ticket = try await intake.reply(to: id, message: input.message, via: .web, on: connection, now: Date(), logger: context.logger)
            let events = try await runtime.tickets.events(of: id, publicOnly: true, on: connection, logger: context.logger)
            return try StoredResponse(TicketDetail(ticket: ticket, events: events), status: .ok)
        }
        return stored.response()
    }

    /// The requester confirms the resolution: the ticket is closed.
    @Sendable func confirm(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let id = try ticketID(context)
        guard try authorize(id, context) || context.principal == .admin else { throw Problem.forbidden("only the requester confirms a resolution") }
        let runtime = deps.runtime
        let ticket = try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await runtime.tickets.update(
                id, to: .closed, event: EventDraft(type: .ticketClosed, actor: "requester", data: ["confirmed": true]), on: connection, now: Date(),
                logger: context.logger)
        }
        return JSONResponse(ticket)
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
