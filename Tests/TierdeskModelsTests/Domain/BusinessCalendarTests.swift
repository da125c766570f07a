import Foundation
import PropertyBased
import Testing
import TierdeskModels

@Suite struct BusinessCalendarTests {
    // MARK: Examples

    @Test func plainWeekInBerlin() throws {
        let calendar = weekdays(["09:00", "17:00"], zone: "Europe/Berlin")
        let monday10 = try instant("2026-06-15T10:00:00+02:00")
        #expect(calendar.adding(2 * hour, to: monday10) == (try instant("2026-06-15T12:00:00+02:00")))
        #expect(calendar.adding(7 * hour, to: monday10) == (try instant("2026-06-15T17:00:00+02:00")))
        #expect(calendar.adding(8 * hour, to: monday10) == (try instant("2026-06-16T10:00:00+02:00")))
        #expect(calendar.adding(hour, to: try instant("2026-06-13T12:00:00+02:00")) == (try instant("2026-06-15T10:00:00+02:00")))
        #expect(calendar.businessSeconds(from: try instant("2026-06-15T08:00:00+02:00"), to: try instant("2026-06-15T18:00:00+02:00")) == 8 * hour)
        #expect(calendar.businessSeconds(from: monday10, to: monday10.addingTimeInterval(-hour)) == 0)
        #expect(calendar.adding(0, to: monday10) == monday10 && calendar.adding(-hour, to: monday10) == monday10)
        #expect(calendar.isOpen(at: try instant("2026-06-15T09:00:00+02:00")))
        #expect(!calendar.isOpen(at: try instant("2026-06-15T08:59:59+02:00")))
        #expect(!calendar.isOpen(at: try instant("2026-06-15T17:00:00+02:00")))
        #expect(!calendar.isOpen(at: try instant("2026-06-13T12:00:00+02:00")))
    }

    @Test func lunchBreakIsClosed() throws {
        let calendar = weekdays(["09:00", "12:00", "13:00", "17:00"], zone: "Europe/Berlin")
        #expect(calendar.adding(2 * hour, to: try instant("2026-06-15T11:00:00+02:00")) == (try instant("2026-06-15T14:00:00+02:00")))
        #expect(!calendar.isOpen(at: try instant("2026-06-15T12:30:00+02:00")))
    }

    @Test func fridayEveningRunsIntoMonday() throws {
        let calendar = weekdays(["09:00", "17:00"], zone: "Europe/Berlin")
        let friday = try instant("2026-06-19T16:30:00+02:00")
        let monday = try instant("2026-06-22T12:30:00+02:00")
        #expect(calendar.adding(4 * hour, to: friday) == monday)
        #expect(calendar.businessSeconds(from: friday, to: monday) == 4 * hour)
    }

    @Test func holidayIsClosedAllDay() throws {
        let calendar = weekdays(["09:00", "17:00"], zone: "Europe/Berlin", holidays: ["2026-12-25"])
        #expect(calendar.adding(2 * hour, to: try instant("2026-12-24T16:00:00+01:00")) == (try instant("2026-12-28T10:00:00+01:00")))
        #expect(calendar.businessSeconds(from: try instant("2026-12-25T00:00:00+01:00"), to: try instant("2026-12-26T00:00:00+01:00")) == 0)
        #expect(!calendar.isOpen(at: try instant("2026-12-25T10:00:00+01:00")))
    }

    /// A Sunday open around the clock lasts 23 hours when the clocks spring forward and 25 when they fall back.
    @Test(arguments: [
        ("Europe/Berlin", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23.0),
        ("Europe/Berlin", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25),
        ("America/New_York", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23),
        ("America/New_York", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25),
    ])
    func daylightSavingSunday(zone: String, midnight: String, nextMidnight: String, hours: Double) throws {
        let calendar = BusinessCalendar(timeZone: zone, week: ["sun": ["00:00", "24:00"]])
        let start = try instant(midnight)
        let end = try instant(nextMidnight)
        #expect(calendar.businessSeconds(from: start.addingTimeInterval(-3 * day), to: end.addingTimeInterval(3 * day)) == hours * hour)
        #expect(calendar.adding(hours * hour, to: start.addingTimeInterval(-day)) == end)
        #expect(calendar.adding(3 * hour, to: start) == start.addingTimeInterval(3 * hour))
    }

    /// Opening and closing times near the switch: a skipped time opens when the clock jumps past it, a repeated one at
    /// its first occurrence.
    @Test(arguments: [
        ("Europe/Berlin", "01:00", "04:00", "2026-03-29T01:00:00+01:00", "2026-03-29T04:00:00+02:00"),
        ("Europe/Berlin", "01:00", "04:00", "2026-10-25T01:00:00+02:00", "2026-10-25T04:00:00+01:00"),
        ("Europe/Berlin", "02:30", "05:00", "2026-03-29T03:00:00+02:00", "2026-03-29T05:00:00+02:00"),
        ("Europe/Berlin", "02:30", "05:00", "2026-10-25T02:30:00+02:00", "2026-10-25T05:00:00+01:00"),
        ("America/New_York", "01:00", "04:00", "2026-03-08T01:00:00-05:00", "2026-03-08T04:00:00-04:00"),
        ("America/New_York", "01:00", "04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T04:00:00-05:00"),
        ("America/New_York", "02:15", "04:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"),
    ])
    func openAcrossTheSwitch(zone: String, opens: String, closes: String, opening: String, closing: String) throws {
        let calendar = BusinessCalendar(timeZone: zone, week: ["sun": [opens, closes]])
        let open = try instant(opening)
        let close = try instant(closing)
        let saturday = open.addingTimeInterval(-day)
        #expect(calendar.businessSeconds(from: saturday, to: close.addingTimeInterval(day)) == close.timeIntervalSince(open))
        #expect(calendar.adding(close.timeIntervalSince(open) / 2, to: saturday) == open.addingTimeInterval(close.timeIntervalSince(open) / 2))
    }

    @Test func intervalInsideTheSkippedHourIsClosedThatDay() throws {
        let calendar = BusinessCalendar(timeZone: "America/New_York", week: ["sun": ["02:15", "03:00"]])
        let saturday = try instant("2026-03-07T12:00:00-05:00")
        #expect(calendar.businessSeconds(from: saturday, to: saturday.addingTimeInterval(2 * day)) == 0)
        #expect(calendar.adding(60, to: saturday) == (try instant("2026-03-15T02:16:00-04:00")))
    }

    @Test func aroundTheClockFollowsRealTimeAcrossTheSwitch() throws {
        let calendar = BusinessCalendar(timeZone: "Europe/Berlin", week: everyDay(["00:00", "24:00"]))
        let saturdayNoon = try instant("2026-03-28T12:00:00+01:00")
        #expect(calendar.adding(day, to: saturdayNoon) == (try instant("2026-03-29T13:00:00+02:00")))
        #expect(calendar.adding(day, to: try instant("2026-10-24T12:00:00+02:00")) == (try instant("2026-10-25T11:00:00+01:00")))
    }

    @Test func pausesSpanningANight() throws {
        let calendar = weekdays(["09:00", "17:00"], zone: "Europe/Berlin")
        let start = try instant("2026-06-15T15:00:00+02:00")
        let overnight = DateInterval(start: try instant("2026-06-15T16:00:00+02:00"), end: try instant("2026-06-16T11:00:00+02:00"))
        #expect(calendar.adding(3 * hour, to: start, skipping: [overnight]) == (try instant("2026-06-16T13:00:00+02:00")))
        #expect(calendar.adding(hour, to: start, skipping: [overnight]) == (try instant("2026-06-15T16:00:00+02:00")))
        let overlapping = [
            DateInterval(start: try instant("2026-06-15T15:15:00+02:00"), end: try instant("2026-06-15T16:00:00+02:00")),
            DateInterval(start: try instant("2026-06-15T14:00:00+02:00"), end: try instant("2026-06-15T15:30:00+02:00")),
        ]
        #expect(calendar.adding(3 * hour, to: start, skipping: overlapping) == (try instant("2026-06-16T11:00:00+02:00")))
        #expect(calendar.adding(3 * hour, to: start, skipping: []) == calendar.adding(3 * hour, to: start))
    }

    @Test func sameStartInDifferentZones() throws {
        let tokyo = weekdays(["09:00", "17:00"], zone: "Asia/Tokyo")
        let losAngeles = weekdays(["09:00", "17:00"], zone: "America/Los_Angeles")
        let start = try instant("2026-06-15T00:00:00Z")  // Monday 09:00 in Tokyo, Sunday 17:00 in Los Angeles
        #expect(tokyo.adding(hour, to: start) == (try instant("2026-06-15T01:00:00Z")))
        #expect(losAngeles.adding(hour, to: start) == (try instant("2026-06-15T17:00:00Z")))
        #expect(tokyo.adding(8 * hour, to: start) == (try instant("2026-06-15T08:00:00Z")))
        #expect(losAngeles.adding(8 * hour, to: start) == (try instant("2026-06-16T00:00:00Z")))
    }

    @Test func alwaysOpenIsPlainAddition() throws {
        let start = try instant("2026-03-28T12:34:56Z")
        for seconds in [1, 59.5, hour, day, 17 * day + 0.25] {
            #expect(BusinessCalendar.alwaysOpen.adding(seconds, to: start) == start.addingTimeInterval(seconds))
            #expect(BusinessCalendar.alwaysOpen.businessSeconds(from: start, to: start.addingTimeInterval(seconds)) == seconds)
        }
        #expect(BusinessCalendar.alwaysOpen.validationErrors().isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func tenWeeksOfTarget() throws {
        let calendar = weekdays(["09:00", "17:00"], zone: "Europe/Berlin")
        let start = try instant("2026-06-01T09:00:00+02:00")
        let end = try instant("2026-08-07T17:00:00+02:00")
        #expect(calendar.adding(50 * 8 * hour, to: start) == end)
        #expect(calendar.businessSeconds(from: start, to: end) == 50 * 8 * hour)
    }

    @Test func noOpenTimeNeverReachesTheTarget() throws {
        let calendar = BusinessCalendar(timeZone: "Europe/Berlin", week: ["sat": []])
        let start = try instant("2026-06-15T10:00:00+02:00")
        #expect(calendar.adding(hour, to: start) == .distantFuture)
        #expect(calendar.businessSeconds(from: start, to: start.addingTimeInterval(30 * day)) == 0)
        #expect(!calendar.isOpen(at: start))
        #expect(BusinessCalendar.alwaysOpen.adding(.infinity, to: start) == .distantFuture)
        #expect(BusinessCalendar.alwaysOpen.adding(.nan, to: start) == start)
    }

    @Test func jsonHasOnlyThePromisedKeys() throws {
        let json = #"{"timeZone": "Europe/Berlin", "week": {"mon": ["09:00", "17:00"]}, "holidays": ["2026-12-25"]}"#
        let calendar = try JSONDecoder().decode(BusinessCalendar.self, from: Data(json.utf8))
        #expect(calendar == BusinessCalendar(timeZone: "Europe/Berlin", week: ["mon": ["09:00", "17:00"]], holidays: ["2026-12-25"]))
        let encoded = try JSONEncoder().encode(calendar)
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(Set(object.keys) == ["timeZone", "week", "holidays"])
        #expect(try JSONDecoder().decode(BusinessCalendar.self, from: encoded) == calendar)
        #expect(calendar.adding(hour, to: try instant("2026-06-15T09:00:00+02:00")) == (try instant("2026-06-15T10:00:00+02:00")))
    }

    @Test(arguments: [
        (BusinessCalendar(timeZone: "Mars/Olympus", week: ["mon": ["09:00", "17:00"]]), ["timeZone"]),
        (BusinessCalendar(timeZone: "UTC", week: ["mon": ["09:00", "17:00"], "monday": ["09:00", "17:00"]]), ["week.monday"]),
        (BusinessCalendar(timeZone: "UTC", week: ["mon": ["09:00"]]), ["week.mon"]),
        (BusinessCalendar(timeZone: "UTC", week: ["tue": ["9:00", "17:00"]]), ["week.tue[0]"]),
        (BusinessCalendar(timeZone: "UTC", week: ["wed": ["09:00", "24:30"]]), ["week.wed[1]"]),
        (BusinessCalendar(timeZone: "UTC", week: ["thu": ["09:00", "12:60"]]), ["week.thu[1]"]),
        (BusinessCalendar(timeZone: "UTC", week: ["fri": ["09:00", "12:00", "11:00", "17:00"]]), ["week.fri"]),
        (BusinessCalendar(timeZone: "UTC", week: ["sat": ["09:00", "12:00", "12:00", "17:00"]]), ["week.sat"]),
        (BusinessCalendar(timeZone: "UTC", week: ["sun": ["17:00", "09:00"]]), ["week.sun"]),
        (BusinessCalendar(timeZone: "UTC", week: ["sun": ["24:00", "24:00"]]), ["week.sun"]),
        (BusinessCalendar(timeZone: "UTC", week: [:]), ["week"]),
        (BusinessCalendar(timeZone: "UTC", week: ["sat": [], "sun": []]), ["week"]),
        (BusinessCalendar(timeZone: "UTC", week: ["mon": ["09:00", "17:00"]], holidays: ["2026-02-30"]), ["holidays[0]"]),
        (
            BusinessCalendar(timeZone: "UTC", week: ["mon": ["09:00", "17:00"]], holidays: ["2026-12-25", "26.12.2026", "2026-12-25", "2026-1-01"]),
            ["holidays[1]", "holidays[2]", "holidays[3]"]
        ),
        (BusinessCalendar(timeZone: "", week: ["mon": ["09:00", "x", "17:00"], "xyz": []]), ["timeZone", "week.mon[1]", "week.mon", "week.xyz"]),
    ])
    func validationNamesTheBadField(calendar: BusinessCalendar, fields: [String]) {
        #expect(calendar.validationErrors().map(\.field) == fields)
    }

    // MARK: Properties

    @Test func addingThenMeasuringGivesTheAmount() async {
        await propertyCheck(count: 300, input: Arbitrary.calendar, Arbitrary.start, Arbitrary.amount) { calendar, start, seconds in
            let end = calendar.adding(seconds, to: start)
            #expect(abs(calendar.businessSeconds(from: start, to: end) - seconds) < 0.001)
        }
    }

    @Test func resultIsOpenOrTheEndOfAnOpenInterval() async {
        await propertyCheck(count: 300, input: Arbitrary.calendar, Arbitrary.start, Arbitrary.amount) { calendar, start, seconds in
            let end = calendar.adding(max(seconds, 0.01), to: start)
            #expect(calendar.isOpen(at: end) || calendar.isOpen(at: end.addingTimeInterval(-0.001)))
        }
    }

    @Test func addingIsMonotonic() async {
        await propertyCheck(input: Arbitrary.calendar, Arbitrary.start, Arbitrary.amount, Arbitrary.amount) { calendar, start, first, second in
            #expect(calendar.adding(min(first, second), to: start) <= calendar.adding(max(first, second), to: start))
        }
    }

    @Test func businessSecondsIsAdditive() async {
        await propertyCheck(input: Arbitrary.calendar, Arbitrary.start, Arbitrary.gap, Arbitrary.gap) { calendar, start, first, second in
            let middle = start.addingTimeInterval(first)
            let end = middle.addingTimeInterval(second)
            let whole = calendar.businessSeconds(from: start, to: end)
            #expect(abs(calendar.businessSeconds(from: start, to: middle) + calendar.businessSeconds(from: middle, to: end) - whole) < 0.001)
        }
    }

    @Test func businessSecondsNeverExceedsWallClock() async {
        await propertyCheck(input: Arbitrary.calendar, Arbitrary.start, Arbitrary.gap) { calendar, start, seconds in
            let measured = calendar.businessSeconds(from: start, to: start.addingTimeInterval(seconds))
            #expect(measured >= 0 && measured <= seconds + 0.001)
        }
    }

    @Test func aroundTheClockIsWallClockInEveryZone() async {
        let zones = Gen.element(of: Arbitrary.zones).map { BusinessCalendar(timeZone: $0 ?? "UTC", week: everyDay(["00:00", "24:00"])) }
        await propertyCheck(input: zones, Arbitrary.start, Arbitrary.amount) { calendar, start, seconds in
            #expect(abs(calendar.adding(seconds, to: start).timeIntervalSince(start) - seconds) < 0.001)
            #expect(abs(calendar.businessSeconds(from: start, to: start.addingTimeInterval(seconds)) - seconds) < 0.001)
        }
    }

    @Test func pausesOnlyDelayByThePausedOpenTime() async {
        await propertyCheck(count: 200, input: Arbitrary.calendar, Arbitrary.start, Arbitrary.amount, Arbitrary.pauses) {
            calendar, start, seconds, offsets in
            let pauses = offsets.map { DateInterval(start: start.addingTimeInterval($0.0), duration: $0.1) }
            let plain = calendar.adding(seconds, to: start)
            let paused = calendar.adding(seconds, to: start, skipping: pauses)
            #expect(paused >= plain)
            #expect(calendar.adding(seconds, to: start, skipping: []) == plain)
            let pausedOpenTime = merged(pauses).reduce(0) { total, pause in
                total + calendar.businessSeconds(from: max(pause.start, start), to: min(pause.end, paused))
            }
            #expect(abs(calendar.businessSeconds(from: start, to: paused) - pausedOpenTime - seconds) < 0.001)
        }
    }

    @Test func matchesAMinuteByMinuteCount() async {
        await propertyCheck(input: Arbitrary.calendar, Arbitrary.wholeMinute, Gen.int(in: 1...(2 * 24 * 60))) { calendar, start, minutes in
            let end = start.addingTimeInterval(Double(minutes) * 60)
            guard !clocksGoBack(in: TimeZone(identifier: calendar.timeZone) ?? .gmt, from: start, to: end) else { return }
            #expect(calendar.businessSeconds(from: start, to: end) == openMinutes(calendar, from: start, count: minutes) * 60)
        }
    }

    @Test func validationAcceptsGeneratedCalendars() async {
        await propertyCheck(input: Arbitrary.calendar) { calendar in
            #expect(calendar.validationErrors().isEmpty)
            let decoded = try JSONDecoder().decode(BusinessCalendar.self, from: try JSONEncoder().encode(calendar))
            #expect(decoded == calendar)
        }
    }

    @Test func validationNamesAnInjectedDefect() async {
        await propertyCheck(input: Arbitrary.calendar, Gen.int(in: 0..<defects.count)) { calendar, index in
            let (broken, field) = defects[index](calendar)
            #expect(broken.validationErrors().map(\.field).contains(field))
        }
    }
}

// MARK: - Helpers

private let hour: TimeInterval = 3600
private let day: TimeInterval = 86_400
private let dayKeys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

private func instant(_ text: String) throws -> Date {
    try Date(text, strategy: .iso8601)
}

private func weekdays(_ times: [String], zone: String, holidays: [String] = []) -> BusinessCalendar {
    BusinessCalendar(timeZone: zone, week: Dictionary(uniqueKeysWithValues: dayKeys.prefix(5).map { ($0, times) }), holidays: holidays)
}

private func everyDay(_ times: [String]) -> [String: [String]] {
    Dictionary(uniqueKeysWithValues: dayKeys.map { ($0, times) })
}

private func twoDigits(_ number: Int) -> String {
    number < 10 ? "0\(number)" : "\(number)"
}

private func minutes(_ text: String) -> Int {
    let parts = text.split(separator: ":").compactMap { Int($0) }
    return parts[0] * 60 + parts[1]
}

/// Ways to break a valid calendar, each with the field that validation must then name.
private let defects: [@Sendable (BusinessCalendar) -> (BusinessCalendar, String)] = [
    { calendar in (calendar.with(timeZone: "Nowhere/Town"), "timeZone") },
    { calendar in (calendar.with(week: calendar.week.merging(["funday": ["09:00", "10:00"]]) { $1 }), "week.funday") },
    { calendar in (calendar.with(week: [:]), "week") },
    { calendar in (calendar.changingFirstOpenDay { $0 + ["23:59"] }, "week.\(calendar.firstOpenDay)") },
    { calendar in (calendar.changingFirstOpenDay { $0 + $0.prefix(2) }, "week.\(calendar.firstOpenDay)") },
    { calendar in
        let field = "week.\(calendar.firstOpenDay)[\(calendar.week[calendar.firstOpenDay]?.count ?? 0)]"
        return (calendar.changingFirstOpenDay { $0 + ["25:00", "26:00"] }, field)
    },
    { calendar in (calendar.with(holidays: calendar.holidays + ["2026-13-01"]), "holidays[\(calendar.holidays.count)]") },
    { calendar in (calendar.with(holidays: calendar.holidays + ["2026-06-15", "2026-06-15"]), "holidays[\(calendar.holidays.count + 1)]") },
]

extension BusinessCalendar {
    /// The alphabetically first day with open time (generated calendars list only those).
    fileprivate var firstOpenDay: String {
        week.keys.sorted().first ?? "mon"
    }

    fileprivate func with(timeZone: String? = nil, week: [String: [String]]? = nil, holidays: [String]? = nil) -> BusinessCalendar {
        BusinessCalendar(timeZone: timeZone ?? self.timeZone, week: week ?? self.week, holidays: holidays ?? self.holidays)
    }

    fileprivate func changingFirstOpenDay(_ change: ([String]) -> [String]) -> BusinessCalendar {
        with(week: week.merging([firstOpenDay: change(week[firstOpenDay] ?? [])]) { $1 })
    }
}

/// Pauses sorted and with overlapping ones joined.
private func merged(_ pauses: [DateInterval]) -> [DateInterval] {
    var result: [DateInterval] = []
    for pause in pauses.sorted(by: { $0.start < $1.start }) {
        if let last = result.last, pause.start <= last.end {
            result[result.count - 1] = DateInterval(start: last.start, end: max(last.end, pause.end))
        } else {
            result.append(pause)
        }
    }
    return result
}

/// Whether a daylight-saving change between `start` and `end` repeats local times (where the wall-clock reading alone
/// cannot tell first and second occurrence apart).
private func clocksGoBack(in zone: TimeZone, from start: Date, to end: Date) -> Bool {
    var next = zone.nextDaylightSavingTimeTransition(after: start)
    while let change = next, change < end {
        if zone.secondsFromGMT(for: change) < zone.secondsFromGMT(for: change.addingTimeInterval(-1)) { return true }
        next = zone.nextDaylightSavingTimeTransition(after: change)
    }
    return false
}

/// How many of the `count` minutes from `start` begin at an open local wall-clock time, read with Foundation's calendar.
private func openMinutes(_ calendar: BusinessCalendar, from start: Date, count: Int) -> Double {
    var local = Calendar(identifier: .gregorian)
    local.timeZone = TimeZone(identifier: calendar.timeZone) ?? .gmt
    var open = 0
    for index in 0..<count {
        let parts = local.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: start.addingTimeInterval(Double(index) * 60))
        guard let year = parts.year, let month = parts.month, let date = parts.day, let weekday = parts.weekday,
            let hour = parts.hour, let minute = parts.minute
        else { continue }
        if calendar.holidays.contains("\(year)-\(twoDigits(month))-\(twoDigits(date))") { continue }
        let times = (calendar.week[dayKeys[(weekday + 5) % 7]] ?? []).map(minutes)
        let now = hour * 60 + minute
        if stride(from: 0, to: times.count, by: 2).contains(where: { times[$0] <= now && now < times[$0 + 1] }) { open += 1 }
    }
    return Double(open)
}

/// Generators of valid calendars, instants and amounts around 2025 to 2027.
private enum Arbitrary {
    static let zones = [
        "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Australia/Lord_Howe",
        "Asia/Kolkata", "Pacific/Chatham", "America/Sao_Paulo", "UTC",
    ]

    /// 2025-01-01T00:00:00Z and 2028-01-01T00:00:00Z.
    static let years: ClosedRange<TimeInterval> = 757_382_400...852_076_800

    /// Daylight-saving switches of the zones within `years`.
    static let switches: [TimeInterval] = zones.flatMap { identifier in
        let zone = TimeZone(identifier: identifier) ?? .gmt
        let first = Date(timeIntervalSinceReferenceDate: years.lowerBound)
        return sequence(first: first) { zone.nextDaylightSavingTimeTransition(after: $0) }
            .dropFirst()
            .prefix { $0.timeIntervalSinceReferenceDate < years.upperBound }
            .map(\.timeIntervalSinceReferenceDate)
    }

    /// A day: 0 to 3 intervals on quarter hours, sometimes from 00:00 or until 24:00.
    static let day = Gen.int(in: 0...96).array(of: 0...6).map { quarters -> [String] in
        let sorted = Set(quarters).sorted()
        return sorted.prefix(sorted.count / 2 * 2).map { "\(twoDigits($0 / 4)):\(twoDigits($0 % 4 * 15))" }
    }

    static let holidays = Gen.int(in: 0...1094).array(of: 0...8).map { offsets -> [String] in
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = .gmt
        return Set(offsets).sorted().map { offset in
            let parts = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSinceReferenceDate: years.lowerBound + Double(offset) * 86_400))
            return "\(parts.year ?? 0)-\(twoDigits(parts.month ?? 0))-\(twoDigits(parts.day ?? 0))"
        }
    }

    static let calendar = zip(Gen.element(of: zones), day.array(of: 7), holidays).map { zone, days, holidays in
        var week = Dictionary(uniqueKeysWithValues: zip(dayKeys, days).filter { !$0.1.isEmpty })
        if week.isEmpty { week["wed"] = ["10:00", "10:15"] }
        return BusinessCalendar(timeZone: zone ?? "UTC", week: week, holidays: holidays)
    }

    /// Anywhere in `years`, or within three days of a daylight-saving switch.
    static let start = zip(Gen.bool, Gen.int(in: 0..<switches.count), Gen.double(in: -3 * 86_400...3 * 86_400), Gen.double(in: years)).map {
        nearSwitch, index, offset, anywhere in
        Date(timeIntervalSinceReferenceDate: nearSwitch ? switches[index] + offset : anywhere)
    }

    /// Like `start`, on a whole minute.
    static let wholeMinute = start.map { Date(timeIntervalSinceReferenceDate: ($0.timeIntervalSinceReferenceDate / 60).rounded(.down) * 60) }

    /// Up to three weeks of open time, mostly less.
    static let amount = Gen.double(in: 0...1).map { $0 * $0 * $0 * 21 * 86_400 }

    /// Up to 30 days of wall-clock time.
    static let gap = Gen.double(in: 0...(30 * 86_400))

    /// Pauses as offsets from the start and durations: from two days before to ten days after, up to three days long.
    static let pauses = zip(Gen.double(in: -2 * 86_400...10 * 86_400), Gen.double(in: 0...(3 * 86_400))).array(of: 0...4)
}
