import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TierdeskModels

/// A peer's non-2xx answer or silence, as a 503 the caller may retry.
public struct PeerError: Error, ProblemConvertible {
    public var peer: String
    public var detail: String

    public init(peer: String, detail: String) {
        self.peer = peer
        self.detail = detail
    }

    public var problem: Problem {
        Problem(type: Problem.typeBase + "peer-unavailable", title: "Service unavailable", status: 503, detail: "\(peer) did not answer: \(detail); try again")
    }
}

/// One peer service called with the internal token and an explicit timeout. Only for reads and
/// checks: hand-offs that must not be lost go through the outbox.
public struct PeerClient: Sendable {
    public let name: String
    public let baseURL: String
    let internalToken: String
    let timeout: Duration

    public init(name: String, baseURL: String, internalToken: String, timeout: Duration) {
        self.name = name
        self.baseURL = baseURL
        self.internalToken = internalToken
        self.timeout = timeout
    }

    /// Sends `body` (or nothing) to `path` and decodes a 200 answer as `T`; anything else is a `PeerError`.
    public func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [URLQueryItem] = [], body: (any Encodable & Sendable)? = nil, as type: T.Type, logger: Logger
    ) async throws -> T {
        var components = URLComponents(string: baseURL + path)!
        if !query.isEmpty { components.queryItems = query }
        var request = HTTPClientRequest(url: components.string!)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(internalToken)")
        do {
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(try JSONCoding.encode(body))
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout), logger: logger)
            let buffer = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw PeerError(peer: name, detail: "HTTP \(response.status.code)") }
            return try JSONCoding.decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as PeerError {
            throw error
        } catch {
            throw PeerError(peer: name, detail: "\(error)")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) { self = .nanoseconds(Int64(duration.seconds * 1e9)) }
}
