import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskModels

/// An error that knows the problem document it answers as.
public protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

extension Problem: ProblemConvertible {
    public var problem: Problem { self }

    public static func notFound(_ what: String) -> Problem {
        Problem(type: typeBase + "not-found", title: "Not found", status: 404, detail: "no \(what) with that id")
    }

    public static func conflict(_ detail: String, type: String = "conflict") -> Problem {
        Problem(type: typeBase + type, title: "Conflict", status: 409, detail: detail)
    }

    public static func badRequest(_ detail: String) -> Problem {
        Problem(type: typeBase + "bad-request", title: "Bad request", status: 400, detail: detail)
    }

    public static let unauthorized = Problem(
        type: typeBase + "unauthorized", title: "Unauthorized", status: 401, detail: "send a valid token as 'Authorization: Bearer <token>'")

    public static func forbidden(_ detail: String) -> Problem {
        Problem(type: typeBase + "forbidden", title: "Forbidden", status: 403, detail: detail)
    }
}

/// Outermost middleware: every failure leaves as `application/problem+json`. Unknown errors are
/// logged once with their full description; the caller sees a plain 500 with no internals.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, request: request, logger: context.logger)
            var headers: HTTPFields = [.contentType: "application/problem+json"]
            if let retryAfter = problem.retryAfter { headers[.retryAfter] = "\(retryAfter)" }
            return Response(
                status: .init(code: problem.status), headers: headers,
                body: .init(byteBuffer: (try? JSONCoding.encode(problem)) ?? .init()))
        }
    }

    static func problem(for error: any Error, request: Request, logger: Logger) -> Problem {
        switch error {
        case let error as any ProblemConvertible:
            return error.problem
        case let error as HTTPError:
            let status = error.status
            let title = status == .contentTooLarge ? "Request body too large" : status.reasonPhrase
            let detail = status == .contentTooLarge ? "the body is larger than 1 MiB" : (status.code == 404 ? "no such resource" : error.body)
            return Problem(type: Problem.typeBase + slug(status.reasonPhrase), title: title, status: status.code, detail: detail)
        case let error as any HTTPResponseError where error.status.code < 500:
            return Problem(type: Problem.typeBase + slug(error.status.reasonPhrase), title: error.status.reasonPhrase, status: error.status.code)
        case let error where isDatabaseUnreachable(error):
            logger.warning("database unreachable", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return .unavailable("the database cannot be reached; try again shortly")
        default:
            logger.error(
                "unexpected error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return Problem(type: Problem.typeBase + "internal", title: "Internal server error", status: 500, detail: "something went wrong on our side")
        }
    }

    /// Whether `error` says the database cannot be reached (a lost or refused connection, the
    /// server shutting down or starting up, or the pool's circuit breaker), rather than that a query
    /// was wrong.
    static func isDatabaseUnreachable(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            if [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed].contains(error.code) { return true }
            // A restart ends open connections with 57P01 (admin_shutdown) and refuses new ones with 57P03
            // (cannot_connect_now) while it starts: found by scripts/compose-test's `restart postgres`.
            return error.code == .server && Self.isUnavailableState(error.serverInfo?[.sqlState])
        }
        // The pool's own error type lives in a module of PostgresNIO's that is not public API.
        return String(reflecting: type(of: error)).hasSuffix("ConnectionPoolError")
    }

    /// SQLSTATEs that mean the server is unavailable for now: class 57P (shutting down, starting up)
    /// and class 08 (the connection failed).
    static func isUnavailableState(_ state: String?) -> Bool {
        guard let state else { return false }
        return state.hasPrefix("57P") || state.hasPrefix("08")
    }

    static func slug(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "-")
    }
}
