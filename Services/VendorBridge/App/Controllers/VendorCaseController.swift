import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// A vendor's own cases: list, read, post updates. Another vendor's case is 404, not 403, so ids
/// reveal nothing.
struct VendorCaseController: Sendable {
    let deps: VendorBridgeDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/vendor/cases", use: list)
        router.get("v1/vendor/cases/{id}", use: show)
        router.post("v1/vendor/cases/{id}/updates", use: update)
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VendorCase>> {
        let vendorID = try context.requireVendor()
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.cursor(request, CaseCursor.init(encoded:))
        return JSONResponse(try await deps.cases.list(vendorID: vendorID, limit: limit, after: cursor, on: deps.runtime.postgres, logger: context.logger))
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<VendorCase> {
        let vendorID = try context.requireVendor()
        guard let id = context.parameters.get("id", as: UUID.self),
            let found = try await deps.cases.find(id, vendorID: vendorID, on: deps.runtime.postgres, logger: context.logger)
        else { throw Problem.notFound("vendor case") }
        return JSONResponse(found)
    }

    /// Records the vendor's update on the case and the ticket: `resolved` resolves the ticket,
    /// `rejected` returns it to the Level 3 queue, anything else is noted on its trail.
    @Sendable func update(request: Request, context: AppRequestContext) async throws -> JSONResponse<VendorCase> {
        let vendorID = try context.requireVendor()
        guard let id = context.parameters.get("id", as: UUID.self) else { throw Problem.notFound("vendor case") }
        let input = try await request.decodeJSON(VendorUpdateRequest.self, context: context)
        try input.validate()
        let runtime = deps.runtime
        let now = Date()
        try await runtime.postgres.transaction(logger: context.logger) { connection in
            guard let current = try await deps.cases.find(id, vendorID: vendorID, forUpdate: true, on: connection, logger: context.logger) else {
                throw Problem.notFound("vendor case")
            }
            guard current.status != .resolved && current.status != .rejected else {
                throw Problem.conflict("the case is \(current.status.rawValue); it takes no more updates", type: "case-closed")
            }
            try await deps.cases.addUpdate(input, caseID: id, on: connection, now: now, logger: context.logger)
            let actor = "vendor:\(vendorID.uuidString.lowercased())"
            let data: JSONValue = [
                "caseId": .string(id.uuidString.lowercased()), "status": .string(input.status.rawValue), "message": .string(input.message),
                "eta": .optional(input.eta.map { $0.formatted(.iso8601) }),
            ]
            switch input.status {
            case .resolved:
                let event = EventDraft(type: .ticketResolved, actor: actor, data: ["resolution": .string(input.message), "vendorCaseId": data["caseId"]!])
                _ = try await runtime.tickets.update(current.ticketId, to: .resolved, event: event, on: connection, now: now, logger: context.logger)
            case .rejected:
                let event = EventDraft(type: .vendorUpdated, actor: actor, isPublic: false, data: data)
                _ = try await runtime.tickets.update(current.ticketId, to: .queued, event: event, on: connection, now: now, logger: context.logger) { ticket in
                    ticket.requeue(tier: .specialist, now: now)
                }
            default:
                try await runtime.tickets.record(
                    EventDraft(type: .vendorUpdated, actor: actor, isPublic: false, data: data), ticketID: current.ticketId, on: connection, now: now,
                    logger: context.logger)
            }
        }
        guard let updated = try await deps.cases.find(id, vendorID: vendorID, on: runtime.postgres, logger: context.logger) else { throw Problem.notFound("vendor case") }
        return JSONResponse(updated)
    }
}
