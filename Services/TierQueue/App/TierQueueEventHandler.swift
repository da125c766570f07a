import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Puts triaged tickets in the queue of their level, a batch at a time: one statement reads and
/// locks the batch's tickets, one writes them back with their `ticket.queued` events, and their SLA
/// clocks start. A requester's reply that reopened or resumed a ticket (from intake), and a vendor
/// case that returned the ticket or went back to the vendor (from vendor-bridge), re-arm its clock.
struct TierQueueEventHandler: EventHandler {
    let deps: TierQueueDependencies
    var consumes: Set<EventType> { [.ticketTriaged, .ticketReopened, .ticketCommented, .vendorUpdated, .vendorMessageSent] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await handle(batch: [event], on: connection, logger: logger)
    }

    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        let now = deps.runtime.clock.now()
        try await queue(events.uniqueTicketIDs(of: .ticketTriaged), on: connection, now: now, logger: logger)
        let resumed = [EventType.ticketReopened, .ticketCommented, .vendorUpdated, .vendorMessageSent].flatMap { events.uniqueTicketIDs(of: $0) }
        try await deps.work.sla.refresh(Array(Set(resumed)), on: connection, now: now, logger: logger)
    }

    func queue(_ ids: [UUID], on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        let store = deps.runtime.tickets
        let sla = deps.work.sla
        let settings = try await sla.store.settings(on: connection, logger: logger)
        let tickets = try await store.lock(ids, on: connection, logger: logger)
        var clocks: [(UUID, Date?, cycle: Int)] = []
        let changes = try ids.compactMap { id -> TicketChange? in
            guard let ticket = tickets[id], ticket.status == .triaged else { return nil }
            let tier = ticket.tier ?? .firstLine
            // A ticket just queued has run since it was submitted, never paused: its clock needs no trail.
            let state = SLAKeeper.startedState(of: ticket, settings: settings, now: now)
            clocks.append((id, state.nextCheck(now: now, row: nil), cycle: state.cycle))
            let draft = EventDraft(TicketQueued(tier: tier.rawValue), actor: "system:tier-queue")
            return try TicketChange(ticket, to: .queued, event: draft) { ticket in
                ticket.requeue(tier: tier, now: ticket.createdAt)
                ticket.firstResponseDueAt = state.firstResponseDueAt
                ticket.resolutionDueAt = state.resolutionDueAt
            }
        }
        _ = try await store.save(changes, on: connection, now: now, logger: logger)
        try await sla.store.schedule(clocks, on: connection, logger: logger)
    }
}
