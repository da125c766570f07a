import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Staff people (agents, team leads, administrators, auditors) and their first tokens; the bootstrap
/// token's one route.
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
            let (agents, now) = (deps.agents, deps.runtime.clock.now())
            let agent = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await agents.create(input, on: connection, now: now, logger: context.logger)
            }
            return JSONResponse(agent, status: .created)
        }
        /// The bootstrap token (`TIERDESK_ADMIN_TOKEN`) creates an administrator while no active one
        /// exists (a new install, or every administrator deactivated); 409 after. Its answer carries
        /// the administrator's first token; after that the bootstrap token can be switched off.
        router.post("v1/bootstrap") { request, context in
            guard try context.authenticated() == .bootstrap else { throw Problem.forbidden("this needs the bootstrap token (TIERDESK_ADMIN_TOKEN)") }
            let input = try await request.decodeJSON(BootstrapRequest.self, context: context)
            try input.validate()
            let (agents, now) = (deps.agents, deps.runtime.clock.now())
            let admin = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                // One bootstrap at a time: two racing calls do not both find no administrator.
                try await connection.execute("LOCK TABLE agents IN SHARE ROW EXCLUSIVE MODE", logger: context.logger)
                guard try await !agents.hasActiveAdministrator(on: connection, logger: context.logger) else { throw TierQueueError.alreadyBootstrapped }
                return try await agents.create(
                    CreateAgentRequest(name: input.name, email: input.email, tiers: [], role: .admin), on: connection, now: now, logger: context.logger)
            }
            return JSONResponse(admin, status: .created)
        }
        /// Who the calling staff token belongs to: any staff person (the console asks at sign-in).
        router.get("v1/staff/me") { _, context in
            guard let id = try context.authenticated().personID else { throw Problem.forbidden("this needs a staff token") }
            guard let person = try await deps.agents.find(id, on: deps.runtime.postgres, logger: context.logger) else { throw TierQueueError.agentNotFound }
            return JSONResponse(person)
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
        /// Another agent's worklist: for administrators, and for team leads when the agent works one of
        /// their levels (a lead sees only the tickets at its own levels: a page may hold fewer than `limit`).
        router.get("v1/agents/{id}/tickets") { request, context in
            let id = try agentID(context)
            let lead = try context.requireAgentOrAdmin()
            if let lead {
                guard lead.isLead else { throw Problem.forbidden("another agent's worklist is for its team leads and administrators") }
                guard let agent = try await deps.agents.find(id, on: deps.runtime.postgres, logger: context.logger),
                    !lead.tiers.isDisjoint(with: agent.tiers)
                else { throw TierQueueError.agentNotFound }
            }
            let cursor = try Pagination.cursor(request, QueueCursor.init(encoded:))
            var page = try await deps.runtime.tickets.worklist(
                of: id, limit: try Pagination.limit(request), after: cursor, on: deps.runtime.postgres, logger: context.logger)
            if let lead { page.items.removeAll { !($0.tier.map(lead.tiers.contains) ?? false) } }
            return JSONResponse(page)
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
        /// New credentials, shown once: every token and session of the person stops working (within
        /// 5 s on every replica).
        router.post("v1/agents/{id}/token") { _, context in
            try context.requireAdmin()
            let (id, agents, now) = (try agentID(context), deps.agents, deps.runtime.clock.now())
            let agent = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await agents.rotateToken(id: id, on: connection, now: now, logger: context.logger)
            }
            guard let agent else { throw TierQueueError.agentNotFound }
            return JSONResponse(agent)
        }
    }
}
