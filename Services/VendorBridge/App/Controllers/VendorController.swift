import Foundation
import Hummingbird
import NIOPosix
import TierdeskKit
import TierdeskModels

/// The admin's vendors: registration, contract, key rotation, the webhook delivery log and
/// redelivery, the scorecard; and tier-queue's question of which vendor takes a case.
struct VendorController: Sendable {
    let deps: VendorBridgeDependencies

    func vendorID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw VendorBridgeError.vendorNotFound }
        return id
    }

    /// 422 on `webhookUrl` when the policy refuses the target (see `WebhookTargetPolicy`); the name
    /// is resolved on NIO's thread pool, off the cooperative threads.
    func checkTarget(_ webhookUrl: String?) async throws {
        guard let webhookUrl, let url = URL(string: webhookUrl) else { return }
        let targets = deps.configuration.webhookTargets
        if let refusal = try await NIOThreadPool.singleton.runIfActive({ targets.refusal(for: url) }) {
            throw Problem.validation([FieldError(field: "webhookUrl", message: refusal)])
        }
    }

    /// 422 on `field` when a key's expiry is not in the future.
    static func checkExpiry(_ expiresAt: Date?, field: String, now: Date) throws {
        if let expiresAt, expiresAt <= now { throw Problem.validation([FieldError(field: field, message: "must be in the future")]) }
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let (postgres, vendors) = (deps.runtime.postgres, deps.vendors)
        router.post("v1/vendors") { request, context in
            try context.requireAdmin()
            let input = try await request.decodeJSON(CreateVendorRequest.self, context: context)
            try input.validate()
            try Self.checkExpiry(input.apiKeyExpiresAt, field: "apiKeyExpiresAt", now: deps.runtime.clock.now())
            try await checkTarget(input.webhookUrl)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let vendor = try await postgres.transaction(logger: context.logger) { connection in
                let vendor = try await vendors.create(input, on: connection, now: now, logger: context.logger)
                try await AuditTrail.record(
                    "vendor.created", .vendor, id: "\(vendor.id)", before: nil, by: actor, on: connection, now: now, logger: context.logger)
                return vendor
            }
            return JSONResponse(vendor, status: .created)
        }
        router.get("v1/vendors") { request, context in
            try context.requireAdmin()
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, VendorCursor.init(encoded:))
            return JSONResponse(try await vendors.list(limit: limit, after: cursor, on: postgres, logger: context.logger))
        }
        router.get("v1/vendors/{id}") { _, context in
            try context.requireAdmin()
            guard let vendor = try await vendors.find(try vendorID(context), on: postgres, logger: context.logger) else {
                throw VendorBridgeError.vendorNotFound
            }
            return JSONResponse(vendor)
        }
        router.patch("v1/vendors/{id}") { request, context in
            try context.requireAdmin()
            let id = try vendorID(context)
            let input = try await request.decodeJSON(UpdateVendorRequest.self, context: context)
            try input.validate()
            try await checkTarget(input.webhookUrl)
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let vendor = try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("vendor.updated", .vendor, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await vendors.update(id, with: input, on: connection, logger: context.logger)
                }
            }
            guard let vendor else { throw VendorBridgeError.vendorNotFound }
            return JSONResponse(vendor)
        }
        router.post("v1/vendors/{id}/api-key") { request, context in
            try context.requireAdmin()
            let id = try vendorID(context)
            let input = try await request.decodeJSONIfPresent(RotateVendorKeyRequest.self, context: context) ?? RotateVendorKeyRequest()
            try input.validate()
            try Self.checkExpiry(input.expiresAt, field: "expiresAt", now: deps.runtime.clock.now())
            let (actor, now) = (try AuditActor(context), deps.runtime.clock.now())
            let vendor = try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change("vendor.key_rotated", .vendor, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger) {
                    try await vendors.rotateKey(
                        id: id, overlap: .seconds(60 * (input.overlapMinutes ?? 0)), expiresAt: input.expiresAt, on: connection, logger: context.logger)
                }
            }
            guard let vendor else { throw VendorBridgeError.vendorNotFound }
            return JSONResponse(vendor)
        }
        router.get("v1/vendors/{id}/deliveries") { request, context in
            try context.requireAdmin()
            let id = try vendorID(context)
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, DeliveryCursor.init(encoded:))
            guard try await vendors.find(id, on: postgres, logger: context.logger) != nil else { throw VendorBridgeError.vendorNotFound }
            return JSONResponse(try await deps.deliveries.list(vendorID: id, limit: limit, after: cursor, on: postgres, logger: context.logger))
        }
        router.post("v1/deliveries/{id}/redeliver") { _, context in
            try context.requireAdmin()
            guard let id = context.parameters.get("id", as: UUID.self) else { throw VendorBridgeError.deliveryNotFound }
            let (actor, now, deliveries) = (try AuditActor(context), deps.runtime.clock.now(), deps.deliveries)
            let delivery = try await postgres.transaction(logger: context.logger) { connection in
                try await AuditTrail.change(
                    "webhook_delivery.redelivered", .webhookDelivery, id: "\(id)", by: actor, on: connection, now: now, logger: context.logger
                ) {
                    try await deliveries.redeliver(id, on: connection, logger: context.logger)
                }
            }
            guard let delivery else { throw VendorBridgeError.deliveryNotFound }
            return JSONResponse(delivery, status: .accepted)
        }
        router.get("v1/vendors/{id}/scorecard") { request, context in
            try context.requireAdmin()
            let id = try vendorID(context)
            let now = deps.runtime.clock.now()
            let (from, to) = try Pagination.window(request, now: now)
            guard try await vendors.find(id, on: postgres, logger: context.logger) != nil else { throw VendorBridgeError.vendorNotFound }
            return JSONResponse(try await deps.scorecards.scorecard(vendorID: id, from: from, to: to, now: now, on: postgres, logger: context.logger))
        }
        router.get("internal/v1/vendors/match") { request, context in
            try context.requireInternal()
            let query = request.uri.queryParameters
            let id = query["vendorId"].flatMap { UUID(uuidString: String($0)) }
            let vendorID = try await vendors.match(id: id, category: query["category"].map(String.init), on: postgres, logger: context.logger)
            return JSONResponse(VendorMatch(vendorId: vendorID))
        }
    }
}

struct VendorMatch: Codable, Sendable {
    var vendorId: UUID?
}
