import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceLifecycle
import TierdeskModels

/// Delivers this service's outbox rows to their destinations' `POST /internal/v1/events`.
/// Each replica claims due rows with `SKIP LOCKED` and a lease, so replicas share the work; a NOTIFY
/// wakes it at once and a short poll is the fallback. Failures retry with exponential backoff and
/// jitter; after the last attempt (or a 4xx the receiver will never accept) a row is dead-lettered,
/// counted, and kept for the admin endpoint. Nothing is dropped.
public struct OutboxDispatcher: Service {
    let source: String
    let client: PostgresClient
    let peers: PeerDirectory
    let internalToken: String
    let settings: OutboxSettings
    let logger: Logger
    let batchSize = 64
    /// How long a claimed row stays invisible to other replicas while it is being delivered.
    let lease: Duration = .seconds(30)
    let doorbell = Doorbell()

    public init(source: String, client: PostgresClient, peers: PeerDirectory, internalToken: String, settings: OutboxSettings, logger: Logger) {
        self.source = source
        self.client = client
        self.peers = peers
        self.internalToken = internalToken
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if settings.notify { group.addTask { await listen() } }
                group.addTask { await deliverLoop() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    func deliverLoop() async {
        var lastCleanup = ContinuousClock.now
        while !Task.isCancelled {
            let claimed = await deliverDue()
            if ContinuousClock.now - lastCleanup > .seconds(600) {
                await removeDelivered()
                lastCleanup = .now
            }
            if claimed < batchSize { await doorbell.wait(timeout: settings.pollInterval) }
        }
    }

    /// LISTENs on the outbox channel on one connection; reconnects after a failure.
    func listen() async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Outbox.channel) { notifications in
                        doorbell.ring()  // catch up on anything committed while not listening
                        for try await notification in notifications where notification.payload == source {
                            doorbell.ring()
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("outbox listener lost its connection; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    struct Due: Sendable {
        var eventID: UUID
        var destination: String
        var payload: String
        var attempts: Int
        var eventType: String
    }

    /// Claims and delivers one batch; returns how many rows it claimed.
    func deliverDue() async -> Int {
        let batch: [Due]
        do {
            batch = try await client.all(
                """
                UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => \(lease.seconds))
                FROM (SELECT event_id, destination FROM outbox
                      WHERE source = \(source) AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
                      ORDER BY next_attempt_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED) due
                WHERE o.event_id = due.event_id AND o.destination = due.destination
                RETURNING o.event_id, o.destination, o.payload::text AS payload, o.attempts, o.event_type
                """, logger: logger
            ) { row in
                Due(
                    eventID: try row.get("event_id"), destination: try row.get("destination"), payload: try row.get("payload"),
                    attempts: Int(try row.get("attempts", as: Int32.self)), eventType: try row.get("event_type"))
            }
        } catch {
            logger.warning("outbox claim failed", metadata: ["error": "\(String(reflecting: error))"])
            return 0
        }
        let delivered = await withTaskGroup(of: Due?.self) { group in
            for due in batch { group.addTask { await deliver(due) ? due : nil } }
            return await group.reduce(into: [Due]()) { if let due = $1 { $0.append(due) } }
        }
        await markDelivered(delivered)
        return batch.count
    }

    /// One statement for the batch's successes (a round trip per batch, not per event).
    func markDelivered(_ delivered: [Due]) async {
        guard !delivered.isEmpty else { return }
        do {
            try await client.execute(
                """
                UPDATE outbox o SET delivered_at = now(), last_error = NULL
                FROM unnest(\(delivered.map(\.eventID))::uuid[], \(delivered.map(\.destination))::text[]) AS d(event_id, destination)
                WHERE o.event_id = d.event_id AND o.destination = d.destination
                """, logger: logger)
        } catch {
            // The lease runs out and another pass delivers them again; the receivers' inboxes dedup.
            logger.warning("outbox bookkeeping failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    enum Outcome {
        case delivered
        case retry(String)
        case permanent(String)
    }

    /// Posts one event; records a failure (retry or dead letter) itself and returns true on success.
    func deliver(_ due: Due) async -> Bool {
        let started = ContinuousClock.now
        let outcome = await post(due)
        let dimensions = [("source", source), ("destination", due.destination)]
        do {
            switch outcome {
            case .delivered:
                Counter(label: "tierdesk_outbox_delivered_total", dimensions: dimensions).increment()
                Timer(label: "tierdesk_outbox_delivery_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
                    .record(duration: ContinuousClock.now - started)
                return true
            case .retry(let error) where due.attempts < settings.maxAttempts:
                // Due times come from the database's clock, which every replica shares.
                try await client.execute(
                    """
                    UPDATE outbox SET next_attempt_at = now() + make_interval(secs => \(backoff(attempt: due.attempts).seconds)), last_error = \(error)
                    WHERE event_id = \(due.eventID) AND destination = \(due.destination)
                    """, logger: logger)
                Counter(label: "tierdesk_outbox_retries_total", dimensions: dimensions).increment()
                logger.debug("outbox delivery will be retried", metadata: ["event.id": "\(due.eventID)", "error": "\(error)"])
            case .retry(let error), .permanent(let error):
                try await client.execute(
                    "UPDATE outbox SET dead_at = now(), last_error = \(error) WHERE event_id = \(due.eventID) AND destination = \(due.destination)",
                    logger: logger)
                Counter(label: "tierdesk_outbox_dead_letters_total", dimensions: dimensions).increment()
                logger.error(
                    "outbox event dead-lettered",
                    metadata: ["event.id": "\(due.eventID)", "event.type": "\(due.eventType)", "destination": "\(due.destination)", "error": "\(error)"])
            }
        } catch {
            // The lease runs out and another pass delivers it again; the receiver's inbox dedups.
            logger.warning("outbox bookkeeping failed", metadata: ["event.id": "\(due.eventID)", "error": "\(String(reflecting: error))"])
        }
        return false
    }

    func post(_ due: Due) async -> Outcome {
        guard let base = peers.baseURL(for: due.destination) else { return .permanent("no peer is configured for '\(due.destination)'") }
        var request = HTTPClientRequest(url: base + "/internal/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(internalToken)")
        request.body = .bytes(ByteBuffer(string: due.payload))
        do {
            // Short: receivers answer in milliseconds, and one dead peer must not hold up the batch for long.
            let response = try await Self.httpClient.execute(request, timeout: .seconds(3), logger: logger)
            let body = try await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return .delivered
            case 408, 425, 429, 500...: return .retry("HTTP \(response.status.code)")
            default: return .permanent("HTTP \(response.status.code): \(String(buffer: body).prefix(500))")
            }
        } catch {
            return .retry(String(describing: error).prefix(500).description)
        }
    }

    /// The process's client for deliveries: as many connections per peer as a batch has rows
    /// (`HTTPClient.shared` allows 8, which capped a hop at 8 deliveries in flight: 191 tickets/s
    /// through the pipeline on 2026-11-23, see BENCHMARKS.md). Lives as long as the process, like `.shared`.
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.timeout = .init(connect: .seconds(1))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Exponential from 200 ms, capped, with jitter (half fixed, half random) so retries of many
    /// rows do not arrive together.
    func backoff(attempt: Int) -> Duration {
        let exponential = 0.2 * pow(2.0, Double(min(attempt - 1, 30)))
        let capped = min(exponential, settings.maxBackoff.seconds)
        return .milliseconds(Int(capped * 1000 * Double.random(in: 0.5...1.0)))
    }

    func removeDelivered() async {
        do {
            try await client.execute(
                "DELETE FROM outbox WHERE source = \(source) AND delivered_at < now() - interval '1 day'", logger: logger)
        } catch {
            logger.debug("outbox clean-up failed", metadata: ["error": "\(error)"])
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
