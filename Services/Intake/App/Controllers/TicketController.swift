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

    /// Opens a ticket. `Idempotency-Key` makes retries safe (the replay answers the requester token
    /// again); without one, an identical submission from the same requester within a minute answers
    /// the first ticket as a duplicate, without its token. What a caller may set follows what it
    /// proves (`SubmissionRights`): an anonymous caller files on the web, with no metadata.
    @Sendable func submit(request: Request, context: AppRequestContext) async throws -> Response {
        let submittedBy = try SubmissionRights.submitter(context.principal)
        let key = try Idempotency.key(of: request)
        if submittedBy == .requester, let key, !Idempotency.isUnguessable(key) {
            throw Problem.validation([
                FieldError(
                    field: "Idempotency-Key",
                    message: "an anonymous submission's key must be at least 128 random bits (32 or more base64url or hex characters, or a random UUID)")
            ])
        }
        let input = try await request.decodeJSON(SubmitTicketRequest.self, context: context)
        try input.validate()
        try SubmissionRights.check(input, by: context.principal)
        var details: [String: JSONValue] = [:]
        var actor: String?
        switch input.channel {
        case .phone:
            guard case .agent(let agent) = context.principal else { break }
            details["takenBy"] = .string(agent.id.uuidString.lowercased())
        case .chat:
            if let transcript = input.transcript {
                details["transcript"] = try JSONCoding.decoder.decode(JSONValue.self, from: JSONCoding.encoder.encode(transcript))
            }
        case .web, .email, .api:
            break
        }
        if case .integration(let integration) = context.principal {
            try deps.integrationLimiter.take("integration:\(integration.id)", perMinute: integration.ratePerMinute)
            details["integration"] = ["id": .string(integration.id.uuidString.lowercased()), "name": .string(integration.name)]
            actor = "integration:\(integration.id.uuidString.lowercased())"
        } else {
            try deps.requesterLimiter.take("requester:\(RequesterStore.normalize(input.requester.email))")
        }
        let (intake, now, logger) = (deps.intake, deps.runtime.clock.now(), context.logger)
        let answer = { (opened: TicketStore.Opened) throws -> StoredResponse in
            try StoredResponse(
                SubmitTicketResponse(id: opened.id, reference: opened.reference, status: opened.status, duplicate: opened.duplicate ? true : nil),
                status: opened.duplicate ? .ok : .created, location: "/v1/tickets/\(opened.id.uuidString.lowercased())")
        }
        let stored: StoredResponse
        if let key {
            stored = try await Idempotency().run(
                key: key, scope: deps.idempotencyScope("POST /v1/tickets", context), fingerprint: try Idempotency.fingerprint(input),
                client: deps.runtime.postgres, now: now, logger: logger
            ) { [actor, submittedBy] connection in
                try answer(
                    try await intake.open(
                        input, channelDetails: details, actor: actor, submittedBy: submittedBy, requesterVerified: submittedBy.vouches, on: connection,
                        now: now, logger: logger))
            }
        } else {
            // Without a key there is nothing to record beside the ticket: its two statements need no transaction.
            stored = try answer(
                try await intake.open(
                    input, channelDetails: details, actor: actor, submittedBy: submittedBy, requesterVerified: submittedBy.vouches,
                    on: deps.runtime.postgres, now: now, logger: logger))
        }
        return try withRequesterToken(stored, key: deps.requesterTokenKey)
    }

    /// The requester's view: the ticket and its public history. An agent may read it when the ticket
    /// is open to it (its levels, assigned, or worked on); the admin always.
    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<TicketDetail> {
        let id = try ticketID(context)
        let runtime = deps.runtime
        let isRequester: Bool
        switch try context.authenticated() {
        case .requester, .requesterAccount:
            _ = try await deps.requesterTicket(context)
            isRequester = true
        case .admin, .agent: isRequester = false
        default: throw Problem.forbidden("this needs the ticket's requester token or an agent token")
        }
        guard let ticket = try await runtime.tickets.find(id, on: runtime.postgres, logger: context.logger) else { throw IntakeError.ticketNotFound }
        if case .agent(let agent) = context.principal {
            guard try await runtime.tickets.agentMayRead(ticket, agent: agent, on: runtime.postgres, logger: context.logger) else {
                throw IntakeError.ticketNotFound
            }
        }
        let events = try await runtime.tickets.events(of: id, publicOnly: isRequester, on: runtime.postgres, logger: context.logger)
        return JSONResponse(isRequester ? Self.requesterView(ticket, events) : TicketDetail(ticket: ticket, events: events))
    }

    /// The requester adds information; see `TicketIntake.reply`. Only the ticket's own requester
    /// token: agents answer with tier-queue's `/comments`, under their own name.
    @Sendable func reply(request: Request, context: AppRequestContext) async throws -> Response {
        let id = try await deps.requesterTicket(context)
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(CommentRequest.self, context: context)
        try input.validate()
        let (intake, runtime, now) = (deps.intake, deps.runtime, deps.runtime.clock.now())
        let stored = try await Idempotency().run(
            key: key, scope: deps.idempotencyScope("POST /v1/tickets/\(id)/replies", context), fingerprint: try Idempotency.fingerprint(input),
            client: runtime.postgres, now: now, logger: context.logger
        ) { connection in
            let ticket = try await intake.reply(to: id, message: input.message, via: .web, on: connection, now: now, logger: context.logger)
            let events = try await runtime.tickets.events(of: id, publicOnly: true, on: connection, logger: context.logger)
            return try StoredResponse(Self.requesterView(ticket, events), status: .ok)
        }
        return stored.response()
    }

    /// The requester confirms the resolution: the ticket is closed. Only the ticket's requester token.
    @Sendable func confirm(request: Request, context: AppRequestContext) async throws -> JSONResponse<Ticket> {
        let id = try await deps.requesterTicket(context)
        let (runtime, now) = (deps.runtime, deps.runtime.clock.now())
        let ticket = try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await runtime.tickets.update(
                id, to: .closed, event: EventDraft(TicketClosed(confirmed: true), actor: "requester"), on: connection, now: now,
                logger: context.logger)
        }
        return JSONResponse(RequesterView.ticket(ticket))
    }

    /// What the requester reads (`RequesterView`): their ticket and its public trail through the allow-list.
    static func requesterView(_ ticket: Ticket, _ events: [TicketEvent]) -> TicketDetail {
        TicketDetail(ticket: RequesterView.ticket(ticket), events: events.compactMap { RequesterView.event($0) })
    }

    func ticketID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.ticketNotFound }
        return id
    }
}

/// A stored creation answer with the requester token put back: tokens are never stored (in
/// `idempotency_keys` neither), so a replay derives the one the first answer carried. A duplicate's
/// answer (200) never carries one.
func withRequesterToken(_ stored: StoredResponse, key: RequesterTokenKey) throws -> Response {
    guard stored.status == 201 else { return stored.response() }
    var answer = try JSONCoding.decoder.decode(SubmitTicketResponse.self, from: Data(stored.body.utf8))
    answer.requesterToken = key.token(ticketID: answer.id)
    var response = stored
    response.body = try JSONCoding.string(answer)
    return response.response()
}
