import Foundation

/// The one shape of a hand-off between services: `POST /internal/v1/events` takes it.
public struct EventEnvelope: Sendable, Codable, Equatable {
    public var id: UUID
    public var type: EventType
    public var ticketId: UUID?
    public var occurredAt: Date
    public var data: JSONValue

    /// Without an `id`, one ordered by `occurredAt`.
    public init(id: UUID? = nil, type: EventType, ticketId: UUID?, occurredAt: Date, data: JSONValue = .object([:])) {
        self.id = id ?? .timeOrdered(at: occurredAt)
        self.type = type
        self.ticketId = ticketId
        self.occurredAt = occurredAt
        self.data = data
    }
}
