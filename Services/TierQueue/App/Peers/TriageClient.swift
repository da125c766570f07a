import Foundation
import Logging
import TierdeskKit
import TierdeskModels

/// triage, as the agent view asks it for a ticket's problem and known-error workaround.
public protocol TriageClient: Sendable {
    func problem(ofTicket id: UUID, logger: Logger) async throws -> ProblemRecord?
}

/// `GET /internal/v1/tickets/{id}/problem` on triage, with a 2 s timeout.
public struct HTTPTriageClient: TriageClient {
    let peer: PeerClient

    public init(baseURL: String, internalToken: String) {
        peer = PeerClient(name: "triage", baseURL: baseURL, internalToken: internalToken, timeout: .seconds(2))
    }

    public func problem(ofTicket id: UUID, logger: Logger) async throws -> ProblemRecord? {
        try await peer.call(.GET, "/internal/v1/tickets/\(id.uuidString.lowercased())/problem", as: TicketProblem.self, logger: logger).problem
    }
}
