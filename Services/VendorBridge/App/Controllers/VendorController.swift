import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Admin registers vendors; tier-queue asks which vendor takes a case.
struct VendorController: Sendable {
    let deps: VendorBridgeDependencies

    func vendorID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw VendorBridgeError.vendorNotFound }
        return id
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("v1/vendors") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(CreateVendorRequest.self, context: context)
            try input.validate()
            if let url = URL(string: input.webhookUrl), let refusal = deps.webhookTargets.refusal(for: url) {
                throw Problem.validation([FieldError(field: "webhookUrl", message: refusal)])
            }
            return JSONResponse(
                try await deps.vendors.create(input, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger), status: .created)
        }
        router.get("v1/vendors") { request, context in
            try context.requireAdmin()
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, VendorCursor.init(encoded:))
            return JSONResponse(try await deps.vendors.list(limit: limit, after: cursor, on: deps.runtime.postgres, logger: context.logger))
        }
        router.patch("v1/vendors/{id}") { request, context in
            try context.requireAdmin()
            let id = try vendorID(context)
            let input = try await request.decodeJSON(UpdateVendorRequest.self, context: context)
            try input.validate()
            guard let vendor = try await deps.vendors.update(id, with: input, on: deps.runtime.postgres, logger: context.logger) else {
                throw VendorBridgeError.vendorNotFound
            }
            return JSONResponse(vendor)
        }
        router.post("v1/vendors/{id}/api-key") { _, context in
            try context.requireAdmin()
            guard let vendor = try await deps.vendors.rotateKey(id: try vendorID(context), on: deps.runtime.postgres, logger: context.logger) else {
                throw VendorBridgeError.vendorNotFound
            }
            return JSONResponse(vendor)
        }
        router.get("internal/v1/vendors/match") { request, context in
            try context.requireInternal()
            let query = request.uri.queryParameters
            let id = query["vendorId"].flatMap { UUID(uuidString: String($0)) }
            let vendorID = try await deps.vendors.match(
                id: id, category: query["category"].map(String.init), on: deps.runtime.postgres, logger: context.logger)
            return JSONResponse(VendorMatch(vendorId: vendorID))
        }
    }
}

struct VendorMatch: Codable, Sendable {
    var vendorId: UUID?
}
