import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// A requester's own tickets: passwordless sign-in (a single-use link by mail, 15 minutes), their
/// ticket list, signing out; and the satisfaction question on each resolved ticket, with its reports.
struct RequesterAccountController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("v1/requester-sign-in", use: requestLink)
        router.post("v1/requester-sessions", use: redeem)
        router.delete("v1/requester-sessions/current", use: signOut)
        router.get("v1/me/tickets", use: myTickets)
        router.get("v1/tickets/{id}/satisfaction", use: satisfaction)
        router.put("v1/tickets/{id}/satisfaction", use: answer)
        router.get("v1/reports/satisfaction", use: report)
    }

    /// Mails a sign-in link when the address has filed a ticket here; 202 either way, so the answer
    /// tells nobody whether an address is known.
    @Sendable func requestLink(request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(SignInLinkRequest.self, context: context)
        try input.validate()
        try deps.requesterLimiter.take("sign-in:\(RequesterStore.normalize(input.email))")
        let (runtime, accounts, now, mail) = (deps.runtime, deps.accounts, deps.runtime.clock.now(), deps.requesterMail)
        let sent = try await runtime.postgres.transaction(logger: context.logger) { connection in
            guard let link = try await accounts.issueLink(email: input.email, on: connection, now: now, logger: context.logger),
                let message = mail.signIn(key: link.key, to: link.email, name: link.name)
            else { return false }
            try await MailOutbox.enqueue(
                message, kind: RequesterMail.signInKind, ticketID: nil, source: RequesterMail.source, on: connection, now: now, logger: context.logger)
            return true
        }
        context.logger.info("sign-in link asked for", metadata: ["mailed": "\(sent)"])
        return Response(status: .accepted)
    }

    /// Redeems a link's key for a session (201), once; 401 for a key that is unknown, used or expired.
    @Sendable func redeem(request: Request, context: AppRequestContext) async throws -> JSONResponse<RequesterSession> {
        let input = try await request.decodeJSON(RequesterSessionRequest.self, context: context)
        try input.validate()
        let (runtime, accounts, now) = (deps.runtime, deps.accounts, deps.runtime.clock.now())
        let session = try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await accounts.redeem(key: input.key, on: connection, now: now, logger: context.logger)
        }
        guard let session else { throw IntakeError.signInLinkInvalid }
        context.logger.info("requester signed in", metadata: ["requester.id": "\(session.requesterId)"])
        return JSONResponse(session, status: .created)
    }

    /// Ends the caller's own session.
    @Sendable func signOut(request: Request, context: AppRequestContext) async throws -> Response {
        guard case .requesterAccount = try context.authenticated(), let token = AuthMiddleware.bearerToken(request) else {
            throw Problem.forbidden("this needs a signed-in requester's session")
        }
        try await deps.accounts.end(token: token, on: deps.runtime.postgres, logger: context.logger)
        return Response(status: .noContent)
    }

    /// The signed-in requester's tickets, newest first.
    @Sendable func myTickets(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<RequesterTicketSummary>> {
        guard case .requesterAccount(let requesterID) = try context.authenticated() else {
            throw Problem.forbidden("this needs a signed-in requester's session")
        }
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.cursor(request, Cursor.instantAndID)
        return JSONResponse(
            try await deps.accounts.tickets(of: requesterID, limit: limit, after: cursor, on: deps.runtime.postgres, logger: context.logger))
    }

    /// The ticket's answer: its requester, or an agent who may read the ticket, or the admin. 404
    /// while there is none.
    @Sendable func satisfaction(request: Request, context: AppRequestContext) async throws -> JSONResponse<Satisfaction> {
        let id = try ticketID(context)
        let runtime = deps.runtime
        switch try context.authenticated() {
        case .requester, .requesterAccount: _ = try await deps.requesterTicket(context)
        case .admin: break
        case .agent(let agent):
            guard let ticket = try await runtime.tickets.find(id, on: runtime.postgres, logger: context.logger),
                try await runtime.tickets.agentMayRead(ticket, agent: agent, on: runtime.postgres, logger: context.logger)
            else { throw IntakeError.ticketNotFound }
        default: throw Problem.forbidden("this needs the ticket's requester, an agent token or the admin token")
        }
        guard let found = try await deps.satisfaction.find(id, on: runtime.postgres, logger: context.logger) else {
            throw Problem.notFound("satisfaction answer")
        }
        return JSONResponse(found)
    }

    /// The requester's answer, given or changed: once the ticket is resolved, for 7 days after the first.
    @Sendable func answer(request: Request, context: AppRequestContext) async throws -> JSONResponse<Satisfaction> {
        let id = try await deps.requesterTicket(context)
        let input = try await request.decodeJSON(SatisfactionRequest.self, context: context)
        try input.validate()
        let (runtime, store, now) = (deps.runtime, deps.satisfaction, deps.runtime.clock.now())
        let saved = try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await store.answer(input, ticketID: id, on: connection, now: now, logger: context.logger)
        }
        context.logger.info("satisfaction answered", metadata: ["ticket.id": "\(id)", "rating": "\(saved.rating)"])
        return JSONResponse(saved)
    }

    /// `?by=level|agent|category|vendor|week&from=&to=`: the readers of the summary report.
    @Sendable func report(request: Request, context: AppRequestContext) async throws -> JSONResponse<SatisfactionReport> {
        try context.requireReportReader()
        let text = request.uri.queryParameters["by"].map(String.init) ?? SatisfactionGrouping.level.rawValue
        guard let grouping = SatisfactionGrouping(rawValue: text) else {
            throw Problem.validation([
                FieldError(field: "by", message: "must be one of \(SatisfactionGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
            ])
        }
        let (from, to) = try Pagination.window(request, now: deps.runtime.clock.now())
        return JSONResponse(try await deps.satisfaction.report(by: grouping, from: from, to: to, on: deps.runtime.postgres, logger: context.logger))
    }

    func ticketID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.ticketNotFound }
        return id
    }
}

extension IntakeDependencies {
    /// The ticket in the path when the caller is its requester: its ticket token, or the session of
    /// the requester who filed it. 404 for another ticket (nothing to learn about this one), 403 for
    /// any other caller.
    func requesterTicket(_ context: AppRequestContext) async throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.ticketNotFound }
        switch try context.authenticated() {
        case .requester(let ticketID):
            guard ticketID == id else { throw IntakeError.ticketNotFound }
        case .requesterAccount(let requesterID):
            guard try await accounts.owns(requesterID, ticket: id, on: runtime.postgres, logger: context.logger) else { throw IntakeError.ticketNotFound }
        default:
            throw Problem.forbidden("this needs the ticket's requester token or a signed-in requester's session")
        }
        return id
    }
}
