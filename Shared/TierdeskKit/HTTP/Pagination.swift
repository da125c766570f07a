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
}
