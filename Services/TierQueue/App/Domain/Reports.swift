import Foundation
import TierdeskModels

/// What resolving one ticket costs at each level (`TIERDESK_LEVEL_COSTS`, `0:2,1:25,2:60,3:120,4:300`).
public struct LevelCosts: Sendable, Equatable {
    public var perTicket: [Tier: Double]

    public static let standard = LevelCosts(perTicket: [.selfService: 2, .firstLine: 25, .backOffice: 60, .specialist: 120, .vendor: 300])

    public init(perTicket: [Tier: Double]) { self.perTicket = perTicket }

    /// Parses `level:cost` pairs separated by commas; nil for anything else.
    public init?(parsing text: String) {
        let costs = Tier.parsePairs(text) { Double($0).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil } }
        guard let costs, !costs.isEmpty else { return nil }
        perTicket = costs
    }
}

/// One ticket as a report reads it: its row's priority and its whole trail.
struct ReportedTicket: Sendable {
    var id: UUID
    var priority: Priority
    var events: [TicketEvent]
}

/// The open tickets of a level right now.
struct BacklogRow: Sendable {
    var tier: Tier
    var open: Int
    var oldestID: UUID?
    var oldestCreatedAt: Date?
}

/// The summary report from tickets' trails: pure, so its definitions are tested on their own.
///
/// Definitions (the window is `[from, to)`; a ticket "handled" in it was resolved, escalated,
/// de-escalated, paused, reopened or closed in it; `ReportStore.tickets`):
/// - resolved per level: resolutions in the window, at the level the ticket was at (0 = self-service);
/// - first-contact resolution: of the resolutions at levels 1-4 in the window, the share made at
///   level 1 by the agent who first claimed the ticket there, on a ticket never escalated and never reopened;
/// - time to resolve: from the start of the resolved cycle (creation or reopen) to the resolution;
/// - SLA compliance: resolutions in the window whose resolution target was met, per priority;
/// - escalation rate of a level: moves up out of it in the window per handled ticket held at it in
///   the window; the overall rate: tickets escalated in the window per handled ticket held at levels 1-3;
/// - a bounce: a de-escalation in the window within 24 h of the escalation that brought the ticket
///   to the level it leaves; the bounce rate of a level: bounces out of it per escalation into it;
/// - paused time: wall-clock seconds of pauses, clipped to the window, by reason;
/// - vendor turnaround: wall-clock seconds of each level 4 stay that ended in the window.
struct ReportBuilder {
    let from: Date
    let to: Date
    let settings: SLASettings
    let costs: LevelCosts
    static let bounceWindow: TimeInterval = 86_400

    func summary(_ tickets: [ReportedTicket], backlog: [BacklogRow]) -> ReportSummary {
        var resolved: [Tier: Int] = [:]
        var durations: [Tier: [Double]] = [:]
        var compliance: [Priority: (Int, Int)] = [:]
        var fcrTotal = 0
        var fcrHits = 0
        var heldAt: [Tier: Int] = [:]
        var escalatedFrom: [Tier: Int] = [:]
        var escalatedInto: [Tier: Int] = [:]
        var bounces: [String: Int] = [:]
        var bouncedFrom: [Tier: Int] = [:]
        var ticketsHeld = 0
        var ticketsEscalated = 0
        var paused: [String: Double] = [:]
        var vendorStays: [Double] = []

        for ticket in tickets {
            let timeline = TicketTimeline(events: ticket.events, now: to)
            for resolution in timeline.resolutions where inWindow(resolution.at) {
                let tier = resolution.tier ?? .selfService
                resolved[tier, default: 0] += 1
                durations[tier, default: []].append(resolution.at.timeIntervalSince(resolution.cycleStart))
                if tier != .selfService {
                    fcrTotal += 1
                    let neverEscalated = !timeline.moves.contains { $0.to > $0.from }
                    if tier == .firstLine, neverEscalated, timeline.reopenedAt.isEmpty, resolution.actor == timeline.firstLevelOneClaimer { fcrHits += 1 }
                }
                let state = SLAClock.evaluate(
                    TicketTimeline(events: ticket.events.filter { $0.at <= resolution.at }, now: resolution.at),
                    policy: settings.policy(for: ticket.priority), calendar: settings.calendar, now: resolution.at)
                var counted = compliance[ticket.priority] ?? (0, 0)
                counted.0 += 1
                if state.resolutionBreachedAt == nil { counted.1 += 1 }
                compliance[ticket.priority] = counted
            }
            let stretches = timeline.cycles.flatMap(\.stretches)
            let levels = Set(
                stretches.filter { $0.end > from && $0.start < to }.compactMap { stretch -> Tier? in
                    if case .level(let tier) = stretch.holder { return tier }
                    return nil
                })
            for tier in levels { heldAt[tier, default: 0] += 1 }
            if !levels.isEmpty { ticketsHeld += 1 }
            let moves = timeline.moves.filter { inWindow($0.at) }
            if moves.contains(where: { $0.to > $0.from && Tier.agentTiers.contains($0.from) }) { ticketsEscalated += 1 }
            for move in moves where move.to > move.from {
                escalatedFrom[move.from, default: 0] += 1
                escalatedInto[move.to, default: 0] += 1
            }
            for move in moves where move.to < move.from {
                let cameUp = timeline.moves.last { $0.to == move.from && $0.from < $0.to && $0.at <= move.at }
                if let cameUp, move.at.timeIntervalSince(cameUp.at) <= Self.bounceWindow {
                    bounces["\(move.from.rawValue)>\(move.to.rawValue)", default: 0] += 1
                    bouncedFrom[move.from, default: 0] += 1
                }
            }
            for stretch in stretches {
                let start = max(stretch.start, from)
                let end = min(stretch.end, to)
                if case .paused(let reason) = stretch.holder, end > start { paused[reason.rawValue, default: 0] += end.timeIntervalSince(start) }
                if case .vendor = stretch.holder, inWindow(stretch.end), stretch.end < to { vendorStays.append(stretch.end.timeIntervalSince(stretch.start)) }
            }
        }
        return ReportSummary(
            from: from, to: to, resolvedByTier: keyed(resolved.merging(Dictionary(uniqueKeysWithValues: Tier.allCases.map { ($0, 0) })) { a, _ in a }),
            firstContactResolutionRate: fcrTotal == 0 ? nil : Double(fcrHits) / Double(fcrTotal),
            meanTimeToResolveSecondsByTier: keyed(durations.mapValues { $0.reduce(0, +) / Double($0.count) }),
            timeToResolveByTier: keyed(durations.mapValues(Self.duration)),
            slaCompliance: Dictionary(
                uniqueKeysWithValues: compliance.map { priority, counts in
                    (priority.rawValue, ReportSummary.Compliance(resolved: counts.0, withinTarget: counts.1, rate: Double(counts.1) / Double(counts.0)))
                }),
            backlogByTier: Dictionary(
                uniqueKeysWithValues: Tier.allCases.filter { $0 != .selfService }.map { tier in
                    let row = backlog.first { $0.tier == tier }
                    return (
                        "\(tier.rawValue)", ReportSummary.Backlog(open: row?.open ?? 0, oldestTicketId: row?.oldestID, oldestCreatedAt: row?.oldestCreatedAt)
                    )
                }),
            escalationRate: ticketsHeld == 0 ? nil : Double(ticketsEscalated) / Double(ticketsHeld),
            escalationRateByTier: keyed(
                heldAt.mapValues(Double.init).reduce(into: [:]) { rates, entry in rates[entry.key] = Double(escalatedFrom[entry.key] ?? 0) / entry.value }),
            bouncesByPair: bounces,
            bounceRateByTier: keyed(
                escalatedInto.reduce(into: [:]) { rates, entry in rates[entry.key] = Double(bouncedFrom[entry.key] ?? 0) / Double(entry.value) }),
            pausedSecondsByReason: paused, vendorTurnaround: vendorStays.isEmpty ? nil : Self.duration(vendorStays), cost: cost(resolved))
    }

    func inWindow(_ date: Date) -> Bool { date >= from && date < to }

    func keyed<Value>(_ values: [Tier: Value]) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: values.map { ("\($0.key.rawValue)", $0.value) })
    }

    func cost(_ resolved: [Tier: Int]) -> ReportSummary.Cost {
        let total = resolved.reduce(into: [Tier: Double]()) { totals, entry in totals[entry.key] = Double(entry.value) * (costs.perTicket[entry.key] ?? 0) }
        let savings = resolved.reduce(into: [Tier: Double]()) { savings, entry in
            guard let lower = Tier(rawValue: entry.key.rawValue - 1) else { return }
            savings[entry.key] = Double(entry.value) * max(0, (costs.perTicket[entry.key] ?? 0) - (costs.perTicket[lower] ?? 0))
        }
        return ReportSummary.Cost(
            perTicketByTier: keyed(costs.perTicket), totalByTier: keyed(total), total: total.values.reduce(0, +), shiftLeftSavingsByTier: keyed(savings))
    }

    /// Mean and 90th percentile (nearest rank) of some durations.
    static func duration(_ seconds: [Double]) -> ReportSummary.Duration {
        let sorted = seconds.sorted()
        let rank = max(0, Int((0.9 * Double(sorted.count)).rounded(.up)) - 1)
        return ReportSummary.Duration(meanSeconds: sorted.reduce(0, +) / Double(sorted.count), p90Seconds: sorted[rank], count: sorted.count)
    }
}
