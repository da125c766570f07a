import Hummingbird
import NIOConcurrencyHelpers
import TierdeskModels

/// A known path asked with a method it does not serve answers 405 with `Allow` (RFC 9110 §15.5.6),
/// not 404. Hummingbird throws `HTTPError(.notFound)` both for an unknown path and for a known path
/// with another method; this middleware tells them apart by matching the path against the router's
/// routes segment by segment (`{id}` matches any one segment), and rethrows everything else.
/// The problem document is written by `ProblemMiddleware`, as every error is; this adds the
/// `Allow` header that a problem cannot carry. HEAD is listed only where a route serves it: the
/// services' routers do not generate HEAD for GET.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let table: RouteTable<Context>

    /// `router` is read on the first unmatched request, when every route is in.
    public init(router: Router<Context>) {
        table = RouteTable(router: router)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // A literal segment wins over a parameter, as in the router: `/v1/rules/test` is not a rule `{id}`.
            let literal = table.literalMethods(matching: request.uri.path)
            let allowed = literal.isEmpty ? table.methods(matching: request.uri.path) : literal
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            return try await methodNotAllowed(request, context: context, allowed: allowed)
        }
    }

    func methodNotAllowed(_ request: Request, context: Context, allowed: Set<HTTPRequest.Method>) async throws -> Response {
        let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        let problem = Problem(
            type: Problem.typeBase + "method-not-allowed", title: "Method not allowed", status: 405,
            detail: "\(request.uri.path) answers \(allow), not \(request.method.rawValue)")
        var response = try await ProblemMiddleware<Context>().handle(request, context: context) { _, _ in throw problem }
        response.headers[.allow] = allow
        return response
    }
}

/// The router's routes as path templates, snapshotted once: routes are only added before the
/// server starts. Holding the router makes a cycle (router → middleware → router), so the
/// reference is dropped once the snapshot is taken.
final class RouteTable<Context: RequestContext>: @unchecked Sendable {
    struct Route: Sendable {
        let segments: [RouterPath.Element]
        let method: HTTPRequest.Method
    }

    private let lock = NIOLock()
    private var router: Router<Context>?  // guarded by `lock`; nil once `snapshot` is taken
    private var snapshot: [Route]?  // guarded by `lock`

    init(router: Router<Context>) {
        self.router = router
    }

    /// The methods of every route whose template matches `path`; empty for an unknown path.
    func methods(matching path: String) -> Set<HTTPRequest.Method> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods = Set<HTTPRequest.Method>()
        for route in routes() where Self.matches(route.segments, segments[...]) {
            methods.insert(route.method)
        }
        return methods
    }

    /// The methods of the routes written exactly as `path`, with no parameter (`/v1/rules/test`).
    func literalMethods(matching path: String) -> Set<HTTPRequest.Method> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return Set(
            routes().filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { element, segment in element.description == String(segment) }
            }.map(\.method))
    }

    private func routes() -> [Route] {
        lock.withLock {
            if let snapshot { return snapshot }
            let routes = (router?.routes ?? []).map { Route(segments: $0.path.components, method: $0.method) }
            snapshot = routes
            router = nil
            return routes
        }
    }

    /// Hummingbird's own element matching: `{id}` and `*` match any one segment, `**` the rest.
    static func matches(_ template: [RouterPath.Element], _ path: ArraySlice<Substring>) -> Bool {
        var path = path
        for element in template {
            if element.description == "**" { return true }
            guard let segment = path.first, element ~= segment else { return false }
            path = path.dropFirst()
        }
        return path.isEmpty
    }
}
