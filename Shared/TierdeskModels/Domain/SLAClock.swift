import Foundation

/// `GET /v1/sla/policies`, `PUT /v1/sla/policies/{priority}`: the targets of one priority.
public struct SLAPolicy: Sendable, Codable, Equatable {
    public var priority: Priority
    public var firstResponseSeconds: Int
    public var resolutionSeconds: Int
    /// Counted in the calendar's business hours; false runs around the clock (P1 by default).
    public var businessHours: Bool

    public init(priority: Priority, firstResponseSeconds: Int, resolutionSeconds: Int, businessHours: Bool) {
        self.priority = priority
        self.firstResponseSeconds = firstResponseSeconds
        self.resolutionSeconds = resolutionSeconds
        self.businessHours = businessHours
    }

    /// What a fresh installation starts with (migration 0009 seeds the same).
    public static func standard(for priority: Priority) -> SLAPolicy {
        let target = SLATarget.standard(for: priority)
        return SLAPolicy(
            priority: priority, firstResponseSeconds: target.firstResponseSeconds, resolutionSeconds: target.resolutionSeconds, businessHours: priority != .p1)
    }
}

/// The body of `PUT /v1/sla/policies/{priority}` (the priority is the path's).
public struct SLAPolicyRequest: Sendable, Codable, Equatable {
    public var firstResponseSeconds: Int
    public var resolutionSeconds: Int
    public var businessHours: Bool

    public init(firstResponseSeconds: Int, resolutionSeconds: Int, businessHours: Bool) {
        self.firstResponseSeconds = firstResponseSeconds
        self.resolutionSeconds = resolutionSeconds
        self.businessHours = businessHours
    }

    public func validate() throws(Problem) {
        var v = Validation()
        let year = 366 * 86_400
        if !(60...year).contains(firstResponseSeconds) { v.fail("firstResponseSeconds", "must be between 60 and \(year)") }
        if !(60...year).contains(resolutionSeconds) { v.fail("resolutionSeconds", "must be between 60 and \(year)") }
        if resolutionSeconds < firstResponseSeconds { v.fail("resolutionSeconds", "must not be shorter than firstResponseSeconds") }
        try v.check()
    }
}

/// A ticket's SLA as the agent view shows it and the breach watcher acts on it.
public struct SLAState: Sendable, Codable, Equatable {
    public var priority: Priority
    public var businessHours: Bool
    public var firstResponseTargetSeconds: Int
    public var resolutionTargetSeconds: Int
    public var firstRespondedAt: Date?
    /// Nil while paused before the first response.
    public var firstResponseDueAt: Date?
    /// Nil while paused or once the ticket is resolved.
    public var resolutionDueAt: Date?
    /// When 75 % of the resolution budget is (or was) used; nil when paused or stopped.
    public var warningAt: Date?
    /// Business seconds of this cycle's resolution budget used so far.
    public var elapsedBusinessSeconds: Double
    /// Business seconds this cycle spent paused.
    public var pausedBusinessSeconds: Double
    public var paused: Bool
    /// Resolved or closed: the clock stands still until a reopen re-arms it.
    public var stopped: Bool
    /// The cycle: 1, then one more for each reopen.
    public var cycle: Int
    public var firstResponseBreachedAt: Date?
    public var resolutionBreachedAt: Date?
    /// Business seconds each holder used over the ticket's whole life (`TicketHolder.key`), pauses included.
    public var consumedBusinessSeconds: [String: Double]
    /// The level or vendor that used the most of the budget (`level:2`, `vendor:<id>`).
    public var largestConsumer: String?
}

/// The SLA of one ticket, computed from its timeline: business time of the policy's calendar,
/// paused while an agent waits (`TicketHolder.paused`), re-armed by a reopen.
public enum SLAClock {
    /// The share of a target after which `sla.warning` is due.
    public static let warningShare = 0.75

    public static func evaluate(_ timeline: TicketTimeline, policy: SLAPolicy, calendar: BusinessCalendar, now: Date) -> SLAState {
        let clock = policy.businessHours ? calendar : .alwaysOpen
        let current = timeline.cycles.last
        let stopped = current?.end != nil || !timeline.status.isOpen
        let paused = !stopped && timeline.holder?.consumesBudget == false
        let resolution = Budget(target: Double(policy.resolutionSeconds), stretches: current?.stretches ?? [], clock: clock)
        // The first response is owed once, in the first cycle, until it is given.
        let firstCycle = timeline.cycles.first?.stretches ?? []
        let answeredBy = timeline.firstResponseAt ?? now
        let firstStretches = firstCycle.compactMap { stretch -> TicketTimeline.Stretch? in
            guard stretch.start < answeredBy else { return nil }
            return TicketTimeline.Stretch(start: stretch.start, end: min(stretch.end, answeredBy), holder: stretch.holder)
        }
        let firstResponse = Budget(target: Double(policy.firstResponseSeconds), stretches: firstStretches, clock: clock)
        let running = !stopped && !paused
        var consumed: [String: Double] = [:]
        var blamed: [String: Double] = [:]
        for stretch in timeline.cycles.flatMap(\.stretches) {
            let seconds = clock.businessSeconds(from: stretch.start, to: stretch.end)
            consumed[stretch.holder.key, default: 0] += seconds
            if case .level = stretch.holder { blamed[stretch.holder.key, default: 0] += seconds }
        }
        return SLAState(
            priority: policy.priority, businessHours: policy.businessHours, firstResponseTargetSeconds: policy.firstResponseSeconds,
            resolutionTargetSeconds: policy.resolutionSeconds, firstRespondedAt: timeline.firstResponseAt,
            firstResponseDueAt: timeline.firstResponseAt != nil || running ? firstResponse.due(from: answeredBy, clock: clock) : nil,
            resolutionDueAt: running ? resolution.due(from: now, clock: clock) : nil,
            warningAt: running ? resolution.warnedAt ?? clock.adding(resolution.target * warningShare - resolution.used, to: now) : nil,
            elapsedBusinessSeconds: resolution.used, pausedBusinessSeconds: resolution.paused, paused: paused, stopped: stopped,
            cycle: max(1, timeline.cycles.count), firstResponseBreachedAt: firstResponse.breachedAt, resolutionBreachedAt: resolution.breachedAt,
            consumedBusinessSeconds: consumed,
            largestConsumer: blamed.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key)
    }

    /// One target walked over the stretches that count against it.
    struct Budget {
        let target: Double
        var used: Double = 0
        var paused: Double = 0
        var breachedAt: Date?
        /// When the used share passed `warningShare`, once it has.
        var warnedAt: Date?

        init(target: Double, stretches: [TicketTimeline.Stretch], clock: BusinessCalendar) {
            self.target = target
            for stretch in stretches {
                let seconds = clock.businessSeconds(from: stretch.start, to: stretch.end)
                guard stretch.holder.consumesBudget else {
                    paused += seconds
                    continue
                }
                let warning = target * SLAClock.warningShare
                if warnedAt == nil, used + seconds >= warning { warnedAt = clock.adding(warning - used, to: stretch.start) }
                if breachedAt == nil, used + seconds > target { breachedAt = clock.adding(target - used, to: stretch.start) }
                used += seconds
            }
        }

        /// When the budget runs out if the clock keeps running from `now`: the breach instant once past.
        func due(from now: Date, clock: BusinessCalendar) -> Date {
            breachedAt ?? clock.adding(target - used, to: now)
        }
    }
}
