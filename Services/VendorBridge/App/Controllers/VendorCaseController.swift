import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// A vendor's own cases: list, read, post updates. Another vendor's case is 404, not 403, so ids
/// reveal nothing. Each vendor has its own rate, whichever of its keys it uses (`TIERDESK_VENDOR_RATE_LIMIT_PER_MINUTE`,
/// `PrincipalRateLimitMiddleware`, on every route): past it, 429.
struct VendorCaseController: Sendable {
    let deps: VendorBridgeDependencies

    /// The calling vendor (its rate is kept by the shared router's `PrincipalRateLimitMiddleware`).
    func vendor(_ context: AppRequestContext) throws -> UUID {
        try context.requireVendor()
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/vendor/cases", use: list)
        router.get("v1/vendor/cases/{id}", use: show)
        router.post("v1/vendor/cases/{id}/updates", use: update)
    }

    /// The vendor's cases, newest first, a page at a time; `?status=` keeps one status.
    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VendorCase>> {
        let vendorID = try vendor(context)
        let limit = try Pagination.limit(request)
        let cursor = try Pagination.cursor(request, CaseCursor.init(encoded:))
        var status: VendorCaseStatus?
        if let text = request.uri.queryParameters["status"] {
            guard let parsed = VendorCaseStatus(rawValue: String(text)) else {
                let allowed = VendorCaseStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw Problem.validation([FieldError(field: "status", message: "must be one of \(allowed)")])
            }
            status = parsed
        }
        return JSONResponse(
            try await deps.cases.list(vendorID: vendorID, status: status, limit: limit, after: cursor, on: deps.runtime.postgres, logger: context.logger))
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse<VendorCase> {
        let vendorID = try vendor(context)
        guard let id = context.parameters.get("id", as: UUID.self),
            let found = try await deps.cases.find(id, vendorID: vendorID, on: deps.runtime.postgres, logger: context.logger)
        else { throw VendorBridgeError.caseNotFound }
        return JSONResponse(found)
    }

    /// The vendor's update on its case; see `VendorUpdates`. With an `Idempotency-Key` a retry
    /// answers the first response and records nothing new (keys are scoped to the vendor and case).
    @Sendable func update(request: Request, context: AppRequestContext) async throws -> Response {
        let vendorID = try vendor(context)
        guard let id = context.parameters.get("id", as: UUID.self) else { throw VendorBridgeError.caseNotFound }
        let key = try Idempotency.key(of: request)
        let input = try await request.decodeJSON(VendorUpdateRequest.self, context: context)
        try input.validate()
        let (cases, work, now) = (deps.cases, deps.work, deps.runtime.clock.now())
        let scope = "vendor-bridge:vendor:\(vendorID.uuidString.lowercased()):POST /v1/vendor/cases/\(id.uuidString.lowercased())/updates"
        let stored = try await Idempotency().run(
            key: key, scope: scope, fingerprint: try Idempotency.fingerprint(input), client: deps.runtime.postgres, now: now, logger: context.logger
        ) { connection in
            try await work.update(input, to: id, by: vendorID, on: connection, now: now, logger: context.logger)
            guard let updated = try await cases.find(id, vendorID: vendorID, on: connection, logger: context.logger) else {
                throw VendorBridgeError.caseNotFound
            }
            return try StoredResponse(updated, status: .ok)
        }
        return stored.response()
    }
}
