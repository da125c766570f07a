import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Decides each new ticket (`TriageEngine`) and hands it on: to its level's queue, to vendor-bridge
/// (level 4, waiting on the vendor), or closed as not an IT matter with the reason the requester
/// reads. A batch is decided at once: its tickets are read and locked in one statement, decided in
/// memory against the cached policy, checked against problems, and written back in one statement.
struct TriageEventHandler: EventHandler {
    let deps: TriageDependencies
    var consumes: Set<EventType> { [.ticketCreated] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await handle(batch: [event], on: connection, logger: logger)
    }

    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        let ids = events.uniqueTicketIDs(of: .ticketCreated)
        guard !ids.isEmpty else { return }
        let store = deps.runtime.tickets
        let now = deps.runtime.clock.now()
        let facts = Dictionary(
            events.compactMap { event in event.ticketId.map { ($0, SubmissionFacts(data: event.data)) } }, uniquingKeysWith: { first, _ in first })
        let tickets = try await store.lock(ids, on: connection, logger: logger)
        let policy = try await deps.policy.current(on: connection, logger: logger)
        var decisions: [UUID: TriageDecision] = [:]
        for id in ids {
            guard let ticket = tickets[id], ticket.status == .new else { continue }  // already past triage: nothing to do
            decisions[id] = TriageEngine.decide(TriageInput(ticket: ticket, facts: facts[id] ?? SubmissionFacts()), policy: policy)
        }
        let linked = try await deps.problems.review(&decisions, tickets: tickets, on: connection, now: now, logger: logger)
        let order = ids.filter { decisions[$0] != nil }
        let triaged = try await store.save(
            try order.map { id in try Self.triaged(tickets[id]!, decisions[id]!) }, on: connection, now: now, logger: logger)
        try await store.setCategorySources(
            order.compactMap { id in decisions[id]!.categorySource.map { (id, $0.rawValue) } }, on: connection, logger: logger)
        // Level 4 and rejections take a second step from `triaged`.
        let onward = try triaged.compactMap { ticket in try Self.onward(ticket, decisions[ticket.id]!) }
        _ = try await store.save(onward, on: connection, now: now, logger: logger)
        for (id, drafts) in linked {
            for draft in drafts { try await store.record(draft.event, ticketID: id, handOff: draft.handOff, on: connection, now: now, logger: logger) }
        }
        logger.debug("tickets triaged", metadata: ["count": "\(order.count)"])
    }

    /// `new → triaged` with the decision, handed to its level's queue when it has one.
    static func triaged(_ ticket: Ticket, _ decision: TriageDecision) throws -> TicketChange {
        let rule = decision.explanation.rules.last(where: \.matched).map { TicketTriaged.Internal.Rule(id: $0.ruleId, name: $0.name) }
        let triaged = TicketTriaged(
            tier: decision.tier, priority: decision.priority, category: decision.category,
            internal: .init(rule: rule, explanation: decision.explanation))
        let handOff = decision.tier.map { (1...3).contains($0) ? ["tier-queue:\($0)"] : [] } ?? []
        return try TicketChange(ticket, to: .triaged, event: EventDraft(triaged, actor: "system:triage"), handOff: handOff) {
            $0.tier = decision.tier.flatMap(Tier.init(rawValue:))
            $0.priority = decision.priority
            $0.impact = decision.impact
            $0.urgency = decision.urgency
            $0.category = decision.category
            $0.requiredSkills = decision.skills
        }
    }

    /// A vendor rule's ticket waits on the vendor (vendor-bridge opens the case); a rejected one is closed.
    static func onward(_ ticket: Ticket, _ decision: TriageDecision) throws -> TicketChange? {
        let rule = decision.explanation.rules.last(where: \.matched)?.name ?? "a triage rule"
        if let reason = decision.reject {
            let event = EventDraft(TicketClosed(rejected: true, reason: reason), actor: "system:triage")
            return try TicketChange(ticket, to: .closed, event: event)
        }
        guard let vendorId = decision.vendorId else { return nil }
        let event = EventDraft(
            TicketEscalated(fromTier: nil, toTier: Tier.vendor.rawValue, reason: "triage rule: \(rule)", vendorId: vendorId), actor: "system:triage")
        return try TicketChange(ticket, to: .pendingVendor, event: event, handOff: ["vendor-bridge"]) { $0.vendorId = vendorId }
    }
}
