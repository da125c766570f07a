import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The queue of a level: list it, claim from it.
struct QueueController: Sendable {
    let deps: TierQueueDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/queues/{tier}", use: list)
        router.post("v1/queues/{tier}/claim", use: claim)
    }

    /// The level's waiting tickets (or, `?unassigned=false`, those its agents hold) by priority, then
    /// resolution due time; `?limit=` (1-200, default 50) and `?cursor=`; narrowed by `?skill=`,
    /// `?category=`, `?priority=P2`, `?breached=true|false`.
    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<TicketSummary>> {
        let tier = try servedTier(context)
        switch try context.authenticated() {
        case .admin: break
        case .agent(let agent) where agent.tiers.contains(tier): break
        default: throw Problem.forbidden("only agents of level \(tier.rawValue) and the admin see its queue")
        }
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.cursor(request, QueueCursor.init(encoded:))
        let page = try await deps.runtime.tickets.queue(
            tier: tier, filter: try Self.filter(request), limit: limit, after: cursor, now: deps.runtime.clock.now(), on: deps.runtime.postgres,
            logger: context.logger)
        return JSONResponse(page)
    }

    /// The queue's filters from the query; 422 naming each one that is not valid.
    static func filter(_ request: Request) throws -> QueueFilter {
        let query = request.uri.queryParameters
        var v = Validation()
        let skill = query["skill"].map(String.init)
        let category = query["category"].map(String.init)
        v.slug(skill, field: "skill", maxLength: 50)
        v.slug(category, field: "category", maxLength: 64)
        var priority: Priority?
        if let text = query["priority"] {
            priority = Priority(rawValue: String(text).uppercased())
            if priority == nil { v.fail("priority", "must be P1 to P5") }
        }
        func flag(_ name: String) -> Bool? {
            guard let text = query[name[...]] else { return nil }
            switch String(text) {
            case "true": return true
            case "false": return false
            default:
                v.fail(name, "must be true or false")
                return nil
            }
        }
        let breached = flag("breached")
        let unassigned = flag("unassigned")
        try v.check()
        return QueueFilter(skill: skill, category: category, priority: priority, breached: breached, unassigned: unassigned)
    }

    /// The next ticket this agent may take, now `in_progress` and theirs; 204 when none; 409
    /// `wip-limit-reached` when the agent already holds its WIP limit.
    @Sendable func claim(request: Request, context: AppRequestContext) async throws -> Response {
        let tier = try servedTier(context)
        let agent = try context.requireAgent()
        guard agent.tiers.contains(tier) else { throw Problem.forbidden("you are not an agent of level \(tier.rawValue)") }
        let runtime = deps.runtime
        let ticket = try await runtime.tickets.claim(tier: tier, agent: agent, on: runtime.postgres, now: runtime.clock.now(), logger: context.logger)
        guard let ticket else { return Response(status: .noContent) }
        context.logger.debug("ticket claimed", metadata: ["ticket.id": "\(ticket.id)", "tier": "\(tier.rawValue)"])
        return try JSONResponse(ticket).response(from: request, context: context)
    }

    /// The `{tier}` of the path, if this instance serves it (404 otherwise: another instance does).
    func servedTier(_ context: AppRequestContext) throws -> Tier {
        guard let number = context.parameters.get("tier", as: Int.self), let tier = Tier(rawValue: number), Tier.agentTiers.contains(tier) else {
            throw TierQueueError.queueNotFound
        }
        guard deps.configuration.tiers.contains(tier) else {
            throw TierQueueError.tierNotServed(tier: tier.rawValue, served: deps.configuration.tiers.map(\.rawValue).sorted())
        }
        return tier
    }
}
