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
            let (actor, now, integrations) = (try AuditActor(context), deps.runtime.clock.now(), deps.integrations)
            let created = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                let created = try await integrations.create(
                    input, defaultRate: deps.configuration.ratePerIntegration, on: connection, now: now, logger: context.logger)
                try await AuditTrail.record(
                    "integration.created", .integration, id: "\(created.id)", before: nil, by: actor, on: connection, now: now, logger: context.logger)
                return created
            }
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
            guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.integrationNotFound }
            let (actor, now, integrations) = (try AuditActor(context), deps.runtime.clock.now(), deps.integrations)
            let revoked = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("integration.revoked", .integration, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await integrations.revoke(id, on: connection, now: now, logger: context.logger)
                }
            }
            guard revoked else { throw IntakeError.integrationNotFound }
            return Response(status: .noContent)
        }
        router.post("v1/tickets/{id}/requester-token") { _, context in
            try context.requireAdmin()
            guard let id = context.parameters.get("id", as: UUID.self) else { throw IntakeError.ticketNotFound }
            let (tokens, actor, now) = (deps.requesterTokens, try AuditActor(context), deps.runtime.clock.now())
            let token = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change(
                    "requester_token.reissued", .requesterToken, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger
                ) { try await tokens.rotate(ticketID: id, on: connection, now: now, logger: context.logger) }
            }
            guard let token else { throw IntakeError.ticketNotFound }
            context.logger.notice("requester token revoked and reissued", metadata: ["ticket.id": "\(id)"])
            return JSONResponse(RequesterTokenResponse(ticketId: id, requesterToken: token))
        }
    }
}
