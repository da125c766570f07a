import Hummingbird
import TierdeskModels

/// The `?limit=` of a list: 1 to 200, default 50.
public enum Pagination {
    public static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return Page<TicketSummary>.defaultLimit }
        guard let limit = Int(String(text)), (1...Page<TicketSummary>.maxLimit).contains(limit) else {
            throw Problem.validation([FieldError(field: "limit", message: "must be a whole number from 1 to \(Page<TicketSummary>.maxLimit)")])
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
