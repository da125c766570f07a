import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TierdeskKit
import TierdeskModels

/// How vendor webhooks are delivered (`TIERDESK_WEBHOOK_*`).
public struct WebhookDeliverySettings: Sendable {
    /// Waits between attempts: after the first failure the first one, and so on; after the last, the
    /// delivery is dead. Each wait is jittered by ±10 % so many failed deliveries do not return together.
    public var schedule: [Duration]
    /// Deliveries to one vendor in flight at once, per replica: a slow vendor holds only its own.
    public var perVendor: Int
    /// How long one attempt may take (connect, send, answer).
    public var timeout: Duration
    /// How often a replica looks for due deliveries another wrote, or whose wait ended.
    public var pollInterval: Duration

    public init(
        schedule: [Duration] = Self.standardSchedule, perVendor: Int = 2, timeout: Duration = .seconds(10), pollInterval: Duration = .milliseconds(500)
    ) {
        self.schedule = schedule
        self.perVendor = perVendor
        self.timeout = timeout
        self.pollInterval = pollInterval
    }

    /// 5 s, 30 s, 2 min, 10 min, 1 h, 6 h: seven attempts over about seven and a quarter hours.
    public static let standardSchedule: [Duration] = [.seconds(5), .seconds(30), .seconds(120), .seconds(600), .seconds(3600), .seconds(21_600)]

    /// A schedule written as `5s,30s,2m,10m,1h,6h` (units ms, s, m, h); nil when it is not one.
    public static func parseSchedule(_ text: String) -> [Duration]? {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var schedule: [Duration] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let (unit, factor) = units.first(where: { part.hasSuffix($0.0) && Int(part.dropLast($0.0.count)) != nil }),
                let value = Int(part.dropLast(unit.count)), value > 0, value <= 86_400_000 / factor
            else { return nil }
            schedule.append(.milliseconds(value * factor))
        }
        return schedule.isEmpty || schedule.count > 20 ? nil : schedule
    }
}

/// Delivers vendor webhooks from `webhook_deliveries` (see `WebhookDeliveryStore`) by the Standard
/// Webhooks scheme: `webhook-id` (the delivery's id, the same on every attempt), `webhook-timestamp`
/// (this attempt's) and `webhook-signature` (`v1,` HMAC-SHA256 of `id.timestamp.body` under the
/// vendor's current `whsec_` secret). A 2xx answer delivers; anything else, silence past the
/// timeout, or a target the policy refuses is a failed attempt, retried on the schedule and dead
/// after the last. The target is checked again before every attempt against what its name
/// resolves to now, and the connection goes to an address so checked (`dnsOverride`; TLS still
/// verifies the name), so a public name turned internal is refused, even between check and connect.
///
/// Each replica keeps at most `perVendor` deliveries in flight per vendor and claims only for
/// vendors below that, so a hanging vendor ties up its own slots and never another vendor's.
/// Woken by `doorbell` after this replica's writes, and by a poll for the rest.
struct WebhookDeliverer: Service {
    let store: WebhookDeliveryStore
    let client: PostgresClient
    let sealingKey: SealingKey
    let targets: WebhookTargetPolicy
    let settings: WebhookDeliverySettings
    let doorbell: Doorbell
    /// Dates each attempt and its `webhook-timestamp`.
    let clock: any WallClock
    let logger: Logger
    /// Deliveries in flight per vendor on this replica.
    let inFlight = InFlight()

    final class InFlight: Sendable {
        let counts = Mutex<[UUID: Int]>([:])

        func busy(limit: Int) -> [UUID] { counts.withLock { $0.filter { $0.value >= limit }.map(\.key) } }
        func free(_ vendor: UUID, limit: Int) -> Int { counts.withLock { max(0, limit - ($0[vendor] ?? 0)) } }
        func add(_ vendor: UUID, _ count: Int) { counts.withLock { $0[vendor, default: 0] += count } }
        func done(_ vendor: UUID) {
            counts.withLock { counts in
                counts[vendor, default: 1] -= 1
                if counts[vendor] == 0 { counts[vendor] = nil }
            }
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let started = await claimDue { delivery in
                        group.addTask {
                            await deliver(delivery)
                            inFlight.done(delivery.vendorID)
                            doorbell.ring()  // a slot is free: that vendor's next delivery may go
                        }
                    }
                    if started == 0 { await doorbell.wait(timeout: settings.pollInterval) }
                }
            }
        }
    }

    /// Claims what the free slots allow and hands each delivery to `start`; returns how many.
    func claimDue(start: (WebhookDeliveryStore.Claimed) -> Void) async -> Int {
        var started = 0
        do {
            for vendor in try await store.dueVendors(excluding: inFlight.busy(limit: settings.perVendor), on: client, logger: logger) {
                let free = inFlight.free(vendor, limit: settings.perVendor)
                guard free > 0 else { continue }
                // The lease outlasts an attempt (its timeout, the target check) by a wide margin.
                let claimed = try await store.claim(vendorID: vendor, limit: free, lease: settings.timeout * 2 + .seconds(30), on: client, logger: logger)
                inFlight.add(vendor, claimed.count)
                for delivery in claimed { start(delivery) }
                started += claimed.count
            }
        } catch {
            logger.warning("webhook claim failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        return started
    }

    /// One attempt of one delivery, booked whatever happens.
    func deliver(_ delivery: WebhookDeliveryStore.Claimed) async {
        let startedAt = clock.now()
        let started = ContinuousClock.now  // the latency is an interval: monotonic time
        var statusCode: Int?
        var failure: String?
        do {
            statusCode = try await send(delivery)
            if let code = statusCode, !(200..<300).contains(code) { failure = "HTTP \(code)" }
        } catch let error as DeliveryRefusal {
            failure = error.reason
        } catch {
            failure = String(describing: error).prefix(500).description
        }
        let latency = ContinuousClock.now - started
        let outcome: WebhookDeliveryStore.Outcome
        if failure == nil {
            outcome = .delivered
        } else if delivery.attempt <= settings.schedule.count {
            outcome = .retry(after: settings.schedule[delivery.attempt - 1] * Double.random(in: 0.9...1.1))
        } else {
            outcome = .dead
        }
        let dimensions = [("type", delivery.type), ("outcome", failure == nil ? "delivered" : (outcome.isDead ? "dead" : "retry"))]
        Counter(label: "tierdesk_webhook_attempts_total", dimensions: dimensions).increment()
        Timer(label: "tierdesk_webhook_attempt_seconds", dimensions: [("type", delivery.type)], preferredDisplayUnit: .seconds).record(duration: latency)
        if outcome.isDead {
            logger.error(
                "webhook dead after its last attempt",
                metadata: ["delivery.id": "\(delivery.id)", "vendor.id": "\(delivery.vendorID)", "error": "\(failure ?? "")"])
        }
        do {
            try await store.finish(
                delivery, outcome: outcome, startedAt: startedAt, statusCode: statusCode, latency: latency, error: failure, on: client, logger: logger)
        } catch {
            // The lease runs out and the delivery is attempted again: at least once, never lost.
            logger.warning("webhook bookkeeping failed", metadata: ["delivery.id": "\(delivery.id)", "error": "\(String(reflecting: error))"])
        }
    }

    struct DeliveryRefusal: Error {
        var reason: String
    }

    /// Signs and posts the delivery to its vendor's current URL; the HTTP status it got.
    func send(_ delivery: WebhookDeliveryStore.Claimed) async throws -> Int {
        guard
            let (url, sealed) = try await client.first(
                "SELECT webhook_url, signing_secret_sealed FROM vendors WHERE id = \(delivery.vendorID) AND active", logger: logger,
                { row in (try row.get("webhook_url", as: String.self), try row.get("signing_secret_sealed", as: Data.self)) })
        else { throw DeliveryRefusal(reason: "the vendor is deactivated") }
        guard let target = URL(string: url) else { throw DeliveryRefusal(reason: "the webhook URL is not a URL") }
        // Resolving blocks: done on NIO's thread pool, off the cooperative threads.
        let decision = try await NIOThreadPool.singleton.runIfActive { [targets] in targets.deliveryTarget(for: target) }
        guard case .allowed(let host, let addresses) = decision, let address = addresses.first else {
            if case .refused(let reason) = decision { throw DeliveryRefusal(reason: "refused: \(reason)") }
            throw DeliveryRefusal(reason: "refused: no address")
        }
        let body = Data(delivery.body.utf8)
        let timestamp = Int64(clock.now().timeIntervalSince1970)
        let id = delivery.id.uuidString.lowercased()
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Tierdesk-Webhooks/1")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: "\(timestamp)")
        request.headers.add(
            name: "webhook-signature",
            value: try WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: try sealingKey.open(sealed)))
        request.body = .bytes(ByteBuffer(data: body))
        // The connection goes to the address just checked; TLS still names and verifies the host.
        let client = Self.client(pinning: host, to: address)
        do {
            let response = try await client.execute(request, timeout: .init(settings.timeout), logger: logger)
            _ = try? await response.body.collect(upTo: 64 << 10)  // the answer is not read beyond this
            try? await client.shutdown()
            return Int(response.status.code)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A client for one attempt whose connections to `host` go to `address`. Vendors' endpoints are
    /// the open internet: no redirects followed (a redirect could lead inside the network past the
    /// target check), short connects. One client per attempt: webhooks are few, and a pooled
    /// connection would outlive the check it was made under.
    static func client(pinning host: String, to address: String) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5))
        if host != address { configuration.dnsOverride = [host: address] }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

extension WebhookDeliveryStore.Outcome {
    var isDead: Bool {
        if case .dead = self { true } else { false }
    }
}

extension TimeAmount {
    init(_ duration: Duration) { self = .nanoseconds(Int64(duration.seconds * 1e9)) }
}
