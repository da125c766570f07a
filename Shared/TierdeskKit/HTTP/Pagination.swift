import Foundation
import Hummingbird
import TierdeskModels

public enum Pagination {
    /// The `?limit=` of a list: 1 to `max` (200 for pages), `default` when absent (50 for pages); 422 otherwise.
    public static func limit(
        _ request: Request, default defaultLimit: Int = Page<TicketSummary>.defaultLimit, max: Int = Page<TicketSummary>.maxLimit
    ) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return defaultLimit }
        guard let limit = Int(String(text)), (1...max).contains(limit) else {
            throw Problem.validation([FieldError(field: "limit", message: "must be a whole number from 1 to \(max)")])
        }
        return limit
    }

    /// The `?cursor=` of a list, parsed by `parse`; nil when absent, 422 when it is not one this service handed out.
    public static func cursor<Cursor>(_ request: Request, _ parse: (String) -> Cursor?) throws -> Cursor? {
        guard let text = request.uri.queryParameters["cursor"] else { return nil }
        guard let cursor = parse(String(text)) else {
            throw Problem.validation([FieldError(field: "cursor", message: "is not a cursor this service handed out")])
        }
        return cursor
    }

    /// The period `?from=&to=` of a report (ISO 8601 instants): by default the 30 days up to `now`;
    /// at most 366 days; 422 naming the field otherwise.
    public static func window(_ request: Request, now: Date) throws -> (Date, Date) {
        let query = request.uri.queryParameters
        var v = Validation()
        func instant(_ name: String) -> Date? {
            guard let text = query[name[...]] else { return nil }
            guard let date = JSONCoding.parseDate(String(text)) else {
                v.fail(name, "must be an ISO 8601 instant such as 2026-11-01T00:00:00Z")
                return nil
            }
            return date
        }
        let to = instant("to") ?? now
        let from = instant("from") ?? to.addingTimeInterval(-30 * 86_400)
        let epoch = Date(timeIntervalSince1970: 0)
        if to <= epoch { v.fail("to", "must be after 1970-01-01T00:00:00Z") }
        if from < epoch && to > epoch { v.fail("from", "must not be before 1970-01-01T00:00:00Z") }
        if from >= to { v.fail("from", "must be before to") }
        if to.timeIntervalSince(from) > 366 * 86_400 { v.fail("from", "a report covers at most 366 days") }
        try v.check()
        return (from, to)
    }
}
