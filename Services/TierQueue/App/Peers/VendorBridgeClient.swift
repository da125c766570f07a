import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TierdeskKit
import TierdeskModels

/// vendor-bridge, as tier-queue asks it before handing a ticket to Level 4.
public protocol VendorBridgeClient: Sendable {
    /// The vendor that will take the case: `vendorId` if it is registered and active, else the
    /// vendor whose categories cover `category`; nil when there is none.
    func resolveVendor(id: UUID?, category: String?, logger: Logger) async throws -> UUID?
}

/// Non-2xx answers and unreachable peers.
public struct PeerError: Error, ProblemConvertible {
    public var peer: String
    public var detail: String
    public var problem: Problem {
        Problem(type: Problem.typeBase + "peer-unavailable", title: "Service unavailable", status: 503, detail: "\(peer) did not answer: \(detail); try again")
    }
}

/// `GET /internal/v1/vendors/match` on vendor-bridge, with a 5 s timeout.
public struct HTTPVendorBridgeClient: VendorBridgeClient {
    let baseURL: String
    let internalToken: String

    public init(baseURL: String, internalToken: String) {
        self.baseURL = baseURL
        self.internalToken = internalToken
    }

    struct Match: Decodable { var vendorId: UUID? }

    public func resolveVendor(id: UUID?, category: String?, logger: Logger) async throws -> UUID? {
        var components = URLComponents(string: baseURL + "/internal/v1/vendors/match")!
        components.queryItems = [id.map { URLQueryItem(name: "vendorId", value: $0.uuidString) }, category.map { URLQueryItem(name: "category", value: $0) }]
            .compactMap { $0 }
        var request = HTTPClientRequest(url: components.string!)
        request.headers.add(name: "Authorization", value: "Bearer \(internalToken)")
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5), logger: logger)
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status == .ok else { throw PeerError(peer: "vendor-bridge", detail: "HTTP \(response.status.code)") }
            return try JSONCoding.decoder.decode(Match.self, from: Data(buffer: body)).vendorId
        } catch let error as PeerError {
            throw error
        } catch {
            throw PeerError(peer: "vendor-bridge", detail: "\(error)")
        }
    }
}
