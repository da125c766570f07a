import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TierdeskKit
import TierdeskModels

/// intake, as tier-queue asks it for knowledge-base articles that fit a ticket.
public protocol IntakeClient: Sendable {
    /// The best articles for a ticket's subject and description.
    func suggestions(subject: String, description: String, logger: Logger) async throws -> [ArticleSummary]
}

/// `POST /v1/self-service/suggestions` on intake with the internal token and a 2 s timeout.
public struct HTTPIntakeClient: IntakeClient {
    let baseURL: String
    let internalToken: String

    public init(baseURL: String, internalToken: String) {
        self.baseURL = baseURL
        self.internalToken = internalToken
    }

    public func suggestions(subject: String, description: String, logger: Logger) async throws -> [ArticleSummary] {
        var request = HTTPClientRequest(url: baseURL + "/v1/self-service/suggestions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(internalToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(try JSONCoding.encode(SuggestionRequest(subject: subject, description: String(description.prefix(4000)))))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(2), logger: logger)
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw PeerError(peer: "intake", detail: "HTTP \(response.status.code)") }
            return try JSONCoding.decoder.decode(Page<ArticleSummary>.self, from: Data(buffer: body)).items
        } catch let error as PeerError {
            throw error
        } catch {
            throw PeerError(peer: "intake", detail: "\(error)")
        }
    }
}
