import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Puts triaged tickets in the queue of their level, a batch at a time: one statement reads and
/// locks the batch's tickets, one writes them back with their `ticket.queued` events, and their SLA
/// clocks start. A requester's reply that reopened or resumed a ticket (from intake), and a vendor
/// case that returned the ticket or went back to the vendor (from vendor-bridge), re-arm its clock.
/// Agents are told in the same transaction: the assignee of a vendor's answer, an overdue case or a
/// case back for verification (from vendor-bridge), and the agents of the level a storm tells (from triage).
struct TierQueueEventHandler: EventHandler {
    let deps: TierQueueDependencies
    var consumes: Set<EventType> {
        [.ticketTriaged, .ticketReopened, .ticketCommented, .vendorUpdated, .vendorMessageSent, .vendorOverdue, .problemStorm]
    }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await handle(batch: [event], on: connection, logger: logger)
    }

    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        let now = deps.runtime.clock.now()
        try await queue(events.uniqueTicketIDs(of: .ticketTriaged), on: connection, now: now, logger: logger)
        let resumed = [EventType.ticketReopened, .ticketCommented, .vendorUpdated, .vendorMessageSent].flatMap { events.uniqueTicketIDs(of: $0) }
        try await deps.work.sla.refresh(Array(Set(resumed)), on: connection, now: now, logger: logger)
        try await tell(events, on: connection, now: now, logger: logger)
    }

    /// Tells the agents these events concern (see the type's comment); nothing for other events.
    func tell(_ events: [EventEnvelope], on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        let vendorEvents = events.filter { $0.type == .vendorUpdated || $0.type == .vendorOverdue }
        let storms = events.compactMap { $0.type == .problemStorm ? ProblemStorm(data: $0.data) : nil }.filter { $0.notify != nil }
        guard !vendorEvents.isEmpty || !storms.isEmpty else { return }
        var drafts: [NotificationDraft] = []
        let tickets = try await deps.runtime.tickets.lock(Array(Set(vendorEvents.compactMap(\.ticketId))), on: connection, logger: logger)
        for event in vendorEvents {
            guard let id = event.ticketId, let ticket = tickets[id], let agent = ticket.assigneeId else { continue }
            if let draft = Self.vendorDraft(event, ticket: ticket, agent: agent) { drafts.append(draft) }
        }
        var seen = Set<UUID>()
        for storm in storms where seen.insert(storm.problemId).inserted {
            let agents = try await connection.all(
                "SELECT id FROM agents WHERE active AND \(Int16(storm.notify ?? Tier.specialist.rawValue)) = ANY(tiers) ORDER BY id", logger: logger
            ) { try $0.get("id", as: UUID.self) }
            let text =
                "A storm: \(storm.category) tickets from \(storm.requesters ?? 0) requesters at once; see problem \(storm.problemId.uuidString.lowercased())."
            drafts += agents.map {
                NotificationDraft(agent: $0, kind: .storm, ticket: nil, text: text, key: "storm:\(storm.problemId.uuidString.lowercased())")
            }
        }
        try await deps.work.notifier.tell(drafts, on: connection, now: now, logger: logger)
    }

    /// What the assignee of a vendor case's ticket is told of a vendor event: an answer, an overdue
    /// target, or the case back for verification (resolved or rejected, the ticket in its hands again).
    static func vendorDraft(_ event: EventEnvelope, ticket: Ticket, agent: UUID) -> NotificationDraft? {
        let name = NotificationDraft.name(ticket)
        if event.type == .vendorOverdue {
            let target = VendorCaseChanged(data: event.data)?.target.map { " (\($0))" } ?? ""
            return NotificationDraft(agent: agent, kind: .vendorOverdue, ticket: ticket.id, text: "The vendor's case of \(name) is overdue\(target).")
        }
        guard let update = VendorUpdated(data: event.data) else { return nil }
        if update.status == .resolved || update.status == .rejected {
            guard ticket.status == .inProgress else { return nil }
            return NotificationDraft(
                agent: agent, kind: .vendorReturned, ticket: ticket.id,
                text: "\(name) is back from the vendor (\(update.status.rawValue)) for you to verify: \(update.message.prefix(200))")
        }
        return NotificationDraft(
            agent: agent, kind: .vendorAnswered, ticket: ticket.id,
            text: "The vendor answered on \(name) (\(update.status.rawValue)): \(update.message.prefix(200))")
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
