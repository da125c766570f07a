import Foundation

/// `POST /internal/v1/events`: a batch of hand-offs for one receiver, applied in one transaction.
/// A single envelope is read as a batch of one (what a sender of an earlier build posts).
public struct EventBatch: Sendable, Codable, Equatable {
    public var events: [EventEnvelope]

    public init(events: [EventEnvelope]) { self.events = events }

    enum CodingKeys: String, CodingKey { case events }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.events) {
            events = try container.decode([EventEnvelope].self, forKey: .events)
        } else {
            events = [try EventEnvelope(from: decoder)]
        }
    }
}

/// What became of one event of a batch.
public struct EventResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Its effect is committed.
        case applied
        /// This receiver applied it before; nothing was done.
        case duplicate
        /// It will never apply (the reason says why): the sender dead-letters it.
        case rejected
        /// It failed for now (the reason says why): the sender tries again later.
        case failed
    }

    public var id: UUID
    public var status: Status
    public var reason: String?

    public init(id: UUID, status: Status, reason: String? = nil) {
        self.id = id
        self.status = status
        self.reason = reason
    }
}

/// The answer to a batch: a result per event, in the batch's order.
public struct EventBatchResult: Sendable, Codable, Equatable {
    public var results: [EventResult]

    public init(results: [EventResult]) { self.results = results }
}
