import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Opens a vendor case when a ticket is escalated to Level 4, and only for a ticket that really
/// waits on that vendor at level 4: the internal token alone cannot open a case. Closes the
/// ticket's open case when the ticket is resolved or closed.
struct VendorBridgeEventHandler: EventHandler {
    let deps: VendorBridgeDependencies
    var consumes: Set<EventType> { [.ticketEscalated, .ticketResolved, .ticketClosed] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        let now = deps.runtime.clock.now()
        guard let ticketID = event.ticketId else { throw VendorBridgeError.eventRefused("a ticket event names its ticket") }
        guard event.type == .ticketEscalated else {
            return try await deps.work.closeCase(ofTicket: ticketID, on: connection, now: now, logger: logger)
        }
        guard let escalation = TicketEscalated(data: event.data) else {
            throw VendorBridgeError.eventRefused("a ticket.escalated event carries toTier and reason")
        }
        guard escalation.toTier == Tier.vendor.rawValue else { return }  // an escalation between levels 1-3
        guard let vendorID = escalation.vendorId else {
            throw VendorBridgeError.eventRefused("a level 4 escalation names its vendorId")
        }
        guard let ticket = try await deps.runtime.tickets.find(ticketID, on: connection, logger: logger) else {
            throw VendorBridgeError.eventRefused("no ticket \(ticketID)")
        }
        guard ticket.status == .pendingVendor, ticket.tier == .vendor, ticket.vendorId == vendorID else {
            throw VendorBridgeError.eventRefused(
                "ticket \(ticketID) is not waiting on vendor \(vendorID) at level 4 (it is \(ticket.status.rawValue) at level \(ticket.tier?.rawValue ?? 0))")
        }
        if let caseID = try await deps.work.open(
            ticket: ticket, vendorID: vendorID, reason: escalation.reason, fromTier: escalation.fromTier.flatMap(Tier.init(rawValue:)), on: connection,
            now: now, logger: logger)
        {
            logger.info("vendor case opened", metadata: ["ticket.id": "\(ticketID)", "case.id": "\(caseID)", "vendor.id": "\(vendorID)"])
        }
    }
}
