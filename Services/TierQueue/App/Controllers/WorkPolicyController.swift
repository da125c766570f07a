import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// How the levels hand work to each other: what an escalation into each level must carry, and
/// which categories swarm instead of escalating. Agents read them, the admin sets them.
struct WorkPolicyController: Sendable {
    let deps: TierQueueDependencies
    var store: WorkPolicyStore { WorkPolicyStore() }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/escalation-contracts") { _, context in
            _ = try context.requireAgentOrAdmin()
            return JSONResponse(Page(items: try await store.contracts(on: deps.runtime.postgres, logger: context.logger), nextCursor: nil))
        }
        router.put("v1/escalation-contracts/{tier}") { request, context in
            try context.requireAdmin()
            guard let number = context.parameters.get("tier", as: Int.self), let tier = Tier(rawValue: number), tier >= .backOffice else {
                throw TierQueueError.unknownKey("must be a level an escalation goes into: 2, 3 or 4", field: "tier")
            }
            let input = try await request.decodeJSON(EscalationContractRequest.self, context: context)
            try input.validate()
            let contract = EscalationContract(tier: tier, fields: input.fields)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.set(
                    "escalation_contract.set", .escalationContract, id: "\(tier.rawValue)", by: actor, on: connection, now: now, logger: context.logger
                ) { try await store.put(contract, on: connection, now: now, logger: context.logger) }
            }
            return JSONResponse(contract)
        }
        router.get("v1/work-modes") { _, context in
            _ = try context.requireAgentOrAdmin()
            return JSONResponse(Page(items: try await store.modes(on: deps.runtime.postgres, logger: context.logger), nextCursor: nil))
        }
        router.put("v1/work-modes/{category}") { request, context in
            try context.requireAdmin()
            let category = try Self.category(context)
            let input = try await request.decodeJSON(WorkModeRequest.self, context: context)
            let setting = WorkModeSetting(category: category, mode: input.mode)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.set("work_mode.set", .workMode, id: category, by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.put(setting, on: connection, now: now, logger: context.logger)
                }
            }
            return JSONResponse(setting)
        }
        router.delete("v1/work-modes/{category}") { _, context -> Response in
            try context.requireAdmin()
            let category = try Self.category(context)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let deleted = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("work_mode.deleted", .workMode, id: category, by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.deleteMode(category: category, on: connection, logger: context.logger)
                }
            }
            guard deleted else { throw Problem.notFound("work mode") }
            return Response(status: .noContent)
        }
    }

    static func category(_ context: AppRequestContext) throws -> String {
        let category = context.parameters.get("category") ?? ""
        var v = Validation()
        v.slug(category, field: "category", maxLength: 64)
        try v.check()
        return category
    }
}
