import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Admin: agents and their tokens.
struct AgentController: Sendable {
    let deps: TierQueueDependencies

    func agentID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw TierQueueError.agentNotFound }
        return id
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("v1/agents") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(CreateAgentRequest.self, context: context)
            try input.validate()
            let agent = try await deps.agents.create(input, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger)
            return JSONResponse(agent, status: .created)
        }
        router.get("v1/agents") { request, context in
            try context.requireAdmin()
            let cursor = try Pagination.cursor(request, AgentStore.cursor)
            return JSONResponse(
                try await deps.agents.list(limit: try Pagination.limit(request), after: cursor, on: deps.runtime.postgres, logger: context.logger))
        }
        /// The calling agent, as the admin sees it.
        router.get("v1/agents/me") { _, context in
            let me = try context.requireAgent()
            guard let agent = try await deps.agents.find(me.id, on: deps.runtime.postgres, logger: context.logger) else { throw TierQueueError.agentNotFound }
            return JSONResponse(agent)
        }
        /// The calling agent's open tickets: those it holds and those it helps as a collaborator.
        router.get("v1/agents/me/tickets") { request, context in
            let me = try context.requireAgent()
            let cursor = try Pagination.cursor(request, QueueCursor.init(encoded:))
            return JSONResponse(
                try await deps.runtime.tickets.worklist(
                    of: me.id, limit: try Pagination.limit(request), after: cursor, on: deps.runtime.postgres, logger: context.logger))
        }
        /// Whom an agent can hand a ticket to or invite to swarm: any agent or the admin may look.
        router.get("v1/agents/colleagues") { request, context in
            _ = try context.requireAgentOrAdmin()
            var tier: Tier?
            if let text = request.uri.queryParameters["tier"] {
                guard let level = Int(text).flatMap(Tier.init(rawValue:)), Tier.agentTiers.contains(level) else {
                    throw TierQueueError.unknownKey("must be a level agents work: 1, 2 or 3", field: "tier")
                }
                tier = level
            }
            let cursor = try Pagination.cursor(request, AgentStore.cursor)
            return JSONResponse(
                try await deps.agents.colleagues(
                    tier: tier, limit: try Pagination.limit(request), after: cursor, on: deps.runtime.postgres, logger: context.logger))
        }
        router.get("v1/agents/{id}") { _, context in
            try context.requireAdmin()
            guard let agent = try await deps.agents.find(try agentID(context), on: deps.runtime.postgres, logger: context.logger) else {
                throw TierQueueError.agentNotFound
            }
            return JSONResponse(agent)
        }
        /// Levels, skills, WIP limit, deactivation: effective on every replica within the auth cache's 5 s.
        router.patch("v1/agents/{id}") { request, context in
            try context.requireAdmin()
            let id = try agentID(context)
            let input = try await request.decodeJSON(UpdateAgentRequest.self, context: context)
            try input.validate()
            guard let agent = try await deps.agents.update(id, with: input, on: deps.runtime.postgres, logger: context.logger) else {
                throw TierQueueError.agentNotFound
            }
            return JSONResponse(agent)
        }
        /// A new token, shown once; the old one stops working (within 5 s on every replica).
        router.post("v1/agents/{id}/token") { _, context in
            try context.requireAdmin()
            guard let agent = try await deps.agents.rotateToken(id: try agentID(context), on: deps.runtime.postgres, logger: context.logger) else {
                throw TierQueueError.agentNotFound
            }
            return JSONResponse(agent)
        }
    }
}
