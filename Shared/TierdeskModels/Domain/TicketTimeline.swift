import Foundation

/// Who had a ticket during a stretch of its life: what SLA budgets and reports are charged to.
public enum TicketHolder: Sendable, Hashable, Codable {
    /// Before a level has it: submitted, being triaged.
    case intake
    /// Queued or worked at level 1, 2 or 3.
    case level(Tier)
    /// At level 4, with this vendor.
    case vendor(UUID?)
    /// Paused by an agent for this reason: the SLA clock does not run.
    case paused(PendingReason)

    /// The name reports and `sla.breached` use: `intake`, `level:2`, `vendor:<id>`, `pause:awaiting_customer_info`.
    public var key: String {
        switch self {
        case .intake: "intake"
        case .level(let tier): "level:\(tier.rawValue)"
        case .vendor(let id): "vendor:\(id?.uuidString.lowercased() ?? "unknown")"
        case .paused(let reason): "pause:\(reason.rawValue)"
        }
    }

    /// Whether time in this stretch uses the SLA budget: not while an agent paused the ticket, nor
    /// while it waits on a vendor (the vendor's contract has its own clock, kept by vendor-bridge).
    public var consumesBudget: Bool {
        switch self {
        case .paused, .vendor: false
        case .intake, .level: true
        }
    }
}

/// A ticket's life read from its trail: who held it when, when it was first answered, resolved,
/// reopened, escalated and bounced back. Pure: the SLA clock, breach attribution and reports are
/// all computed from this one reading.
public struct TicketTimeline: Sendable, Equatable {
    /// An unbroken stretch with one holder.
    public struct Stretch: Sendable, Equatable {
        public var start: Date
        public var end: Date
        public var holder: TicketHolder
    }

    /// From creation (or a reopen) to the resolution that ended it; the open one has no `end`.
    public struct Cycle: Sendable, Equatable {
        public var start: Date
        public var end: Date?
        public var stretches: [Stretch]
    }

    /// A move between levels, up (escalation) or down (de-escalation).
    public struct Move: Sendable, Equatable {
        public var at: Date
        public var from: Tier
        public var to: Tier
    }

    /// A resolution: when, at which level, by whom (`agent:<id>`, `vendor:<id>`, `requester:<id>`...).
    public struct Resolution: Sendable, Equatable {
        public var at: Date
        public var tier: Tier?
        public var actor: String
        /// When the resolved cycle began: the creation, or the reopen before it.
        public var cycleStart: Date
    }

    public var createdAt: Date
    public var firstResponseAt: Date?
    public var cycles: [Cycle]
    public var moves: [Move]
    public var resolutions: [Resolution]
    public var reopenedAt: [Date]
    /// Who claimed the ticket first at level 1 (`agent:<id>`).
    public var firstLevelOneClaimer: String?
    /// The status and level the trail leaves the ticket in, and who holds it now (nil once resolved or closed).
    public var status: TicketStatus
    public var tier: Tier?
    public var holder: TicketHolder?

    /// Reads a trail in order; the open cycle's last stretch runs to `now`.
    public init(events: [TicketEvent], now: Date) {
        var reader = Reader(start: events.first?.at ?? now)
        for event in events { reader.apply(event) }
        reader.close(at: max(now, reader.lastAt))
        createdAt = reader.createdAt
        firstResponseAt = reader.firstResponseAt
        cycles = reader.cycles
        moves = reader.moves
        resolutions = reader.resolutions
        reopenedAt = reader.reopenedAt
        firstLevelOneClaimer = reader.firstLevelOneClaimer
        status = reader.status
        tier = reader.tier
        holder = reader.status.isOpen ? reader.holder : nil
    }

    /// Whether an event is a first response: an agent (or the admin) answering the requester.
    public static func isResponse(_ event: TicketEvent) -> Bool {
        guard event.actor.hasPrefix("agent:") || event.actor.hasPrefix("admin") else { return false }
        switch event.type {
        case .ticketPending, .ticketResolved: return true
        case .ticketCommented: return event.data["audience"]?.stringValue != "agents"
        default: return false
        }
    }

    /// The status an event leaves the ticket in, from the trail's own record or, for events
    /// written without one, from the event's type.
    static func status(after event: TicketEvent, current: TicketStatus) -> TicketStatus {
        if let status = event.status { return status }
        switch event.type {
        case .ticketCreated: return .new
        case .ticketTriaged: return .triaged
        case .ticketQueued, .ticketReopened: return .queued
        case .ticketClaimed: return .inProgress
        case .ticketResolved: return .resolved
        case .ticketClosed: return .closed
        default: return current
        }
    }

    private struct Reader {
        var createdAt: Date
        var firstResponseAt: Date?
        var cycles: [Cycle] = []
        var moves: [Move] = []
        var resolutions: [Resolution] = []
        var reopenedAt: [Date] = []
        var firstLevelOneClaimer: String?
        var status: TicketStatus = .new
        var tier: Tier?
        var vendor: UUID?
        var pauseReason: PendingReason = .awaitingCustomerInfo
        var stretchStart: Date
        var lastAt: Date
        var open: Cycle?

        init(start: Date) {
            createdAt = start
            stretchStart = start
            lastAt = start
            open = Cycle(start: start, end: nil, stretches: [])
        }

        var holder: TicketHolder {
            switch status {
            case .new, .triaged: return .intake
            case .pendingCustomer, .pendingVendor:
                return tier == .vendor ? .vendor(vendor) : .paused(pauseReason)
            default:
                guard let tier, tier != .selfService else { return .intake }
                return tier == .vendor ? .vendor(vendor) : .level(tier)
            }
        }

        mutating func apply(_ event: TicketEvent) {
            let at = max(event.at, lastAt)
            let wasOpen = status.isOpen
            if event.type == .ticketCreated { createdAt = event.at }
            if firstResponseAt == nil, TicketTimeline.isResponse(event) { firstResponseAt = at }
            let next = TicketTimeline.status(after: event, current: status)
            let nextTier =
                event.tier ?? event.data["toTier"]?.intValue.flatMap(Tier.init(rawValue:)) ?? event.data["tier"]?.intValue.flatMap(Tier.init(rawValue:)) ?? tier
            let nextVendor = event.data["vendorId"]?.stringValue.flatMap(UUID.init(uuidString:)) ?? vendor
            if event.type == .ticketPending, let reason = event.data["reason"]?.stringValue.flatMap(PendingReason.init(rawValue:)) {
                pauseReason = reason
            } else if event.type == .ticketPending {
                pauseReason = next == .pendingVendor ? .awaitingVendor : .awaitingCustomerInfo
            }
            if tier == .firstLine, firstLevelOneClaimer == nil {
                // Claimed by an agent, or pushed to one (`ticket.reassigned` names who got it).
                if event.type == .ticketClaimed { firstLevelOneClaimer = event.actor }
                if let reassigned = TicketReassigned(event) { firstLevelOneClaimer = "agent:\(reassigned.to.uuidString.lowercased())" }
            }
            if let from = tier, let to = nextTier, from != to, Tier.agentTiers.contains(from) || from == .vendor, to != .selfService,
                event.type == .ticketEscalated || event.type == .ticketDeescalated
            {
                moves.append(Move(at: at, from: from, to: to))
            }
            let changes = next != status || nextTier != tier || nextVendor != vendor || event.type == .ticketPending
            if changes { cut(at: at) }
            if wasOpen, !next.isOpen {
                if next == .resolved || event.type == .ticketResolved {
                    resolutions.append(Resolution(at: at, tier: nextTier, actor: event.actor, cycleStart: open?.start ?? createdAt))
                }
                endCycle(at: at)
            } else if !wasOpen, next.isOpen {
                reopenedAt.append(at)
                open = Cycle(start: at, end: nil, stretches: [])
                stretchStart = at
            }
            status = next
            tier = nextTier
            vendor = nextVendor
            lastAt = at
        }

        /// Ends the current stretch at `at` (nothing when no cycle is open).
        mutating func cut(at: Date) {
            guard open != nil else { return }
            if at > stretchStart {
                let stretch = Stretch(start: stretchStart, end: at, holder: holder)
                open?.stretches.append(stretch)
            }
            stretchStart = at
        }

        mutating func endCycle(at: Date) {
            guard var cycle = open else { return }
            cycle.end = at
            cycles.append(cycle)
            open = nil
        }

        mutating func close(at now: Date) {
            cut(at: now)
            if let cycle = open { cycles.append(cycle) }
            open = nil
        }
    }
}

extension TicketTimeline {
    /// The cycle still running, if any.
    public var openCycle: Cycle? { cycles.last.flatMap { $0.end == nil ? $0 : nil } }

    /// Wall-clock seconds each holder had the ticket, over all cycles.
    public func wallSeconds() -> [TicketHolder: TimeInterval] {
        var totals: [TicketHolder: TimeInterval] = [:]
        for stretch in cycles.flatMap(\.stretches) { totals[stretch.holder, default: 0] += stretch.end.timeIntervalSince(stretch.start) }
        return totals
    }
}
