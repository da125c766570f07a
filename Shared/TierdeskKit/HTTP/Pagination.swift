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
}
