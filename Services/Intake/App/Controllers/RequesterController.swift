import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Agents look up a requester and their history, and correct their profile. An agent sees a
/// requester only through a ticket it may read, and only those of their tickets; the admin sees all.
struct RequesterController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("v1/requesters/{id}", use: show)
        router.patch("v1/requesters/{id}", use: update)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<RequesterProfile> {
        let (id, agent) = try caller(context)
        let limit = try Pagination.limit(request)
        let runtime = deps.runtime
        guard var profile = try await deps.requesters.find(id, on: runtime.postgres, logger: context.logger) else { throw IntakeError.requesterNotFound }
        profile.tickets = try await runtime.tickets.history(
            requesterID: id, excluding: nil, readableBy: agent, limit: limit, on: runtime.postgres, logger: context.logger)
        if agent != nil && profile.tickets.isEmpty { throw IntakeError.requesterNotFound }
        return JSONResponse(profile)
    }

    /// The only way a stored profile changes: an agent (who may read one of the requester's
    /// tickets) or the admin, recorded in `requester_changes`.
    @Sendable func update(request: Request, context: AppRequestContext) async throws -> JSONResponse<RequesterProfile> {
        let (id, agent) = try caller(context)
        let input = try await request.decodeJSON(UpdateRequesterRequest.self, context: context)
        try input.validate()
        let (runtime, requesters, now) = (deps.runtime, deps.requesters, deps.runtime.clock.now())
        if let agent {
            let readable = try await runtime.tickets.history(
                requesterID: id, excluding: nil, readableBy: agent, limit: 1, on: runtime.postgres, logger: context.logger)
            guard !readable.isEmpty else { throw IntakeError.requesterNotFound }
        }
        let actor = context.principal?.trailName ?? "admin"
        let updated = try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await requesters.update(id, with: input, actor: actor, on: connection, now: now, logger: context.logger)
        }
        guard let updated else { throw IntakeError.requesterNotFound }
        context.logger.info("requester profile changed", metadata: ["requester.id": "\(id)", "actor": "\(actor)"])
        return JSONResponse(updated)
    }

    /// The requester in the path and the calling agent (nil for the admin); 403 for anyone else.
    func caller(_ context: AppRequestContext) throws -> (UUID, AgentIdentity?) {
        let agent: AgentIdentity?
        switch try context.authenticated() {
        case .admin: agent = nil
        case .agent(let identity): agent = identity
        default: throw Problem.forbidden("requesters are for agents and the admin")
        }
        guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.requesterNotFound }
        return (id, agent)
    }
}
