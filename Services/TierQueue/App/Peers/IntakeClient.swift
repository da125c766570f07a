import Foundation
import Logging
import TierdeskKit
import TierdeskModels

/// intake, as tier-queue asks it for knowledge-base articles that fit a ticket.
public protocol IntakeClient: Sendable {
    /// The best articles for a ticket's subject and description.
    func suggestions(subject: String, description: String, logger: Logger) async throws -> [ArticleSummary]
}

/// `POST /v1/self-service/suggestions` on intake, with a 2 s timeout.
public struct HTTPIntakeClient: IntakeClient {
    let peer: PeerClient

    public init(baseURL: String, internalToken: String) {
        peer = PeerClient(name: "intake", baseURL: baseURL, internalToken: internalToken, timeout: .seconds(2))
    }

    public func suggestions(subject: String, description: String, logger: Logger) async throws -> [ArticleSummary] {
        let draft = SuggestionRequest(subject: subject, description: String(description.prefix(4000)))
        return try await peer.call(.POST, "/v1/self-service/suggestions", body: draft, as: Page<ArticleSummary>.self, logger: logger).items
    }
}
