import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceLifecycle
import TierdeskModels

/// Delivers this service's outbox rows to their destinations' `POST /internal/v1/events`, in
/// batches: each pass claims up to `batchSize` due rows with `SKIP LOCKED` and a lease, groups them by
/// destination and posts one `{"events": [...]}` per destination; the receiver applies a batch in
/// one transaction and answers a result per event. Events of one ticket go in the order they were
/// written, never two of them in flight: a row is claimable only when no earlier row of its ticket
/// for that destination is still undelivered. Each replica runs `settings.workers` passes side by side.
///
/// Wake-up: the writer rings its own replica's doorbell after its transaction commits (no NOTIFY
/// in hot transactions: PostgreSQL serialises every notifying commit); other replicas find rows by
/// their poll. Failures retry with exponential backoff and jitter; after the last attempt, or a
/// refusal the receiver will always make, a row is dead-lettered, counted, and kept for the admin
/// endpoint. Nothing is dropped. A row's attempt number fences its lease: a delivery that finishes
/// after its lease ran out (and another replica claimed the row again) changes nothing.
public struct OutboxDispatcher: Service {
    let source: String
    let client: PostgresClient
    let peers: PeerDirectory
    let internalToken: String
    let settings: OutboxSettings
    let logger: Logger
    /// Rung after a commit that wrote outbox rows, so this replica delivers them at once.
    public let doorbell = Doorbell()

    public init(source: String, client: PostgresClient, peers: PeerDirectory, internalToken: String, settings: OutboxSettings, logger: Logger) {
        self.source = source
        self.client = client
        self.peers = peers
        self.internalToken = internalToken
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        // With no workers this replica only writes hand-offs; the service still runs until shutdown
        // (a service that returns early stops the whole application).
        guard settings.workers > 0 else { return try await gracefulShutdown() }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<settings.workers { group.addTask { await deliverLoop(cleaning: worker == 0) } }
                await group.waitForAll()
            }
        }
    }

    func deliverLoop(cleaning: Bool) async {
        var lastCleanup = ContinuousClock.now
        while !Task.isCancelled {
            let claimed = await deliverDue()
            if cleaning && ContinuousClock.now - lastCleanup > .seconds(60) {
                await removeDelivered()
                lastCleanup = .now
            }
            if claimed < settings.batchSize { await doorbell.wait(timeout: settings.pollInterval) }
        }
    }

    struct Due: Sendable {
        var eventID: UUID
        var destination: String
        var payload: String
        /// The attempt this claim is: the lease's fencing token.
        var attempts: Int
        var eventType: String
    }

    /// Leases up to `$3` due rows of source `$1` for `$2` seconds. A row is due only when it is the
    /// earliest undelivered row of its ticket for its destination, so a ticket's events go in order,
    /// one at a time. That test is a correlated subquery ordered like `outbox_ticket_order_idx` on
    /// purpose: it stays a probe of that index per candidate whatever the statistics say. With a
    /// fresh table's estimates, an anti-join walked the whole backlog per row (4 s per claim at
    /// 4,500 rows) and `min(seq)` walked the other partial index (250 ms at 16,000).
    struct ClaimDue: HotStatement {
        static let sql = """
            UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
            FROM (SELECT x.event_id, x.destination FROM outbox x
                  WHERE x.source = $1 AND x.delivered_at IS NULL AND x.dead_at IS NULL AND x.next_attempt_at <= now()
                    AND (x.ticket_id IS NULL OR x.seq = (
                        SELECT y.seq FROM outbox y
                        WHERE y.destination = x.destination AND y.ticket_id = x.ticket_id AND y.delivered_at IS NULL AND y.dead_at IS NULL
                        ORDER BY y.destination, y.ticket_id, y.seq LIMIT 1))
                  ORDER BY x.next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
            WHERE o.event_id = due.event_id AND o.destination = due.destination
            RETURNING o.event_id, o.destination, o.payload::text AS payload, o.attempts, o.event_type
            """
        let bindings: PostgresBindings
    }

    /// Claims and delivers one batch; returns how many rows it claimed.
    func deliverDue() async -> Int {
        let batch: [Due]
        do {
            batch = try await client.all(
                ClaimDue(bindings: try PostgresBindings(source, settings.lease.seconds, settings.batchSize)), logger: logger
            ) { row in
                Due(
                    eventID: try row.get("event_id"), destination: try row.get("destination"), payload: try row.get("payload"),
                    attempts: Int(try row.get("attempts", as: Int32.self)), eventType: try row.get("event_type"))
            }
        } catch {
            logger.warning("outbox claim failed", metadata: ["error": "\(String(reflecting: error))"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for (destination, rows) in Dictionary(grouping: batch, by: \.destination) {
                group.addTask { await deliver(rows, to: destination) }
            }
        }
        return batch.count
    }

    /// What became of one row's delivery.
    enum Outcome: Sendable, Equatable {
        case delivered
        case retry(String)
        case permanent(String)
    }

    /// Posts one destination's rows as one batch and books each row's outcome.
    func deliver(_ rows: [Due], to destination: String) async {
        let started = ContinuousClock.now
        let outcomes = await post(rows, to: destination)
        let dimensions = [("source", source), ("destination", destination)]
        Timer(label: "tierdesk_outbox_delivery_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds).record(duration: ContinuousClock.now - started)
        var delivered: [Due] = []
        for (row, outcome) in zip(rows, outcomes) {
            switch outcome {
            case .delivered: delivered.append(row)
            case .retry(let error) where row.attempts < settings.maxAttempts: await retryLater(row, error: error, dimensions: dimensions)
            case .retry(let error), .permanent(let error): await deadLetter(row, error: error, dimensions: dimensions)
            }
        }
        await markDelivered(delivered, dimensions: dimensions)
    }

    /// One request for the rows; an outcome per row, in order.
    func post(_ rows: [Due], to destination: String) async -> [Outcome] {
        guard let base = peers.baseURL(for: destination) else { return rows.map { _ in .permanent("no peer is configured for '\(destination)'") } }
        var request = HTTPClientRequest(url: base + "/internal/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(internalToken)")
        // The payloads are the envelopes as stored: the batch is written around them, not re-encoded.
        request.body = .bytes(ByteBuffer(string: #"{"events":["# + rows.map(\.payload).joined(separator: ",") + "]}"))
        do {
            // Short: receivers answer a batch in milliseconds, and one dead peer must not hold the others up.
            let response = try await Self.httpClient.execute(request, timeout: .seconds(10), logger: logger)
            let body = try await response.body.collect(upTo: 4 << 20)
            switch response.status.code {
            case 200..<300:
                let answer = try? JSONCoding.decoder.decode(EventBatchResult.self, from: Data(buffer: body))
                let results = Dictionary((answer?.results ?? []).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                return rows.map { row in
                    switch results[row.eventID]?.status {
                    case .applied?, .duplicate?: .delivered
                    case .rejected?: .permanent(results[row.eventID]?.reason ?? "rejected")
                    case .failed?: .retry(results[row.eventID]?.reason ?? "failed")
                    case nil: answer == nil ? .delivered : .retry("no result for this event")  // a receiver of an earlier build answers 2xx for all
                    }
                }
            case 408, 425, 429, 500...:
                return rows.map { _ in .retry("HTTP \(response.status.code)") }
            default:
                let reason = "HTTP \(response.status.code): \(String(buffer: body).prefix(500))"
                return rows.map { _ in .permanent(reason) }
            }
        } catch {
            let reason = String(describing: error).prefix(500).description
            return rows.map { _ in .retry(reason) }
        }
    }

    /// One statement for a batch's successes, fenced by each row's attempt.
    func markDelivered(_ delivered: [Due], dimensions: [(String, String)]) async {
        guard !delivered.isEmpty else { return }
        do {
            try await client.execute(
                """
                UPDATE outbox o SET delivered_at = now(), last_error = NULL
                FROM unnest(\(delivered.map(\.eventID))::uuid[], \(delivered.map(\.destination))::text[], \(delivered.map { Int32($0.attempts) })::int[])
                    AS d(event_id, destination, attempts)
                WHERE o.event_id = d.event_id AND o.destination = d.destination AND o.attempts = d.attempts AND o.dead_at IS NULL
                """, logger: logger)
            Counter(label: "tierdesk_outbox_delivered_total", dimensions: dimensions).increment(by: delivered.count)
        } catch {
            // The lease runs out and another pass delivers them again; the receivers' inboxes dedup.
            logger.warning("outbox bookkeeping failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    func retryLater(_ row: Due, error: String, dimensions: [(String, String)]) async {
        do {
            // Due times come from the database's clock, which every replica shares.
            try await client.execute(
                """
                UPDATE outbox SET next_attempt_at = now() + make_interval(secs => \(backoff(attempt: row.attempts).seconds)), last_error = \(error)
                WHERE event_id = \(row.eventID) AND destination = \(row.destination) AND attempts = \(Int32(row.attempts)) AND delivered_at IS NULL
                """, logger: logger)
            Counter(label: "tierdesk_outbox_retries_total", dimensions: dimensions).increment()
            logger.debug("outbox delivery will be retried", metadata: ["event.id": "\(row.eventID)", "error": "\(error)"])
        } catch {
            logger.warning("outbox bookkeeping failed", metadata: ["event.id": "\(row.eventID)", "error": "\(String(reflecting: error))"])
        }
    }

    func deadLetter(_ row: Due, error: String, dimensions: [(String, String)]) async {
        do {
            try await client.execute(
                """
                UPDATE outbox SET dead_at = now(), last_error = \(error)
                WHERE event_id = \(row.eventID) AND destination = \(row.destination) AND attempts = \(Int32(row.attempts)) AND delivered_at IS NULL
                """, logger: logger)
            Counter(label: "tierdesk_outbox_dead_letters_total", dimensions: dimensions).increment()
            logger.error(
                "outbox event dead-lettered",
                metadata: ["event.id": "\(row.eventID)", "event.type": "\(row.eventType)", "destination": "\(row.destination)", "error": "\(error)"])
        } catch {
            logger.warning("outbox bookkeeping failed", metadata: ["event.id": "\(row.eventID)", "error": "\(String(reflecting: error))"])
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

    /// Deletes this service's delivered outbox rows past a day and its inbox ids past 30 days (they
    /// outlive any redelivery: a dead letter retried weeks later is still recognised), in batches of
    /// 1,000 rows, each its own short statement, so the tables stay small at any rate without a long lock.
    func removeDelivered() async {
        do {
            try await deleteInBatches(
                "DELETE FROM outbox WHERE ctid IN (SELECT ctid FROM outbox WHERE source = $1 AND delivered_at < now() - interval '1 day' LIMIT 1000)")
            try await deleteInBatches(
                "DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox WHERE consumer = $1 AND received_at < now() - interval '30 days' LIMIT 1000)")
        } catch {
            logger.debug("outbox clean-up failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs `statement` (which deletes at most 1,000 rows of `$1`, this service) until it deletes fewer.
    func deleteInBatches(_ statement: String) async throws {
        let bindings = try PostgresBindings(source)
        while !Task.isCancelled {
            let removed = try await client.all(PostgresQuery(unsafeSQL: statement + " RETURNING 1 AS one", binds: bindings), logger: logger) { _ in 1 }.count
            if removed < 1000 { return }
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
