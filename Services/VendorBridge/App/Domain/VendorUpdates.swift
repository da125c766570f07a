import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// A vendor's update on one of its cases, and what it does to the ticket: `resolved` resolves the
/// ticket, `rejected` returns it to the level 3 queue, anything else is noted on its trail. Another
/// vendor's case is `caseNotFound`, as if it did not exist.
struct VendorUpdates: Sendable {
    let cases: VendorCaseStore
    let tickets: TicketStore

    /// Applies `update` in the caller's transaction.
    func apply(_ update: VendorUpdateRequest, to caseID: UUID, by vendorID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let current = try await cases.find(caseID, vendorID: vendorID, forUpdate: true, on: connection, logger: logger) else {
            throw VendorBridgeError.caseNotFound
        }
        guard current.status != .resolved && current.status != .rejected else { throw VendorBridgeError.caseClosed(status: current.status) }
        try await cases.addUpdate(update, caseID: caseID, on: connection, now: now, logger: logger)
        let actor = "vendor:\(vendorID.uuidString.lowercased())"
        let data: JSONValue = [
            "caseId": .string(caseID.uuidString.lowercased()), "status": .string(update.status.rawValue), "message": .string(update.message),
            "eta": .optional(update.eta.map { $0.formatted(.iso8601) }),
        ]
        switch update.status {
        case .resolved:
            let event = EventDraft(type: .ticketResolved, actor: actor, data: ["resolution": .string(update.message), "vendorCaseId": data["caseId"]!])
            _ = try await tickets.update(current.ticketId, to: .resolved, event: event, on: connection, now: now, logger: logger)
        case .rejected:
            let event = EventDraft(type: .vendorUpdated, actor: actor, isPublic: false, data: data)
            _ = try await tickets.update(current.ticketId, to: .queued, event: event, on: connection, now: now, logger: logger) { ticket in
                ticket.requeue(tier: .specialist, now: now)
            }
        default:
            try await tickets.record(
                EventDraft(type: .vendorUpdated, actor: actor, isPublic: false, data: data), ticketID: current.ticketId, on: connection, now: now,
                logger: logger)
        }
    }
}
