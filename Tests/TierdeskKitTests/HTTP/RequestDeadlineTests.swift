import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TierdeskModels
import TierdeskTestSupport

@testable import TierdeskKit

@Suite struct RequestDeadlineTests {
    /// What the stuck handler saw, once it was let go.
    final class Witness: Sendable {
        let seen = Mutex<(body: String, cancelled: Bool)?>(nil)
    }

    /// A server as the services run it: the router's problems and routes inside `RequestDeadline`.
    /// `POST /stuck` waits, deaf to cancellation as a statement in PostgreSQL is, until `release` ends.
    func makeApplication(release: AsyncStream<Void>, witness: Witness) -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.post("stuck") { request, context -> String in
            let body = String(buffer: try await request.body.collect(upTo: context.maxUploadSize))
            await Task.detached { for await _ in release {} }.value
            witness.seen.withLock { $0 = (body, Task.isCancelled) }
            return "too late"
        }
        router.post("echo") { request, context -> String in String(buffer: try await request.body.collect(upTo: context.maxUploadSize)) }
        router.get("refused") { _, _ -> String in throw Problem.conflict("no") }
        return Application(responder: RequestDeadline(inner: router.buildResponder(), deadline: .milliseconds(300)))
    }

    @Test func theAnswerLeavesAtTheDeadlineWhileTheWorkCannotBeInterrupted() async throws {
        let (release, letGo) = AsyncStream.makeStream(of: Void.self)
        let witness = Witness()
        // Were the answer to wait for the handler, it would come only when this lets it go, and late.
        let safety = Task {
            try await Task.sleep(for: .seconds(10))
            letGo.finish()
        }
        defer { safety.cancel() }
        try await makeApplication(release: release, witness: witness).test(.live) { client in
            let stuck = try await client.send(.post, "/stuck", raw: #"{"read":"before the handler ran"}"#)
            #expect(stuck.status == .serviceUnavailable)
            #expect(stuck.headers[.retryAfter] == "2")
            #expect(try stuck.problem().type == "https://tierdesk.dev/problems/unavailable")
            // The answer came while the handler was still held: it has seen nothing yet.
            #expect(witness.seen.withLock { $0 } == nil)

            // The server goes on with other requests, bodies, and the router's own problems.
            let echo = try await client.send(.post, "/echo", raw: "hello")
            #expect(echo.status == .ok)
            #expect(String(buffer: echo.body) == "hello")
            #expect(try await client.send(.get, "/refused").problem().status == 409)
            let tooLarge = try await client.send(.post, "/echo", raw: String(repeating: "x", count: (1 << 20) + 1))
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try tooLarge.problem().status == 413)

            // Let go, the late handler had its whole body and knew it was cancelled.
            letGo.finish()
            var seen: (body: String, cancelled: Bool)?
            for _ in 0..<200 where seen == nil {
                try await Task.sleep(for: .milliseconds(10))
                seen = witness.seen.withLock { $0 }
            }
            #expect(seen?.body == #"{"read":"before the handler ran"}"#)
            #expect(seen?.cancelled == true)
        }
    }
}
