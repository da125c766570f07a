import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Admin: integration keys for monitoring systems and portals, and revoking a ticket's requester token.
struct IntegrationController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("v1/integrations") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(CreateIntegrationRequest.self, context: context)
            try input.validate()
            if let expiresAt = input.expiresAt, expiresAt <= deps.runtime.clock.now() {
                throw Problem.validation([FieldError(field: "expiresAt", message: "must be in the future")])
            }
            let created = try await deps.integrations.create(
                input, defaultRate: deps.configuration.ratePerIntegration, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger)
            return JSONResponse(created, status: .created)
        }
        router.get("v1/integrations") { request, context in
            try context.requireAdmin()
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, NameCursor.init(encoded:))
            return JSONResponse(try await deps.integrations.list(limit: limit, after: cursor, on: deps.runtime.postgres, logger: context.logger))
        }
        router.delete("v1/integrations/{id}") { _, context in
            try context.requireAdmin()
            guard let id = context.parameters.get("id", as: UUID.self),
                try await deps.integrations.revoke(id, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger)
            else { throw IntakeError.integrationNotFound }
            return Response(status: .noContent)
        }
        router.post("v1/tickets/{id}/requester-token") { _, context in
            try context.requireAdmin()
            guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.ticketNotFound }
            let tokens = deps.requesterTokens
            let token = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await tokens.rotate(ticketID: id, on: connection, now: deps.runtime.clock.now(), logger: context.logger)
            }
            guard let token else { throw IntakeError.ticketNotFound }
            context.logger.notice("requester token revoked and reissued", metadata: ["ticket.id": "\(id)"])
            return JSONResponse(RequesterTokenResponse(ticketId: id, requesterToken: token))
        }
    }
}
