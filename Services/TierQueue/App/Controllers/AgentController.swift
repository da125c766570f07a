import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Admin: agents and their tokens.
struct AgentController: Sendable {
    let deps: TierQueueDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("v1/agents") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(CreateAgentRequest.self, context: context)
            try input.validate()
            let agent = try await deps.agents.create(input, on: deps.runtime.postgres, now: Date(), logger: context.logger)
            return JSONResponse(agent, status: .created)
        }
        router.get("v1/agents") { _, context in
            try context.requireAdmin()
            return JSONResponse(Page(items: try await deps.agents.list(on: deps.runtime.postgres, logger: context.logger), nextCursor: nil))
        }
    }
}
