import Hummingbird
import TierdeskModels

/// Bounds how long a request may take (`TIERDESK_REQUEST_TIMEOUT_MS`, 10 s by default): past it the
/// caller gets 503 with `Retry-After`, so a client never hangs while the database is unreachable
/// (PostgreSQL's pool would hold a request for up to a minute while it retries its connections).
///
/// It wraps the router's responder rather than sitting in its middleware chain because the answer
/// must not wait for the work: a statement already sent to PostgreSQL, or a connection being
/// opened, does not stop when its task is cancelled, and a middleware cannot return before the
/// handler it called does. So the handler runs in a task of its own; at the deadline that task is
/// cancelled and left to finish by itself, and the caller has its 503. A cancelled write is rolled
/// back; if its commit had already gone out, a retry finds it (an `Idempotency-Key` replays it, or
/// the duplicate window answers it).
///
/// The request body (at most `maxUploadSize`) is read before the handler starts, within the same
/// deadline, so a handler that finishes late never reads the connection the server has moved on from.
struct RequestDeadline<Inner: HTTPResponder>: HTTPResponder where Inner.Context == AppRequestContext {
    typealias Context = AppRequestContext
    let inner: Inner
    let deadline: Duration

    func respond(to request: Request, context: Context) async throws -> Response {
        let until = ContinuousClock.now + deadline
        do {
            let answer = try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask {
                    var request = request
                    request.body = RequestBody(buffer: try await request.body.collect(upTo: context.maxUploadSize))
                    return await Self.answer(of: inner, request: request, context: context)
                }
                group.addTask {
                    try await Task.sleep(until: until)
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            if let answer { return answer }
            context.logger.warning("request answered 503 at its deadline", metadata: ["path": "\(request.uri.path)", "deadline": "\(deadline)"])
            throw Problem.unavailable("the request took longer than \(deadline); try again shortly")
        } catch {
            // A body over the limit, or the deadline: answered as every other problem is.
            return try await ProblemMiddleware<Context>().handle(request, context: context) { _, _ in throw error }
        }
    }

    /// The inner responder's answer, or nil once the calling task is cancelled: the work goes on
    /// in its own task (cancelled too), and whatever it answers then is dropped.
    static func answer(of inner: Inner, request: Request, context: Context) async -> Response? {
        let (answers, send) = AsyncStream.makeStream(of: Response.self, bufferingPolicy: .bufferingNewest(1))
        let work = Task {
            do {
                send.yield(try await inner.respond(to: request, context: context))
            } catch {
                send.yield(try await ProblemMiddleware<Context>().handle(request, context: context) { _, _ in throw error })
            }
            send.finish()
        }
        return await withTaskCancellationHandler {
            for await response in answers { return response }
            return nil
        } onCancel: {
            work.cancel()
        }
    }
}

extension Problem {
    /// 503 with `Retry-After`: a dependency (the database) is unreachable for now.
    public static func unavailable(_ detail: String, retryAfter: Int = 2) -> Problem {
        Problem(type: typeBase + "unavailable", title: "Service unavailable", status: 503, detail: detail, retryAfter: retryAfter)
    }
}
