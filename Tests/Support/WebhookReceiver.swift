import Foundation
import Hummingbird
import Synchronization

/// A vendor's webhook endpoint for tests: a real HTTP server on a free port that records every
/// request it gets and answers as told (a status, or no answer for a while).
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public var headers: [String: String]
        public var body: Data
        public var at: Date
    }

    /// What the next requests get.
    public enum Behaviour: Sendable {
        case answer(Int)
        /// Holds the request this long before answering 204.
        case hang(Duration)
    }

    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)/hooks" }
    private let state = Mutex<(received: [Received], behaviour: Behaviour)>(([], .answer(204)))

    public init() throws {
        port = try Cluster.freePort()
    }

    public var received: [Received] { state.withLock { $0.received } }
    public func behave(_ behaviour: Behaviour) { state.withLock { $0.behaviour = behaviour } }

    /// Serves until `body` returns.
    public func serving<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let router = Router()
        router.post("hooks") { [self] request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            headers["host"] = request.head.authority
            let behaviour = state.withLock { state in
                state.received.append(Received(headers: headers, body: Data(buffer: bytes), at: Date()))
                return state.behaviour
            }
            switch behaviour {
            case .answer(let status): return Response(status: .init(code: status))
            case .hang(let duration):
                try? await Task.sleep(for: duration)
                return Response(status: .noContent)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        let running = Task { try await app.runService() }
        defer { running.cancel() }
        for _ in 0..<100 {
            if (try? await HTTP.request(.GET, "http://127.0.0.1:\(port)/ready")) != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await body()
    }
}
