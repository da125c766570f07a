import Foundation
import TierdeskModels

extension EventDraft {
    /// An event whose data is a typed payload (`EventPayload`); `type` only where one payload serves
    /// two event types (a collaborator added or removed).
    public init(id: UUID = .timeOrdered(), _ payload: some EventPayload, type: EventType? = nil, actor: String, isPublic: Bool = true) {
        self.init(id: id, type: type ?? Swift.type(of: payload).eventType, actor: actor, isPublic: isPublic, data: payload.data)
    }
}
