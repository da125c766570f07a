import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// SLA policies per priority and the business calendar: agents read them, the admin sets them.
/// A change applies to every ticket's clock from its next look (the watcher's, or the next action).
struct SLAController: Sendable {
    let deps: TierQueueDependencies
    var store: SLAStore { SLAStore() }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/sla/policies") { _, context in
            _ = try context.requireAgentOrAdmin()
            return JSONResponse(Page(items: try await store.policies(on: deps.runtime.postgres, logger: context.logger), nextCursor: nil))
        }
        router.put("v1/sla/policies/{priority}") { request, context in
            try context.requireAdmin()
            guard let text = context.parameters.get("priority"), let priority = Priority(rawValue: text.uppercased()) else {
                throw TierQueueError.unknownKey("must be P1 to P5", field: "priority")
            }
            let input = try await request.decodeJSON(SLAPolicyRequest.self, context: context)
            try input.validate()
            let policy = SLAPolicy(
                priority: priority, firstResponseSeconds: input.firstResponseSeconds, resolutionSeconds: input.resolutionSeconds,
                businessHours: input.businessHours)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.set(
                    "sla_policy.set", .slaPolicy, id: priority.rawValue, by: actor, on: connection, now: now, logger: context.logger
                ) { try await store.put(policy, on: connection, now: now, logger: context.logger) }
            }
            return JSONResponse(policy)
        }
        router.get("v1/sla/calendar") { _, context in
            _ = try context.requireAgentOrAdmin()
            return JSONResponse(try await store.settings(on: deps.runtime.postgres, logger: context.logger).calendar)
        }
        router.put("v1/sla/calendar") { request, context in
            try context.requireAdmin()
            let calendar = try await request.decodeJSON(BusinessCalendar.self, context: context)
            let errors = calendar.validationErrors()
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.set("calendar.set", .calendar, id: "default", by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.put(calendar, on: connection, now: now, logger: context.logger)
                }
            }
            return JSONResponse(calendar)
        }
    }
}
