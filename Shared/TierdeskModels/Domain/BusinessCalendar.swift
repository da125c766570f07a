import Foundation

/// When the service desk is open, for measuring SLA targets in business time.
///
/// JSON: `{"timeZone": "Europe/Berlin", "week": {"mon": ["09:00", "17:00"]}, "holidays": ["2026-12-25"]}`.
/// Each day (`mon` ... `sun`) lists local opening and closing times in pairs, so `["09:00", "12:00", "13:00", "17:00"]`
/// has a lunch break; `"24:00"` closes at the end of the day, and a missing or empty day is closed. Holidays are local
/// dates (`yyyy-MM-dd`) on which the desk is closed all day.
///
/// Open time is real elapsed time. An opening or closing time that a daylight-saving change skips takes effect when the
/// clock jumps past it; one that a change repeats takes effect at its first occurrence.
///
/// The arithmetic expects a calendar without ``validationErrors()``; it ignores invalid times and holidays and treats an
/// unknown time zone as UTC.
public struct BusinessCalendar: Sendable, Codable, Equatable {
    /// A time zone identifier such as `Europe/Berlin`.
    public let timeZone: String
    /// Opening and closing times ("HH:MM") in pairs, by day key (`mon` ... `sun`).
    public let week: [String: [String]]
    /// Local dates (`yyyy-MM-dd`) on which the desk is closed all day.
    public let holidays: [String]

    private let schedule: Schedule

    private enum CodingKeys: String, CodingKey {
        case timeZone, week, holidays
    }

    public init(timeZone: String, week: [String: [String]], holidays: [String] = []) {
        self.timeZone = timeZone
        self.week = week
        self.holidays = holidays
        self.schedule = Schedule(timeZone: timeZone, week: week, holidays: holidays)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            timeZone: try container.decode(String.self, forKey: .timeZone),
            week: try container.decode([String: [String]].self, forKey: .week),
            holidays: try container.decodeIfPresent([String].self, forKey: .holidays) ?? [])
    }

    /// Calendars are equal when their time zone, week and holidays are.
    public static func == (lhs: BusinessCalendar, rhs: BusinessCalendar) -> Bool {
        lhs.timeZone == rhs.timeZone && lhs.week == rhs.week && lhs.holidays == rhs.holidays
    }

    /// Open around the clock every day in UTC, so business time is wall-clock time.
    public static let alwaysOpen = BusinessCalendar(
        timeZone: "UTC", week: Dictionary(uniqueKeysWithValues: Weekday.keys.map { ($0, ["00:00", "24:00"]) }))
}

// MARK: - Arithmetic

extension BusinessCalendar {
    /// Open time between two instants, in seconds; 0 when `end` is not after `start`.
    public func businessSeconds(from start: Date, to end: Date) -> TimeInterval {
        let from = start.timeIntervalSinceReferenceDate
        let to = end.timeIntervalSinceReferenceDate
        guard from < to, schedule.hasOpenTime else { return 0 }
        var total: TimeInterval = 0
        for span in schedule.openSpans(from: from) {
            if span.start >= to { break }
            total += min(span.end, to) - span.start
        }
        return total
    }

    /// The earliest instant by which `seconds` of open time have passed since `start`; `start` itself when `seconds` is
    /// not positive, and `Date.distantFuture` when that never happens (no open time, or infinite `seconds`).
    public func adding(_ seconds: TimeInterval, to start: Date) -> Date {
        adding(seconds, to: start, skipping: [])
    }

    /// Like ``adding(_:to:)``, but open time inside any of `pauses` does not count. Pauses may overlap each other and
    /// begin before `start`.
    public func adding(_ seconds: TimeInterval, to start: Date, skipping pauses: [DateInterval]) -> Date {
        guard seconds > 0 else { return start }
        guard seconds.isFinite, schedule.hasOpenTime else { return .distantFuture }
        let from = start.timeIntervalSinceReferenceDate
        var cutter = PauseCutter(pauses, after: from)
        var remaining = seconds
        for span in schedule.openSpans(from: from) {
            for piece in cutter.cut(span) {
                if remaining <= piece.length {
                    return Date(timeIntervalSinceReferenceDate: min(piece.start + remaining, piece.end))
                }
                remaining -= piece.length
            }
        }
        return .distantFuture
    }

    /// Whether the desk is open at `instant` (an interval's closing instant is not open).
    public func isOpen(at instant: Date) -> Bool {
        let time = instant.timeIntervalSinceReferenceDate
        guard schedule.hasOpenTime else { return false }
        return schedule.openSpans(from: time).next()?.start == time
    }
}

// MARK: - Validation

extension BusinessCalendar {
    /// Every problem with the calendar, by field (`timeZone`, `week.mon`, `week.mon[2]`, `holidays[1]`, ...).
    public func validationErrors() -> [FieldError] {
        var errors: [FieldError] = []
        if TimeZone(identifier: timeZone) == nil {
            errors.append(FieldError(field: "timeZone", message: "is not a known time zone identifier"))
        }
        return errors + weekErrors() + holidayErrors()
    }

    private func weekErrors() -> [FieldError] {
        let keys = week.keys.sorted { (Weekday.rank($0), $0) < (Weekday.rank($1), $1) }
        var errors = keys.flatMap { Self.dayErrors(key: $0, times: week[$0] ?? []) }
        if !Weekday.keys.contains(where: { !(week[$0] ?? []).isEmpty }) {
            errors.append(FieldError(field: "week", message: "must have some open time"))
        }
        return errors
    }

    private static func dayErrors(key: String, times: [String]) -> [FieldError] {
        let field = "week.\(key)"
        guard Weekday.keys.contains(key) else {
            return [FieldError(field: field, message: "is not a day: use mon, tue, wed, thu, fri, sat or sun")]
        }
        var errors: [FieldError] = []
        for (index, text) in times.enumerated() where ClockText.minutes(text) == nil {
            errors.append(FieldError(field: "\(field)[\(index)]", message: "must be a time HH:MM from 00:00 to 24:00"))
        }
        if !times.count.isMultiple(of: 2) {
            errors.append(FieldError(field: field, message: "must list opening and closing times in pairs"))
        }
        let minutes = times.compactMap(ClockText.minutes)
        if zip(minutes, minutes.dropFirst()).contains(where: { $0 >= $1 }) {
            errors.append(FieldError(field: field, message: "must be in increasing order, without overlapping intervals"))
        }
        return errors
    }

    private func holidayErrors() -> [FieldError] {
        var errors: [FieldError] = []
        var firstIndex: [Int: Int] = [:]
        for (index, text) in holidays.enumerated() {
            let field = "holidays[\(index)]"
            if let day = ClockText.dayNumber(text) {
                if let first = firstIndex[day] {
                    errors.append(FieldError(field: field, message: "repeats holidays[\(first)]"))
                } else {
                    firstIndex[day] = index
                }
            } else {
                errors.append(FieldError(field: field, message: "must be a date yyyy-MM-dd"))
            }
        }
        return errors
    }
}

// MARK: - Parsed form

/// Day keys in the order of `Schedule.days`, Monday first.
private enum Weekday {
    static let keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Position of a day key, after all days for an unknown key.
    static func rank(_ key: String) -> Int {
        keys.firstIndex(of: key) ?? keys.count
    }
}

/// Parsing of the calendar's texts.
private enum ClockText {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar
    }()

    /// Minutes after midnight of "HH:MM" (00:00 to 24:00).
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let hours = number(parts[0], digits: 2), let minutes = number(parts[1], digits: 2),
            minutes < 60, hours * 60 + minutes <= 24 * 60
        else { return nil }
        return hours * 60 + minutes
    }

    /// Days since 2001-01-01 of a `yyyy-MM-dd` date.
    static func dayNumber(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = number(parts[0], digits: 4), let month = number(parts[1], digits: 2),
            let day = number(parts[2], digits: 2)
        else { return nil }
        guard let date = utc.date(from: DateComponents(year: year, month: month, day: day)) else { return nil }
        let parsed = utc.dateComponents([.year, .month, .day], from: date)
        guard parsed.year == year && parsed.month == month && parsed.day == day else { return nil }
        return Schedule.day(at: date.timeIntervalSinceReferenceDate)
    }

    private static func number(_ text: Substring, digits: Int) -> Int? {
        guard text.count == digits, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}

/// A stretch of open time, in seconds since the reference date.
private struct Span {
    var start: TimeInterval
    var end: TimeInterval

    var length: TimeInterval { end - start }
}

/// The calendar parsed for arithmetic. Days are numbered from 2001-01-01, a Monday, in local wall-clock time.
private struct Schedule: Sendable {
    static let secondsPerDay: TimeInterval = 86_400

    let zone: TimeZone
    /// Open minutes after midnight per weekday, Monday first; sorted and disjoint.
    let days: [[Range<Int>]]
    let holidays: Set<Int>
    let hasOpenTime: Bool

    init(timeZone: String, week: [String: [String]], holidays: [String]) {
        zone = TimeZone(identifier: timeZone) ?? .gmt
        days = Weekday.keys.map { Self.openMinutes(week[$0] ?? []) }
        self.holidays = Set(holidays.compactMap(ClockText.dayNumber))
        hasOpenTime = days.contains { !$0.isEmpty }
    }

    /// The valid intervals of one day, sorted and merged.
    private static func openMinutes(_ times: [String]) -> [Range<Int>] {
        let ranges = stride(from: 0, to: times.count - 1, by: 2).compactMap { index -> Range<Int>? in
            guard let open = ClockText.minutes(times[index]), let close = ClockText.minutes(times[index + 1]), open < close
            else { return nil }
            return open..<close
        }
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The day number of a wall-clock time given as seconds since the reference date.
    static func day(at wallClock: TimeInterval) -> Int {
        Int((wallClock / secondsPerDay).rounded(.down))
    }

    /// Open spans in time order, from the local day before `start` on, cut to begin no earlier than `start`.
    /// Endless, so only for a schedule with open time.
    func openSpans(from start: TimeInterval) -> AnyIterator<Span> {
        var day = Self.day(at: start + offset(at: start)) - 1
        var pending: [Span] = []
        return AnyIterator {
            while pending.isEmpty {
                pending = spans(onDay: day).compactMap { span in
                    let cut = Span(start: max(span.start, start), end: span.end)
                    return cut.length > 0 ? cut : nil
                }.reversed()
                day += 1
            }
            return pending.popLast()
        }
    }

    /// The open spans of one local day.
    private func spans(onDay day: Int) -> [Span] {
        guard !holidays.contains(day) else { return [] }
        let weekday = ((day % 7) + 7) % 7
        return days[weekday].map { Span(start: instant(day: day, minute: $0.lowerBound), end: instant(day: day, minute: $0.upperBound)) }
    }

    /// The first instant at which the local clock reads `minute` on `day` or later.
    private func instant(day: Int, minute: Int) -> TimeInterval {
        let wallClock = Double(day) * Self.secondsPerDay + Double(minute) * 60
        let before = offset(at: wallClock - Self.secondsPerDay)
        let after = offset(at: wallClock + Self.secondsPerDay)
        let matches = [wallClock - before, wallClock - after].filter { $0 + offset(at: $0) == wallClock }
        if let first = matches.min() { return first }
        return firstInstant(withOffset: after, from: wallClock - after, to: wallClock - before)
    }

    /// The first whole second in `low...high` at which `offset` applies; `high` when none does before it.
    private func firstInstant(withOffset target: TimeInterval, from low: TimeInterval, to high: TimeInterval) -> TimeInterval {
        var low = low
        var high = high
        while high - low > 1 {
            let middle = ((low + high) / 2).rounded(.down)
            if offset(at: middle) == target { high = middle } else { low = middle }
        }
        return high
    }

    private func offset(at instant: TimeInterval) -> TimeInterval {
        TimeInterval(zone.secondsFromGMT(for: Date(timeIntervalSinceReferenceDate: instant)))
    }
}

/// Removes paused time from open spans given in time order.
private struct PauseCutter {
    /// Sorted, disjoint pauses that end after the start.
    private let pauses: [Span]
    private var index = 0

    init(_ intervals: [DateInterval], after start: TimeInterval) {
        var merged: [Span] = []
        let spans = intervals.map { Span(start: $0.start.timeIntervalSinceReferenceDate, end: $0.end.timeIntervalSinceReferenceDate) }
        for span in spans.sorted(by: { $0.start < $1.start }) where span.end > start {
            if let last = merged.last, span.start <= last.end {
                merged[merged.count - 1].end = max(last.end, span.end)
            } else {
                merged.append(span)
            }
        }
        pauses = merged
    }

    /// The parts of `span` outside every pause; spans must come in time order.
    mutating func cut(_ span: Span) -> [Span] {
        var pieces: [Span] = []
        var cursor = span.start
        while cursor < span.end {
            while index < pauses.count && pauses[index].end <= cursor { index += 1 }
            guard index < pauses.count, pauses[index].start < span.end else {
                pieces.append(Span(start: cursor, end: span.end))
                break
            }
            if pauses[index].start > cursor { pieces.append(Span(start: cursor, end: pauses[index].start)) }
            cursor = pauses[index].end
        }
        return pieces
    }
}
