import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Keeps tickets' SLA clocks true to their trails: due times on the ticket (the queue's order) and
/// the watcher's schedule; and, run by the watcher, announces warnings and breaches, escalating a
/// breached ticket one level. Every replica may run it: a clock row is taken `FOR UPDATE SKIP
/// LOCKED` and its announcements written in the same transaction, so each happens exactly once.
struct SLAKeeper: Sendable {
    let tickets: TicketStore
    var notifier = Notifier()
    let store = SLAStore()
    static let actor = "system:sla"

    /// The SLA of a ticket from its trail.
    static func state(of ticket: Ticket, events: [TicketEvent], settings: SLASettings, now: Date) -> SLAState {
        SLAClock.evaluate(
            TicketTimeline(events: events, now: now), policy: settings.policy(for: ticket.priority), calendar: settings.calendar, now: now)
    }

    /// The clock of a ticket about to be queued: running since its submission, never paused, so
    /// computed without reading its trail (the queueing batch's hot path).
    static func startedState(of ticket: Ticket, settings: SLASettings, now: Date) -> SLAState {
        let created = TicketEvent(id: ticket.id, type: .ticketCreated, at: ticket.createdAt, actor: "requester", data: [:], status: .queued, tier: ticket.tier)
        return state(of: ticket, events: [created], settings: settings, now: now)
    }

    /// Brings these tickets' due times and clock schedule up to date, in the caller's transaction
    /// (the tickets as it locked and changed them).
    @discardableResult
    func refresh(_ changed: [Ticket], on connection: PostgresConnection, now: Date, logger: Logger) async throws -> [UUID: SLAState] {
        guard !changed.isEmpty else { return [:] }
        let settings = try await store.settings(on: connection, logger: logger)
        let trails = try await tickets.trails(of: changed.map(\.id), on: connection, logger: logger)
        var states: [UUID: SLAState] = [:]
        for ticket in changed { states[ticket.id] = Self.state(of: ticket, events: trails[ticket.id] ?? [], settings: settings, now: now) }
        try await tickets.setDueTimes(
            states.map { (id: $0.key, firstResponse: $0.value.firstResponseDueAt, resolution: $0.value.resolutionDueAt) }, on: connection, logger: logger)
        try await store.schedule(states.map { ($0.key, $0.value.nextCheck(now: now, row: nil), cycle: $0.value.cycle) }, on: connection, logger: logger)
        return states
    }

    /// The same for tickets known by id (a hand-off names them), locked first.
    @discardableResult
    func refresh(_ ids: [UUID], on connection: PostgresConnection, now: Date, logger: Logger) async throws -> [UUID: SLAState] {
        guard !ids.isEmpty else { return [:] }
        return try await refresh(Array(try await tickets.lock(ids, on: connection, logger: logger).values), on: connection, now: now, logger: logger)
    }

    /// One pass of the watcher: up to `limit` due clocks, in one transaction. Answers how many it looked at.
    func tick(client: PostgresClient, now: Date, limit: Int = 100, logger: Logger) async throws -> Int {
        try await client.transaction(logger: logger) { connection in
            let rows = try await store.due(now: now, limit: limit, on: connection, logger: logger)
            guard !rows.isEmpty else { return 0 }
            let ids = rows.map(\.ticketID)
            let settings = try await store.settings(on: connection, logger: logger)
            let found = try await tickets.lock(ids, on: connection, logger: logger)
            let trails = try await tickets.trails(of: ids, on: connection, logger: logger)
            var escalations: [TicketChange] = []
            var told: [NotificationDraft] = []
            var dues: [(id: UUID, firstResponse: Date?, resolution: Date?)] = []
            for var row in rows {
                // `due` locked each clock with its ticket, so the ticket is there.
                guard let ticket = found[row.ticketID] else { continue }
                let state = Self.state(of: ticket, events: trails[row.ticketID] ?? [], settings: settings, now: now)
                if state.cycle > row.cycle {
                    row = SLAClockRow(
                        ticketID: row.ticketID, cycle: state.cycle, warnedCycle: 0, firstResponseBreached: row.firstResponseBreached, breachedCycle: 0)
                }
                let announced = try await announce(ticket, state: state, row: &row, told: &told, on: connection, now: now, logger: logger)
                if let escalation = announced { escalations.append(escalation) }
                dues.append((id: ticket.id, firstResponse: state.firstResponseDueAt, resolution: state.resolutionDueAt))
                try await store.mark(row, checkAt: state.nextCheck(now: now, row: row), on: connection, logger: logger)
            }
            try await tickets.setDueTimes(dues, on: connection, logger: logger)
            _ = try await tickets.save(escalations, on: connection, now: now, logger: logger)
            try await notifier.tell(told, on: connection, now: now, logger: logger)
            return rows.count
        }
    }

    /// Records what this clock has newly reached (a warning, a first-response or resolution breach)
    /// and answers the one automatic escalation a breach earns, if the ticket can go up. The
    /// ticket's assignee is to be told of each (`told`).
    func announce(
        _ ticket: Ticket, state: SLAState, row: inout SLAClockRow, told: inout [NotificationDraft], on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws
        -> TicketChange?
    {
        guard !state.stopped, !state.paused else { return nil }
        var breachedNow: String?
        func tell(_ kind: NotificationKind, _ text: String) {
            guard let agent = ticket.assigneeId else { return }
            told.append(NotificationDraft(agent: agent, kind: kind, ticket: ticket.id, text: "\(NotificationDraft.name(ticket)) \(text)"))
        }
        if row.warnedCycle != state.cycle, let warningAt = state.warningAt, warningAt <= now, state.resolutionBreachedAt == nil {
            try await record(
                .slaWarning, ticket, SLAMilestone(target: "resolution", cycle: state.cycle, dueAt: state.resolutionDueAt), connection, now, logger)
            row.warnedCycle = state.cycle
            tell(.slaWarning, "is close to its resolution target\(state.resolutionDueAt.map { " (due \(RFC3339.format($0)))" } ?? "").")
        }
        if !row.firstResponseBreached, state.firstRespondedAt == nil, let breachedAt = state.firstResponseBreachedAt, breachedAt <= now {
            row.firstResponseBreached = true
            breachedNow = "firstResponse"
            try await record(.slaBreached, ticket, breachData("firstResponse", breachedAt, state), connection, now, logger)
            tell(.slaBreached, "breached its first-response target.")
        }
        if row.breachedCycle != state.cycle, let breachedAt = state.resolutionBreachedAt, breachedAt <= now {
            row.breachedCycle = state.cycle
            if row.warnedCycle != state.cycle { row.warnedCycle = state.cycle }
            breachedNow = "resolution"
            try await record(.slaBreached, ticket, breachData("resolution", breachedAt, state), connection, now, logger)
            tell(.slaBreached, "breached its resolution target.")
        }
        guard let target = breachedNow, let from = ticket.tier, let up = from.next, Tier.agentTiers.contains(up),
            ticket.status == .queued || ticket.status == .inProgress
        else { return nil }
        let event = EventDraft(
            TicketEscalated(fromTier: from.rawValue, toTier: up.rawValue, reason: "SLA \(target) target breached", automatic: true), actor: Self.actor)
        return try TicketChange(ticket, to: .queued, event: event) { $0.requeue(tier: up, now: now) }
    }

    func breachData(_ target: String, _ at: Date, _ state: SLAState) -> SLAMilestone {
        SLAMilestone(
            target: target, cycle: state.cycle, breachedAt: at, largestConsumer: state.largestConsumer,
            consumedBusinessSeconds: state.consumedBusinessSeconds.mapValues { ($0 * 1000).rounded() / 1000 })
    }

    func record(_ type: EventType, _ ticket: Ticket, _ milestone: SLAMilestone, _ connection: PostgresConnection, _ now: Date, _ logger: Logger)
        async throws
    {
        try await tickets.record(
            EventDraft(milestone, type: type, actor: Self.actor, isPublic: false), ticketID: ticket.id, on: connection, now: now, logger: logger)
    }

}
