import Foundation

/// RFC 3339 date-times, the API's only date format, read and written by hand. Every date of every
/// JSON body passes through here: Foundation's `ISO8601FormatStyle` behind a Swift `Regex` took a
/// fifth of the console's CPU time decoding a queue page (perf, BENCHMARKS.md), this takes a few
/// hundred nanoseconds. Written as Foundation writes them (UTC, milliseconds, truncated), and read
/// strictly (`JSONCodingTests` holds both against Foundation); years before 1583 are Foundation's.
public enum RFC3339 {
    /// `2026-11-30T06:19:33.250Z`.
    public static func format(_ date: Date) -> String {
        // From the reference date, as a `Date` holds it (and Foundation counts): no rounding on the way.
        let reference = date.timeIntervalSinceReferenceDate
        let whole = reference.rounded(.down)
        guard whole.isFinite, abs(whole) < 2.5e11 else { return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
        let total = (Int64(whole) + 978_307_200) * 1000 + Int64(((reference - whole) * 1000).rounded(.down))
        let seconds = floorDivide(total, 1000)
        let days = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        guard Self.gregorian.contains(year) else { return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
        let inDay = Int(seconds - days * 86_400)
        let milli = Int(total - seconds * 1000)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(inDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(inDay / 60 % 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(inDay % 60, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(milli, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1-9 digits, then `Z` or `±HH:MM` (offsets up
    /// to 14 hours), and nothing else; a day the month does not have, hour 24 or second 60 is nil.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
                index += 1
            }
            return value
        }
        func expect(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2), expect("T"), let hour = digits(2), expect(":"),
            let minute = digits(2), expect(":"), let second = digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60 else { return nil }
        var fraction = 0.0
        if expect(".") {
            var scale = 1.0
            var count = 0
            var value = 0
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
                value = value * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                scale *= 10
                count += 1
                index += 1
            }
            guard (1...9).contains(count) else { return nil }
            fraction = Double(value) / scale
        }
        var offset = 0
        if !expect("Z") {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = digits(2), expect(":"), let minutes = digits(2), hours <= 14, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard index == bytes.count else { return nil }
        guard Self.gregorian.contains(year) else {
            let text = String(decoding: bytes, as: UTF8.self)
            return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
        }
        let seconds = days(fromYear: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// The years done here: Foundation counts days before 1583 in the Julian calendar, and those
    /// few are left to it so that every date reads and writes as before.
    static let gregorian = 1583...9999

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(fromYear year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day since 1970-01-01 (`civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0), month, day)
    }
}
