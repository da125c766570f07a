import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Agents look up a requester and their history.
struct RequesterController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("v1/requesters/{id}") { request, context in
            switch try context.authenticated() {
            case .admin, .agent: break
            default: throw Problem.forbidden("requesters are for agents and the admin")
            }
            guard let id = context.parameters.get("id", as: UUID.self) else { throw Problem.notFound("requester") }
            let limit = try Pagination.limit(request)
            let runtime = deps.runtime
            guard let profile = try await deps.requesters.find(id, on: runtime.postgres, logger: context.logger) else { throw Problem.notFound("requester") }
            let tickets = try await runtime.tickets.history(requesterID: id, excluding: nil, limit: limit, on: runtime.postgres, logger: context.logger)
            return JSONResponse(RequesterProfile(
                id: profile.id, email: profile.email, name: profile.name, phone: profile.phone, organization: profile.organization,
                createdAt: profile.createdAt, tickets: tickets))
        }
    }
}
