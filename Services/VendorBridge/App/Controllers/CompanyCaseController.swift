import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The company's side of vendor cases: agents and the admin list open cases (`?overdue=true` for
/// those past a contract target, `?vendorId=` for one vendor; an agent sees the cases returning to
/// its levels and those it owns), and write to a ticket's vendor (`POST /v1/tickets/{id}/vendor-messages`,
/// with `Idempotency-Key`; see `CaseWork.message`).
struct CompanyCaseController: Sendable {
    let deps: VendorBridgeDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        let deps = deps
        router.get("v1/cases") { request, context in
            let agent = try context.requireAgentOrAdmin()
            let query = request.uri.queryParameters
            var v = Validation()
            var overdue = false
            if let text = query["overdue"] {
                if let flag = Bool(String(text)) { overdue = flag } else { v.fail("overdue", "must be true or false") }
            }
            var vendorID: UUID?
            if let text = query["vendorId"] {
                if let id = UUID(uuidString: String(text)) { vendorID = id } else { v.fail("vendorId", "must be a vendor's id") }
            }
            try v.check()
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, CaseCursor.init(encoded:))
            return JSONResponse(
                try await deps.cases.listOpen(
                    overdue: overdue, vendorID: vendorID, for: agent, limit: limit, after: cursor, on: deps.runtime.postgres, now: deps.runtime.clock.now(),
                    logger: context.logger))
        }
        router.post("v1/tickets/{id}/vendor-messages") { request, context in
            let caller = try context.requireAgentOrAdmin()
            guard let ticketID = context.parameters.get("id", as: UUID.self) else { throw VendorBridgeError.ticketNotFound }
            let key = try Idempotency.key(of: request)
            let input = try await request.decodeJSON(VendorMessageRequest.self, context: context)
            try input.validate()
            let (work, now) = (deps.work, deps.runtime.clock.now())
            let who = context.principal?.trailName ?? "admin"
            let scope = "vendor-bridge:\(who):POST /v1/tickets/\(ticketID.uuidString.lowercased())/vendor-messages"
            let stored = try await Idempotency().run(
                key: key, scope: scope, fingerprint: try Idempotency.fingerprint(input), client: deps.runtime.postgres, now: now, logger: context.logger
            ) { connection in
                try StoredResponse(
                    try await work.message(input, ticketID: ticketID, by: caller, actor: who, on: connection, now: now, logger: context.logger),
                    status: .created)
            }
            return stored.response()
        }
    }
}
