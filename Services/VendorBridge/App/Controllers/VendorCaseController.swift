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
        else { throw VendorBridgeError.caseNotFound }
        return JSONResponse(found)
    }

    /// The vendor's update on its case; see `VendorUpdates`.
    @Sendable func update(request: Request, context: AppRequestContext) async throws -> JSONResponse<VendorCase> {
        let vendorID = try context.requireVendor()
        guard let id = context.parameters.get("id", as: UUID.self) else { throw VendorBridgeError.caseNotFound }
        let input = try await request.decodeJSON(VendorUpdateRequest.self, context: context)
        try input.validate()
        let (runtime, updates, now) = (deps.runtime, deps.updates, deps.runtime.clock.now())
        try await runtime.postgres.transaction(logger: context.logger) { connection in
            try await updates.apply(input, to: id, by: vendorID, on: connection, now: now, logger: context.logger)
        }
        guard let updated = try await deps.cases.find(id, vendorID: vendorID, on: runtime.postgres, logger: context.logger) else {
            throw VendorBridgeError.caseNotFound
        }
        return JSONResponse(updated)
    }
}
