import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Problem records: listed and read by agents and the admin, worked by level 3 agents and the admin.
struct ProblemController: Sendable {
    let deps: TriageDependencies

    func problemID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw TriageError.notFound("problem") }
        return id
    }

    /// The admin or any agent; answers who, for the trail.
    func reader(_ context: AppRequestContext) throws -> String {
        _ = try context.requireAgentOrAdmin()
        return context.principal?.trailName ?? "admin"
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let store = deps.problems
        let postgres = deps.runtime.postgres
        router.get("v1/problems") { request, context in
            _ = try reader(context)
            let query = request.uri.queryParameters
            var status: ProblemStatus?
            if let text = query["status"] {
                guard let parsed = ProblemStatus(rawValue: String(text)) else {
                    throw Problem.validation([FieldError(field: "status", message: "must be open or resolved")])
                }
                status = parsed
            }
            let category = query["category"].map(String.init)
            var v = Validation()
            v.slug(category, field: "category", maxLength: 64)
            try v.check()
            let cursor = try Pagination.cursor(request, Cursor.instantAndID)
            var page = try await store.list(
                status: status, category: category, limit: try Pagination.limit(request), after: cursor, on: postgres, logger: context.logger)
            page.items = try await store.readable(page.items, by: try context.requireAgentOrAdmin(), on: postgres, logger: context.logger)
            return JSONResponse(page)
        }
        /// tier-queue's agent view: the problem of a ticket (`{"problem": null}` when it has none).
        router.get("internal/v1/tickets/{id}/problem") { _, context in
            try context.requireInternal()
            guard let ticketID = context.parameters.get("id", as: UUID.self) else { throw TriageError.notFound("ticket") }
            return JSONResponse(TicketProblem(problem: try await store.problem(ofTicket: ticketID, on: postgres, logger: context.logger)))
        }
        router.get("v1/problems/{id}") { _, context in
            _ = try reader(context)
            var readableBy: AgentIdentity?
            if case .agent(let agent) = try context.authenticated() { readableBy = agent }
            guard let detail = try await store.detail(try problemID(context), readableBy: readableBy, on: postgres, logger: context.logger) else {
                throw TriageError.notFound("problem")
            }
            return JSONResponse(detail)
        }
        router.patch("v1/problems/{id}") { request, context in
            let actor = try reader(context)
            if case .agent(let agent) = try context.authenticated(), !agent.tiers.contains(.specialist) {
                throw Problem.forbidden("problems are worked by level 3 agents and the admin")
            }
            let id = try problemID(context)
            let input = try await request.decodeJSON(UpdateProblemRequest.self, context: context)
            try input.validate()
            let problem = try await postgres.transaction(logger: context.logger) { connection in
                try await store.update(id, with: input, actor: actor, on: connection, now: deps.runtime.clock.now(), logger: context.logger)
            }
            return JSONResponse(try await store.readable([problem], by: try context.requireAgentOrAdmin(), on: postgres, logger: context.logger)[0])
        }
        /// A level 2 or 3 agent (or the admin) confirms a storm's mass change; see `ProblemStore.confirmStorm`.
        router.post("v1/problems/{id}/storm/confirm") { _, context in
            let actor = try reader(context)
            if case .agent(let agent) = try context.authenticated(), agent.tiers.isDisjoint(with: [.backOffice, .specialist]) {
                throw Problem.forbidden("a storm is confirmed by level 2 or 3 agents and the admin")
            }
            let id = try problemID(context)
            let problem = try await postgres.transaction(logger: context.logger) { connection in
                try await store.confirmStorm(id, by: actor, on: connection, now: deps.runtime.clock.now(), logger: context.logger)
            }
            return JSONResponse(try await store.readable([problem], by: try context.requireAgentOrAdmin(), on: postgres, logger: context.logger)[0])
        }
    }
}
