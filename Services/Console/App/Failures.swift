import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// The one place a failed call becomes what the visitor reads: every failure is logged with the
/// request id (the request's logger carries it) and shown for what it is, never as an empty list.
extension Backend.Failure {
    /// What went wrong, as the visitor must understand it.
    enum Kind: String, Sendable {
        /// A service did not answer, or answered 5xx or something unreadable: nothing it holds is shown.
        case unreachable
        /// A service no longer takes the session's token (401): the session ends.
        case sessionEnded
        /// A real 404.
        case notFound
        /// A 403 (or a 401 for a token no session holds).
        case notAllowed
        /// A refusal with its message (422, 409, 400, 429; or the console's own of a form value).
        case refused
    }

    var kind: Kind {
        switch status {
        case 401 where tokenHash != nil: .sessionEnded
        case 401, 403: .notAllowed
        case 404: .notFound
        case 500...: .unreachable
        default: .refused
        }
    }

    /// The sentence a page shows.
    var shown: String {
        switch kind {
        case .unreachable:
            let which = service.map { " (\($0.rawValue))" } ?? ""
            return status == 502 || status == 503 || status == 504
                ? "The services cannot be reached right now\(which); try again shortly."
                : "The services failed to answer\(which): \(detail). Try again shortly."
        case .sessionEnded: return Self.sessionEndedText
        case .notFound: return "Not found: \(detail)."
        case .notAllowed: return "Not allowed: \(detail)."
        case .refused: return message
        }
    }

    static let sessionEndedText = "Your session ended: the token it used is no longer accepted (a new one was issued, or it was deactivated). Sign in again."

    /// Logs the failure of `what` (a page, a part of one, a form) with the request id of `logger`:
    /// an outage as an error, anything else as a notice.
    func log(_ what: String, logger: Logger) {
        var metadata: Logger.Metadata = ["console.failure": "\(kind.rawValue)", "http.status": "\(status)", "detail": "\(detail)"]
        if let service { metadata["service"] = "\(service.rawValue)" }
        if let cause { metadata["error"] = "\(cause)" }
        logger.log(level: kind == .unreachable ? .error : .notice, "\(what) failed: \(kind.rawValue)", metadata: metadata)
    }
}

extension Pages {
    /// A page's part that may fail alone (a list beside the page's subject, a lookup in another
    /// service): its value, or its failure, logged, for the page to show in the part's place. A
    /// session that ended still ends the whole page.
    static func part<Value>(_ what: String, _ context: ConsoleContext, _ load: () async throws -> Value) async throws -> Result<Value, Backend.Failure> {
        do {
            return .success(try await load())
        } catch let failure as Backend.Failure where failure.kind != .sessionEnded {
            failure.log(what, logger: context.logger)
            return .failure(failure)
        }
    }

    /// What stands in a failed part's place: which part, why, and the request id to quote.
    static func missing(_ what: String, _ failure: Backend.Failure, _ context: ConsoleContext) -> HTML {
        "<p class=\"error part-error\" role=\"alert\" data-failed=\"\(failure.kind.rawValue)\">\(what) cannot be shown. \(failure.shown) (Request \(context.id).)</p>"
    }

    /// A part's HTML: `render` of its value, or what stands in its place.
    static func show<Value>(_ part: Result<Value, Backend.Failure>, _ what: String, _ context: ConsoleContext, _ render: (Value) -> HTML) -> HTML {
        switch part {
        case .success(let value): render(value)
        case .failure(let failure): missing(what, failure, context)
        }
    }

    /// The answer for a failure nothing on the way caught (a page's own subject could not be read):
    /// logged, and shown as a page with the status it deserves. A request for data (the queue's
    /// refresh, suggestions) gets the status alone. An ended session is `SessionMiddleware`'s.
    static func failed(_ failure: Backend.Failure, _ request: Request, _ context: ConsoleContext) -> Response {
        failure.log("\(request.method) \(request.uri.path)", logger: context.logger)
        let status: HTTPResponse.Status =
            switch failure.kind {
            case .unreachable: .serviceUnavailable
            case .sessionEnded: .unauthorized
            case .notFound: .notFound
            case .notAllowed: .forbidden
            case .refused: .init(code: (400..<500).contains(failure.status) ? failure.status : 422)
            }
        if wantsData(request) { return Response(status: status, headers: [.cacheControl: "no-store"]) }
        let title =
            switch failure.kind {
            case .unreachable: "Not available"
            case .sessionEnded: "Session ended"
            case .notFound: "Not found"
            case .notAllowed: "Not allowed"
            case .refused: "Refused"
            }
        return error(status: status, title: title, detail: "\(failure.shown) (Request \(context.id).)")
    }

    /// Whether the request is for data a page's script reads, not for a page.
    static func wantsData(_ request: Request) -> Bool {
        request.uri.path.hasSuffix(".json") || request.uri.path == "/suggest" || request.uri.path.hasSuffix("/stream")
    }

    /// The console's page size for every list; the rest comes page by page ("More").
    static let pageSize = 50

    /// The cursor the page's address carries in `name`: where its list goes on from.
    static func cursor(_ request: Request, _ name: String = "cursor") -> String? {
        request.uri.queryParameters[name[...]].map(String.init)?.nilIfEmpty
    }

    /// The "More" link of a list that has more: this page's address with `name` set to `next`
    /// (the API's `nextCursor`); nothing when the list is complete.
    static func more(_ request: Request, _ name: String = "cursor", next: String?) -> HTML {
        let kept = request.uri.queryParameters.filter { $0.key != name[...] }.map { (String($0.key), String($0.value)) }
        return more(request.uri.path, keeping: kept, name, next: next)
    }

    /// The "More" link of a list on `path` (a form's answer shows the list's first page), with `kept`
    /// of the address's query.
    static func more(_ path: String, keeping kept: [(String, String)] = [], _ name: String = "cursor", next: String?) -> HTML {
        guard let next else { return "" }
        let query = (kept + [(name, next)]).map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
        let id = name == "cursor" ? "more" : "more-\(name)"
        return "<p class=\"more\"><a href=\"\(path)?\(query)\" id=\"\(id)\" rel=\"next\">More</a></p>"
    }

    static func encode(_ value: String) -> String { value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
}

/// A form's values as what they mean, or a refusal naming the field: nothing is sent then, and no
/// value that does not parse falls back to a default.
enum FormValue {
    /// One of `Value`'s cases, which the field must hold.
    static func choice<Value: RawRepresentable<String>>(_ text: String?, _ what: String) throws(Backend.Failure) -> Value {
        guard let value = text.flatMap(Value.init(rawValue:)) else {
            throw .refused("\(what): “\(text ?? "")” is not one of the choices. Choose one from the list.")
        }
        return value
    }

    /// A whole number in `range`; nil when the field is empty or absent.
    static func number(_ text: String?, _ what: String, in range: ClosedRange<Int>? = nil) throws(Backend.Failure) -> Int? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let number = Int(text), range?.contains(number) ?? true else {
            let bounds = range.map { " from \($0.lowerBound) to \($0.upperBound)" } ?? ""
            throw .refused("\(what) must be a whole number\(bounds), not “\(text)”.")
        }
        return number
    }

    /// Whole numbers separated by commas (`1, 2`); empty when the field is.
    static func numbers(_ text: String?, _ what: String) throws(Backend.Failure) -> [Int] {
        var numbers: [Int] = []
        for item in (text ?? "").split(separator: ",") {
            if let number = try number(String(item), what) { numbers.append(number) }
        }
        return numbers
    }

    /// `true` or `false`, as a checkbox or a pair of buttons sends it (an absent checkbox is false).
    static func flag(_ text: String?, _ what: String) throws(Backend.Failure) -> Bool {
        switch text {
        case nil, "false": return false
        case "true": return true
        case let other?: throw .refused("\(what) must be true or false, not “\(other)”.")
        }
    }
}
