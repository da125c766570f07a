import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Admin: the routing rules, in the order they are tried, and the dry run that explains a decision.
struct RuleController: Sendable {
    let deps: TriageDependencies

    func ruleID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw TriageError.notFound("rule") }
        return id
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let store = deps.policies
        let postgres = deps.runtime.postgres
        router.get("v1/rules") { request, context in
            try context.requireAdmin()
            let limit = try Pagination.limit(request)
            let offset =
                try Pagination.cursor(request) { Cursor.decode($0, count: 1).flatMap { Int($0[0]) }.flatMap { (0...1_000_000).contains($0) ? $0 : nil } } ?? 0
            let rules = try await store.rules(on: postgres, logger: context.logger)
            let page = Array(rules.dropFirst(offset).prefix(limit))
            let next = offset + limit < rules.count ? Cursor.encode(["\(offset + limit)"]) : nil
            return JSONResponse(Page(items: page, nextCursor: next))
        }
        router.post("v1/rules") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(RuleRequest.self, context: context)
            try input.validate()
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let rule = try await postgres.transaction(logger: context.logger) { connection in
                let rule = try await store.save(input, id: nil, on: connection, now: now, logger: context.logger)
                if let rule {
                    try await AuditTrail.record(
                        "triage_rule.created", .triageRule, id: "\(rule.id)", before: nil, by: actor, on: connection, now: now, logger: context.logger)
                }
                return rule
            }
            return JSONResponse(rule, status: .created)
        }
        router.get("v1/rules/{id}") { _, context in
            try context.requireAdmin()
            guard let rule = try await store.rule(try ruleID(context), on: postgres, logger: context.logger) else { throw TriageError.notFound("rule") }
            return JSONResponse(rule)
        }
        router.put("v1/rules/{id}") { request, context in
            try context.requireAdmin()
            let id = try ruleID(context)
            let input = try await request.decodeJSON(RuleRequest.self, context: context)
            try input.validate()
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let rule = try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("triage_rule.updated", .triageRule, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.save(input, id: id, on: connection, now: now, logger: context.logger)
                }
            }
            guard let rule else { throw TriageError.notFound("rule") }
            return JSONResponse(rule)
        }
        /// A deleted rule is kept as history: its last state is the `before` of its `triage_rule.deleted` row.
        router.delete("v1/rules/{id}") { _, context in
            try context.requireAdmin()
            let id = try ruleID(context)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let deleted = try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("triage_rule.deleted", .triageRule, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await store.deleteRule(id, on: connection, logger: context.logger)
                }
            }
            guard deleted else { throw TriageError.notFound("rule") }
            return Response(status: .noContent)
        }
        /// Every change of a rule, newest first, from the audit trail: also of a rule deleted since
        /// (404 only when the trail knows no such rule).
        router.get("v1/rules/{id}/history") { request, context in
            try context.requireAdminOrAuditor()
            let id = try ruleID(context)
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, Cursor.instantAndID)
            let page = try await AuditStore().list(
                AuditFilter(objectType: AuditObject.triageRule.type, objectID: "\(id)"), limit: limit, after: cursor, on: postgres, logger: context.logger)
            if page.items.isEmpty && cursor == nil { throw TriageError.notFound("rule") }
            return JSONResponse(page)
        }
        /// What triage would decide for a draft now, and why; stores nothing.
        router.post("v1/rules/test") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(RuleTestRequest.self, context: context)
            try input.validate()
            let policy = try await deps.policy.current(on: postgres, logger: context.logger)
            return JSONResponse(TriageEngine.decide(TriageInput(draft: input), policy: policy))
        }
    }
}
