import Foundation
import Logging
import TierdeskKit
import TierdeskModels

/// vendor-bridge, as tier-queue asks it before handing a ticket to Level 4.
public protocol VendorBridgeClient: Sendable {
    /// The vendor that will take the case: `vendorId` if it is registered and active, else the
    /// vendor whose categories cover `category`; nil when there is none.
    func resolveVendor(id: UUID?, category: String?, logger: Logger) async throws -> UUID?
}

/// `GET /internal/v1/vendors/match` on vendor-bridge, with a 5 s timeout.
public struct HTTPVendorBridgeClient: VendorBridgeClient {
    let peer: PeerClient

    public init(baseURL: String, internalToken: String) {
        peer = PeerClient(name: "vendor-bridge", baseURL: baseURL, internalToken: internalToken, timeout: .seconds(5))
    }

    struct Match: Decodable { var vendorId: UUID? }

    public func resolveVendor(id: UUID?, category: String?, logger: Logger) async throws -> UUID? {
        let query = [id.map { URLQueryItem(name: "vendorId", value: $0.uuidString) }, category.map { URLQueryItem(name: "category", value: $0) }]
        return try await peer.call(.GET, "/internal/v1/vendors/match", query: query.compactMap { $0 }, as: Match.self, logger: logger).vendorId
    }
}
