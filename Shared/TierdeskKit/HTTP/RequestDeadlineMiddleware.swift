import Hummingbird
import TierdeskModels

/// Bounds how long a request may take (`TIERDESK_REQUEST_TIMEOUT_MS`, 10 s by default): past it the
/// work is cancelled and the caller gets 503 with `Retry-After`, so a client never hangs while the
/// database is unreachable (PostgreSQL's pool would hold a request for up to a minute while it
/// retries its connections). A cancelled write is rolled back; if its commit had already gone out,
/// a retry finds it (an `Idempotency-Key` replays it, or the duplicate window answers it).
struct RequestDeadlineMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let deadline: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            // The group awaits both tasks before it returns, so `next` never outlives this call.
            nonisolated(unsafe) let handle = next
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await handle(request, context) }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let response = first else { throw Problem.unavailable("the request took longer than \(deadline); try again shortly") }
                return response
            }
        }
    }
}

extension Problem {
    /// 503 with `Retry-After`: a dependency (the database) is unreachable for now.
    public static func unavailable(_ detail: String, retryAfter: Int = 2) -> Problem {
        Problem(type: typeBase + "unavailable", title: "Service unavailable", status: 503, detail: detail, retryAfter: retryAfter)
    }
}
