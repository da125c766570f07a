import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `webhook_deliveries` and `webhook_delivery_attempts`: vendor-bridge's webhook
/// outbox. A webhook is written in the transaction that changed its case, then delivered by any
/// replica (`WebhookDeliverer`); each claim carries a fresh lease token, so a late finisher whose
/// lease passed to another replica changes nothing.
public struct WebhookDeliveryStore: Sendable {
    public init() {}

    /// Queues `webhook` for `vendorID`, due now; its id is the `webhook-id` of every attempt.
    @discardableResult
    public func enqueue(_ webhook: VendorWebhook, vendorID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> UUID {
        let id = UUID()
        let body = String(buffer: try JSONCoding.encode(webhook))
        try await connection.execute(
            """
            INSERT INTO webhook_deliveries (id, vendor_id, case_id, type, body, next_attempt_at, created_at)
            VALUES (\(id), \(vendorID), \(webhook.data.case.id), \(webhook.type.rawValue), \(body), now(), \(now))
            """, logger: logger)
        return id
    }

    /// A claimed delivery: what to send, and the lease that fences its bookkeeping.
    struct Claimed: Sendable {
        var id: UUID
        var vendorID: UUID
        var type: String
        var body: String
        /// This attempt's number since the delivery was (re)queued, 1 for the first.
        var attempt: Int
        var lease: UUID
    }

    /// Vendors with deliveries due now, except `busy` ones (a replica's vendors at their concurrency).
    func dueVendors(excluding busy: [UUID], on client: PostgresClient, logger: Logger) async throws -> [UUID] {
        try await client.all(
            """
            SELECT DISTINCT vendor_id FROM (
                SELECT vendor_id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now())
                    AND NOT (vendor_id = ANY(\(busy)))
                ORDER BY next_attempt_at LIMIT 500) due
            """, logger: logger
        ) { try $0.get("vendor_id", as: UUID.self) }
    }

    /// Leases up to `limit` of `vendorID`'s due deliveries for `lease` (the oldest due first).
    func claim(vendorID: UUID, limit: Int, lease: Duration, on client: PostgresClient, logger: Logger) async throws -> [Claimed] {
        let token = UUID()
        return try await client.all(
            """
            UPDATE webhook_deliveries d SET attempts = d.attempts + 1, lease = \(token),
                leased_until = now() + make_interval(secs => \(lease.seconds))
            FROM (SELECT id FROM webhook_deliveries
                  WHERE vendor_id = \(vendorID) AND status = 'pending' AND next_attempt_at <= now()
                      AND (leased_until IS NULL OR leased_until <= now())
                  ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED) due
            WHERE d.id = due.id
            RETURNING d.id, d.vendor_id, d.type, d.body, d.attempts
            """, logger: logger
        ) { row in
            Claimed(
                id: try row.get("id"), vendorID: try row.get("vendor_id"), type: try row.get("type"), body: try row.get("body"),
                attempt: Int(try row.get("attempts", as: Int32.self)), lease: token)
        }
    }

    /// How one attempt ended.
    enum Outcome: Sendable {
        case delivered
        /// Try again after the delay, from the database's clock.
        case retry(after: Duration)
        case dead
    }

    /// Books an attempt (its log row and the delivery's new state) in one statement, fenced by
    /// the lease: a finisher whose lease passed to another replica records nothing.
    func finish(
        _ delivery: Claimed, outcome: Outcome, startedAt: Date, statusCode: Int?, latency: Duration, error: String?, on client: PostgresClient,
        logger: Logger
    ) async throws {
        let (status, delay): (String, Double) =
            switch outcome {
            case .delivered: ("delivered", 0)
            case .retry(let after): ("pending", after.seconds)
            case .dead: ("dead", 0)
            }
        try await client.execute(
            """
            WITH booked AS (
                UPDATE webhook_deliveries SET status = \(status), lease = NULL, leased_until = NULL, last_error = \(error),
                    next_attempt_at = CASE WHEN \(status) = 'pending' THEN now() + make_interval(secs => \(delay)) ELSE next_attempt_at END,
                    delivered_at = CASE WHEN \(status) = 'delivered' THEN now() END,
                    dead_at = CASE WHEN \(status) = 'dead' THEN now() END
                WHERE id = \(delivery.id) AND lease = \(delivery.lease) AND status = 'pending'
                RETURNING id)
            INSERT INTO webhook_delivery_attempts (delivery_id, started_at, status_code, latency_ms, error)
            SELECT id, \(startedAt), \(statusCode.map(Int32.init)), \(Int32(clamping: Int(latency.seconds * 1000))), \(error) FROM booked
            """, logger: logger)
    }

    /// A vendor's deliveries, newest first, each with its attempts, a page at a time.
    public func list(vendorID: UUID, limit: Int, after cursor: DeliveryCursor?, on client: PostgresClient, logger: Logger) async throws
        -> Page<WebhookDelivery>
    {
        let rows = try await client.all(
            """
            SELECT \(unescaped: Self.columns) FROM webhook_deliveries
            WHERE vendor_id = \(vendorID)
                AND (\(cursor?.createdAtMicroseconds)::bigint IS NULL
                     OR (created_at, id) < (timestamptz 'epoch' + \(cursor?.createdAtMicroseconds) * interval '1 microsecond', \(cursor?.id)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)
            """, logger: logger, WebhookDelivery.init(row:))
        var page = Page(fetched: rows, limit: limit) { DeliveryCursor(createdAtMicroseconds: $0.createdAt.epochMicroseconds, id: $0.id).encoded }
        let attempts = try await attempts(of: page.items.map(\.id), on: client, logger: logger)
        for index in page.items.indices { page.items[index].attempts = attempts[page.items[index].id] ?? [] }
        return page
    }

    /// The attempts of each of `ids`, in order.
    func attempts(of ids: [UUID], on client: some DatabaseExecutor, logger: Logger) async throws -> [UUID: [WebhookDelivery.Attempt]] {
        let attempts = try await client.all(
            """
            SELECT delivery_id, started_at, status_code, latency_ms, error FROM webhook_delivery_attempts
            WHERE delivery_id = ANY(\(ids)) ORDER BY delivery_id, id
            """, logger: logger
        ) { row in
            (
                try row.get("delivery_id", as: UUID.self),
                WebhookDelivery.Attempt(
                    at: try row.get("started_at"), statusCode: try row.get("status_code", as: Int32?.self).map(Int.init),
                    latencyMs: Int(try row.get("latency_ms", as: Int32.self)), error: try row.get("error"))
            )
        }
        return Dictionary(grouping: attempts, by: \.0).mapValues { $0.map(\.1) }
    }

    /// Sends a delivery again from the start of the schedule, whatever became of it (delivered,
    /// dead, or still trying); the vendor sees the same `webhook-id`. Nil when there is no such delivery.
    public func redeliver(_ id: UUID, on client: some DatabaseExecutor, logger: Logger) async throws -> WebhookDelivery? {
        var delivery = try await client.first(
            """
            UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease = NULL, leased_until = NULL,
                delivered_at = NULL, dead_at = NULL
            WHERE id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger, WebhookDelivery.init(row:))
        delivery?.attempts = try await attempts(of: [id], on: client, logger: logger)[id] ?? []
        return delivery
    }

    /// Deletes delivered webhooks (with their attempts) delivered more than `days` ago, 1,000 at a
    /// time, each batch its own short statement; returns how many. Dead ones stay until redelivered.
    @discardableResult
    public func prune(olderThanDays days: Int, on client: PostgresClient, logger: Logger) async throws -> Int {
        var removed = 0
        while !Task.isCancelled {
            let batch = try await client.all(
                """
                WITH old AS (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => \(Int32(days))) LIMIT 1000),
                attempts AS (DELETE FROM webhook_delivery_attempts a USING old WHERE a.delivery_id = old.id)
                DELETE FROM webhook_deliveries d USING old WHERE d.id = old.id RETURNING 1 AS one
                """, logger: logger
            ) { _ in 1 }.count
            removed += batch
            if batch < 1000 { break }
        }
        return removed
    }

    static let columns = "id, vendor_id, case_id, type, status, created_at, next_attempt_at, delivered_at, dead_at"
}

/// Where a page of deliveries ends, opaque to clients.
public struct DeliveryCursor: Sendable {
    public var createdAtMicroseconds: Int64
    public var id: UUID

    public var encoded: String { Cursor.encode(["\(createdAtMicroseconds)", id.uuidString]) }

    public init(createdAtMicroseconds: Int64, id: UUID) {
        self.createdAtMicroseconds = createdAtMicroseconds
        self.id = id
    }

    public init?(encoded: String) {
        guard let parts = Cursor.decode(encoded, count: 2), let micros = Int64(parts[0]), let id = UUID(uuidString: parts[1]) else { return nil }
        self.init(createdAtMicroseconds: micros, id: id)
    }
}

extension WebhookDelivery {
    init(row: PostgresRandomAccessRow) throws {
        let status = try row.get("status", as: String.self)
        self.init(
            id: try row.get("id"), vendorId: try row.get("vendor_id"), caseId: try row.get("case_id"), type: try row.get("type"),
            status: Status(rawValue: status) ?? .pending, createdAt: try row.get("created_at"),
            nextAttemptAt: status == "pending" ? try row.get("next_attempt_at") : nil, deliveredAt: try row.get("delivered_at"),
            deadAt: try row.get("dead_at"), attempts: [])
    }
}
