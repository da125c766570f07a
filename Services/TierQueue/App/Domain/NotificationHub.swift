import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TierdeskKit
import TierdeskModels

/// One event of an agent's stream.
enum StreamEvent: Sendable, Equatable {
    case notification(AgentNotification)
    /// The first page of a level's queue changed.
    case queueChanged(Int)
    case heartbeat
}

/// Where a replica's poll of `notifications` stands: every `seq` up to `floor` was delivered or given
/// up, those above it in `seen` were delivered. Sequence numbers are drawn before commit, so a row may
/// become visible after a higher one; a gap is waited for `patience`, then given up (a rolled-back
/// transaction leaves one for ever).
struct StreamCursor: Sendable, Equatable {
    var floor: Int64
    var seen: Set<Int64> = []
    var gapSince: Date?

    init(floor: Int64) { self.floor = floor }

    /// The rows of `seqs` not delivered yet; moves the floor over what is now contiguous.
    mutating func take(_ seqs: [Int64], now: Date, patience: TimeInterval) -> Set<Int64> {
        let new = Set(seqs.filter { $0 > floor && !seen.contains($0) })
        seen.formUnion(new)
        advance()
        if seen.isEmpty {
            gapSince = nil
        } else if let since = gapSince, now.timeIntervalSince(since) >= patience || seen.count > 10_000 {
            floor = seen.min()! - 1
            advance()
            gapSince = seen.isEmpty ? nil : now
        } else if gapSince == nil {
            gapSince = now
        }
        return new
    }

    private mutating func advance() {
        while seen.remove(floor + 1) != nil { floor += 1 }
    }
}

/// Pushes each agent's new notifications, and "queue changed" for its levels, to its open streams
/// (`GET /v1/notifications/stream`) on this replica. No LISTEN (PgBouncer in transaction mode): a
/// request or task that wrote notifications rings the hub's bell after its commit (`ringing`), and
/// one short poll per replica (not per subscriber), at the latest every `interval`, finds what any
/// replica wrote; the hub fans it out in memory. Streams are bounded per agent (a new one ends the
/// agent's oldest) and in total (refused); a stream whose reader falls `buffer` events behind is
/// ended, and its client resumes with `Last-Event-ID`.
final class NotificationHub: Service, Sendable {
    struct Limits: Sendable {
        var perAgent = 8
        var total = 2000
        var buffer = 64
    }

    private struct Subscriber {
        var agent: UUID
        var tiers: Set<Int>
        var continuation: AsyncStream<StreamEvent>.Continuation
    }

    private struct State {
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
    }

    let bell = Doorbell()
    let store = NotificationStore()
    let client: PostgresClient
    let clock: any WallClock
    let logger: Logger
    let interval: Duration
    let limits: Limits
    static let heartbeatSeconds: TimeInterval = 15
    private let state = Mutex(State())

    init(client: PostgresClient, clock: any WallClock, logger: Logger, interval: Duration, limits: Limits = Limits()) {
        self.client = client
        self.clock = clock
        self.logger = logger
        self.interval = interval
        self.limits = limits
    }

    /// Opens a stream for `agent`; ends the agent's oldest stream when it has `perAgent` already,
    /// and refuses (`tooManyStreams`) when the replica holds `total`.
    func subscribe(agent: AgentIdentity) throws(TierQueueError) -> (id: Int, events: AsyncStream<StreamEvent>) {
        let (events, continuation) = AsyncStream.makeStream(of: StreamEvent.self, bufferingPolicy: .bufferingOldest(limits.buffer))
        let tiers = Set(agent.tiers.map(\.rawValue))
        let result = state.withLock { state -> (Int, [AsyncStream<StreamEvent>.Continuation])? in
            guard state.subscribers.count < limits.total else { return nil }
            let mine = state.subscribers.filter { $0.value.agent == agent.id }.keys.sorted()
            var ended: [AsyncStream<StreamEvent>.Continuation] = []
            for id in mine.prefix(max(0, mine.count - limits.perAgent + 1)) {
                if let old = state.subscribers.removeValue(forKey: id) { ended.append(old.continuation) }
            }
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(agent: agent.id, tiers: tiers, continuation: continuation)
            return (state.nextID, ended)
        }
        guard let (id, ended) = result else {
            continuation.finish()
            throw .tooManyStreams
        }
        for old in ended { old.finish() }
        return (id, events)
    }

    func unsubscribe(_ id: Int) {
        let gone = state.withLock { $0.subscribers.removeValue(forKey: id) }
        gone?.continuation.finish()
    }

    /// How many streams are open on this replica.
    var streams: Int { state.withLock { $0.subscribers.count } }

    /// Runs `body` and rings the bell when it wrote notifications (its transaction has committed by then).
    func ringing<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        let mark = NotificationMark()
        let value = try await NotificationMark.$current.withValue(mark) { try await body() }
        if mark.written.load(ordering: .relaxed) { bell.ring() }
        return value
    }

    func run() async throws {
        var cursor: StreamCursor?
        var fingerprints: [Int: String] = [:]
        var lastHeartbeat = clock.now()
        var lastQueueCheck = Date.distantPast
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                if cursor == nil { cursor = StreamCursor(floor: try await store.latest(on: client, logger: logger)) }
                var more = true
                while more { more = try await deliver(&cursor!) }
                let now = clock.now()
                // Queues once per interval, not on every ring (rings follow notifications, not queue changes).
                if now.timeIntervalSince(lastQueueCheck) >= seconds * 0.9 {
                    lastQueueCheck = now
                    try await checkQueues(&fingerprints)
                }
                if now.timeIntervalSince(lastHeartbeat) >= Self.heartbeatSeconds {
                    lastHeartbeat = now
                    send { _ in [.heartbeat] }
                }
            } catch {
                logger.warning("notification stream poll failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            await cancelWhenGracefulShutdown { await self.bell.wait(timeout: self.interval) }
        }
        let all = state.withLock { state -> [Subscriber] in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in all { subscriber.continuation.finish() }
    }

    /// One poll of new rows; answers whether a full batch came (poll again at once).
    func deliver(_ cursor: inout StreamCursor) async throws -> Bool {
        let limit = 500
        let rows = try await store.after(cursor.floor, limit: limit, on: client, logger: logger)
        let new = cursor.take(rows.map(\.1.seq), now: clock.now(), patience: 15)
        let fresh = rows.filter { new.contains($0.1.seq) }
        if !fresh.isEmpty {
            let byAgent = Dictionary(grouping: fresh.map { ($0.agent, StreamEvent.notification($0.1)) }, by: \.0).mapValues { $0.map(\.1) }
            send { byAgent[$0.agent] ?? [] }
        }
        return rows.count == limit && !new.isEmpty
    }

    /// Compares the first page of each level that some stream follows with the last poll's; a
    /// change is sent to the streams of that level.
    func checkQueues(_ fingerprints: inout [Int: String]) async throws {
        let tiers = state.withLock { Set($0.subscribers.values.flatMap(\.tiers)) }
        guard !tiers.isEmpty else {
            fingerprints = [:]
            return
        }
        let levels = tiers.sorted().map(Int16.init)
        let rows = try await client.all(
            """
            SELECT l.tier, md5(COALESCE(string_agg(q.id::text || ':' || q.version, ',' ORDER BY q.id), '')) AS print
            FROM unnest(\(levels)::int2[]) AS l(tier)
            LEFT JOIN LATERAL (SELECT id, version FROM tickets WHERE status = 'queued' AND tier = l.tier
                ORDER BY priority, resolution_due_at, id LIMIT 50) q ON true
            GROUP BY l.tier
            """, logger: logger
        ) { (Int(try $0.get("tier", as: Int16.self)), try $0.get("print", as: String.self)) }
        for (tier, print) in rows {
            if let before = fingerprints[tier], before != print { send { $0.tiers.contains(tier) ? [.queueChanged(tier)] : [] } }
            fingerprints[tier] = print
        }
        fingerprints = fingerprints.filter { tiers.contains($0.key) }
    }

    /// Sends each stream the events `events` makes for it; a stream that is full is ended.
    private func send(_ events: (Subscriber) -> [StreamEvent]) {
        let targets = state.withLock { state in
            state.subscribers.compactMap { id, subscriber -> (Int, Subscriber, [StreamEvent])? in
                let mine = events(subscriber)
                return mine.isEmpty ? nil : (id, subscriber, mine)
            }
        }
        var slow: [Int] = []
        for (id, subscriber, values) in targets {
            for value in values {
                guard case .enqueued = subscriber.continuation.yield(value) else {
                    slow.append(id)
                    break
                }
            }
        }
        for id in slow { unsubscribe(id) }
    }
}

/// Rings the notification streams after a request that told agents: by the time the response
/// leaves, its transaction has committed. Requests that told nobody (claims) do nothing more.
struct NotificationRingMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let hub: NotificationHub

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await hub.ringing { try await next(request, context) }
    }
}
