import Foundation
import Testing
import TierdeskModels

/// The ticket timeline and the SLA clock over it, on trails written by hand.
@Suite struct SLAClockTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let agent = "agent:00000000-0000-0000-0000-000000000001"
    let vendor = UUID(uuidString: "00000000-0000-0000-0000-0000000000aa")!

    func event(_ type: EventType, _ seconds: TimeInterval, actor: String = "system", status: TicketStatus? = nil, tier: Tier? = nil, data: JSONValue = [:])
        -> TicketEvent
    {
        TicketEvent(id: UUID(), type: type, at: t0.addingTimeInterval(seconds), actor: actor, data: data, status: status, tier: tier)
    }

    func policy(_ resolution: Int, firstResponse: Int = 600) -> SLAPolicy {
        SLAPolicy(priority: .p3, firstResponseSeconds: firstResponse, resolutionSeconds: resolution, businessHours: false)
    }

    @Test func aPauseStopsTheClockAndPushesTheDueTimeOut() {
        let trail = [
            event(.ticketCreated, 0, status: .new),
            event(.ticketQueued, 0, status: .queued, tier: .firstLine),
            event(.ticketClaimed, 600, actor: agent),
            event(.ticketPending, 1200, actor: agent, status: .pendingCustomer, tier: .firstLine, data: ["reason": "awaiting_customer_info"]),
            event(.ticketCommented, 3000, actor: "requester:x", status: .queued, tier: .firstLine),
        ]
        let now = t0.addingTimeInterval(3600)
        let state = SLAClock.evaluate(TicketTimeline(events: trail, now: now), policy: policy(3600), calendar: .alwaysOpen, now: now)
        #expect(state.elapsedBusinessSeconds == 1800 && state.pausedBusinessSeconds == 1800)
        #expect(state.resolutionDueAt == now.addingTimeInterval(1800))
        #expect(state.firstRespondedAt == t0.addingTimeInterval(1200) && state.firstResponseBreachedAt == t0.addingTimeInterval(600))
        #expect(state.warningAt == now.addingTimeInterval(900) && !state.paused && state.resolutionBreachedAt == nil)
        let late = t0.addingTimeInterval(6000)
        let pastWarning = SLAClock.evaluate(TicketTimeline(events: trail, now: late), policy: policy(3600), calendar: .alwaysOpen, now: late)
        #expect(pastWarning.warningAt == now.addingTimeInterval(900) && pastWarning.resolutionBreachedAt == late.addingTimeInterval(-600))
        #expect(state.consumedBusinessSeconds["pause:awaiting_customer_info"] == 1800)

        let whilePaused = SLAClock.evaluate(
            TicketTimeline(events: Array(trail.prefix(4)), now: t0.addingTimeInterval(2000)), policy: policy(3600), calendar: .alwaysOpen,
            now: t0.addingTimeInterval(2000))
        #expect(whilePaused.paused && whilePaused.resolutionDueAt == nil && whilePaused.elapsedBusinessSeconds == 1200)
    }

    /// Time with a vendor is the vendor's (its own contract clock): the company's budget pauses, and
    /// a breach is charged to the level that used most of it.
    @Test func aBreachIsChargedToWhoeverUsedMostOfTheBudget() {
        let trail = [
            event(.ticketCreated, 0, status: .new),
            event(.ticketQueued, 0, status: .queued, tier: .firstLine),
            event(.ticketEscalated, 1000, actor: agent, status: .queued, tier: .backOffice, data: ["fromTier": 1, "toTier": 2]),
            event(
                .ticketEscalated, 1500, actor: agent, status: .pendingVendor, tier: .vendor,
                data: ["fromTier": 2, "toTier": 4, "vendorId": .string(vendor.uuidString.lowercased())]),
            event(.vendorUpdated, 3500, actor: "vendor:x", status: .inProgress, tier: .backOffice, data: ["status": "resolved"]),
        ]
        let atVendor = SLAClock.evaluate(
            TicketTimeline(events: Array(trail.prefix(4)), now: t0.addingTimeInterval(3000)), policy: policy(3600), calendar: .alwaysOpen,
            now: t0.addingTimeInterval(3000))
        #expect(atVendor.paused && atVendor.resolutionDueAt == nil && atVendor.elapsedBusinessSeconds == 1500)
        let now = t0.addingTimeInterval(6000)
        let timeline = TicketTimeline(events: trail, now: now)
        #expect(timeline.moves.map { "\($0.from.rawValue)>\($0.to.rawValue)" } == ["1>2", "2>4"])
        let state = SLAClock.evaluate(timeline, policy: policy(3600), calendar: .alwaysOpen, now: now)
        #expect(state.resolutionBreachedAt == t0.addingTimeInterval(5600))
        #expect(state.consumedBusinessSeconds == ["level:1": 1000, "level:2": 3000, "vendor:\(vendor.uuidString.lowercased())": 2000])
        #expect(state.largestConsumer == "level:2")
    }

    @Test func aReopenReArmsTheClockAndResolutionsStopIt() {
        let trail = [
            event(.ticketCreated, 0, status: .new),
            event(.ticketQueued, 0, status: .queued, tier: .firstLine),
            event(.ticketClaimed, 100, actor: agent),
            event(.ticketResolved, 3000, actor: agent, status: .resolved, tier: .firstLine),
            event(.ticketReopened, 10_000, actor: "requester:x", status: .queued, tier: .firstLine),
        ]
        let now = t0.addingTimeInterval(10_600)
        let timeline = TicketTimeline(events: trail, now: now)
        #expect(timeline.reopenedAt == [t0.addingTimeInterval(10_000)] && timeline.resolutions.map(\.cycleStart) == [t0])
        let state = SLAClock.evaluate(timeline, policy: policy(3600), calendar: .alwaysOpen, now: now)
        #expect(state.cycle == 2 && state.elapsedBusinessSeconds == 600 && state.resolutionDueAt == now.addingTimeInterval(3000))
        let stopped = SLAClock.evaluate(
            TicketTimeline(events: Array(trail.prefix(4)), now: t0.addingTimeInterval(5000)), policy: policy(3600), calendar: .alwaysOpen,
            now: t0.addingTimeInterval(5000))
        #expect(stopped.stopped && stopped.resolutionDueAt == nil && stopped.elapsedBusinessSeconds == 3000)
    }

    @Test func businessHoursCountOnlyOpenTime() throws {
        // Monday 2027-01-04 16:00 UTC, open 09-17 on weekdays: 1 h on Monday, the rest from Tuesday 09:00.
        let monday = try Date("2027-01-04T16:00:00Z", strategy: .iso8601)
        let week = ["mon", "tue", "wed", "thu", "fri"].reduce(into: [String: [String]]()) { $0[$1] = ["09:00", "17:00"] }
        let calendar = BusinessCalendar(timeZone: "UTC", week: week, holidays: [])
        let trail = [TicketEvent(id: UUID(), type: .ticketCreated, at: monday, actor: "r", data: [:], status: .queued, tier: .firstLine)]
        let businessPolicy = SLAPolicy(priority: .p3, firstResponseSeconds: 1800, resolutionSeconds: 3 * 3600, businessHours: true)
        let state = SLAClock.evaluate(TicketTimeline(events: trail, now: monday), policy: businessPolicy, calendar: calendar, now: monday)
        #expect(state.resolutionDueAt == (try Date("2027-01-05T11:00:00Z", strategy: .iso8601)))
    }
}
