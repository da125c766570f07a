import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Admin: the category model (its figures, retraining), VIPs and each category's default impact and urgency.
struct PolicyController: Sendable {
    let deps: TriageDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        let store = deps.policies
        let postgres = deps.runtime.postgres
        router.get("v1/classifier") { _, context in
            try context.requireAdmin()
            return JSONResponse(try await store.status(threshold: deps.settings.threshold, on: postgres, logger: context.logger))
        }
        router.post("v1/classifier/train") { _, context in
            try context.requireAdmin()
            return JSONResponse(try await deps.training.train(by: try AuditActor(context), logger: context.logger))
        }
        router.get("v1/vip") { _, context in
            try context.requireAdmin()
            return JSONResponse(Page(items: try await store.vips(on: postgres, logger: context.logger), nextCursor: nil))
        }
        router.post("v1/vip") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(VIPRequest.self, context: context)
            try input.validate()
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let entry = try await postgres.transaction(logger: context.logger) { connection in
                let entry = try await store.addVIP(input, on: connection, now: now, logger: context.logger)
                try await AuditTrail.record("vip.added", .vip, id: "\(entry.id)", before: nil, by: actor, on: connection, now: now, logger: context.logger)
                return entry
            }
            return JSONResponse(entry, status: .created)
        }
        router.delete("v1/vip/{id}") { _, context in
            try context.requireAdmin()
            guard let id = context.parameters.get("id", as: UUID.self) else { throw TriageError.notFound("VIP entry") }
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let deleted = try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("vip.removed", .vip, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.removeVIP(id, on: connection, logger: context.logger)
                }
            }
            guard deleted else { throw TriageError.notFound("VIP entry") }
            return Response(status: .noContent)
        }
        router.get("v1/categories") { _, context in
            try context.requireAdmin()
            return JSONResponse(Page(items: try await store.categoryDefaults(on: postgres, logger: context.logger), nextCursor: nil))
        }
        router.put("v1/categories/{name}") { request, context in
            try context.requireAdmin()
            let name = context.parameters.get("name") ?? ""
            var v = Validation()
            v.slug(name, field: "name", maxLength: 64)
            try v.check()
            let input = try await request.decodeJSON(CategoryDefaultsRequest.self, context: context)
            let defaults = CategoryDefaults(category: name, impact: input.impact, urgency: input.urgency)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.set("category_defaults.set", .categoryDefaults, id: name, by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.setCategoryDefaults(defaults, on: connection, now: now, logger: context.logger)
                }
            }
            return JSONResponse(defaults)
        }
    }
}
