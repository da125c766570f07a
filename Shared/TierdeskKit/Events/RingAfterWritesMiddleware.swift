import Hummingbird

/// Rings this replica's outbox dispatcher (or another deliverer: vendor-bridge's webhooks) after
/// every request that may have written: by the time the response leaves, the request's transaction
/// has committed, so its hand-offs are delivered at once, with no NOTIFY inside the transaction. A
/// ring with nothing to deliver costs one claim query.
public struct RingAfterWritesMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let doorbell: Doorbell

    public init(doorbell: Doorbell) { self.doorbell = doorbell }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        if request.method != .get && request.method != .head && (200..<300).contains(response.status.code) { doorbell.ring() }
        return response
    }
}
