import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// vendor-bridge's own settings beside the shared ones.
public struct VendorBridgeConfiguration: Sendable {
    /// Where webhooks may point (`TIERDESK_WEBHOOK_ALLOWED_HOSTS` widens it).
    public var webhookTargets: WebhookTargetPolicy
    /// `TIERDESK_WEBHOOK_SCHEDULE` (default `5s,30s,2m,10m,1h,6h`), `TIERDESK_WEBHOOK_PER_VENDOR`
    /// (2), `TIERDESK_WEBHOOK_TIMEOUT_MS` (10000), `TIERDESK_WEBHOOK_POLL_MS` (500).
    public var delivery: WebhookDeliverySettings
    /// How often overdue cases are looked for (`TIERDESK_VENDOR_CHECK_MS`, default 5000).
    public var checkInterval: Duration
    /// How long delivered webhooks stay in the delivery log (`TIERDESK_WEBHOOK_LOG_DAYS`, default 30).
    public var deliveryLogDays: Int

    public init(
        webhookTargets: WebhookTargetPolicy = WebhookTargetPolicy(), delivery: WebhookDeliverySettings = WebhookDeliverySettings(),
        checkInterval: Duration = .seconds(5), deliveryLogDays: Int = 30
    ) {
        self.webhookTargets = webhookTargets
        self.delivery = delivery
        self.checkInterval = checkInterval
        self.deliveryLogDays = deliveryLogDays
    }

    public init(reader: ConfigReader) throws(ConfigurationError) {
        func int(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            try TierdeskConfiguration.int(reader, key, default: fallback, range: range)
        }
        let scheduleText = reader.string(forKey: "tierdesk.webhook.schedule", default: "5s,30s,2m,10m,1h,6h")
        guard let schedule = WebhookDeliverySettings.parseSchedule(scheduleText) else {
            throw ConfigurationError(
                key: "tierdesk.webhook.schedule", problem: "must be waits such as 5s,30s,2m,10m,1h,6h (ms, s, m, h), not '\(scheduleText)'")
        }
        self.init(
            webhookTargets: WebhookTargetPolicy(parsing: reader.string(forKey: "tierdesk.webhook.allowed.hosts", default: "")),
            delivery: WebhookDeliverySettings(
                schedule: schedule, perVendor: try int("tierdesk.webhook.per.vendor", 2, 1...64),
                timeout: .milliseconds(try int("tierdesk.webhook.timeout.ms", 10_000, 100...120_000)),
                pollInterval: .milliseconds(try int("tierdesk.webhook.poll.ms", 500, 10...60_000))),
            checkInterval: .milliseconds(try int("tierdesk.vendor.check.ms", 5000, 50...600_000)),
            deliveryLogDays: try int("tierdesk.webhook.log.days", 30, 1...3650))
    }
}

/// What vendor-bridge's controllers need; only `buildApplication` creates it.
public struct VendorBridgeDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let configuration: VendorBridgeConfiguration
    public let vendors: VendorStore
    public let cases: VendorCaseStore
    public let deliveries: WebhookDeliveryStore
    /// Rung after this replica's writes: its webhook deliverer sends what they queued at once.
    public let deliveryBell = Doorbell()
    let work: CaseWork
    let scorecards = ScorecardStore()

    /// The purposes vendor-bridge derives keys for from the server secret: sealing alone, so it
    /// cannot mint requester tokens.
    public static let keyPurposes: Set<KeyPurpose> = [.sealing]

    /// Throws when the runtime was not given the sealing key (`TIERDESK_SECRET` is not configured).
    public init(runtime: ServiceRuntime, configuration: VendorBridgeConfiguration = VendorBridgeConfiguration()) throws(ConfigurationError) {
        guard let sealingKey = runtime.configuration.keys.sealing else {
            throw ConfigurationError(key: "tierdesk.secret", problem: "is required by \(VendorBridge.serviceName)")
        }
        self.runtime = runtime
        self.configuration = configuration
        vendors = VendorStore(sealingKey: sealingKey)
        cases = VendorCaseStore()
        deliveries = WebhookDeliveryStore()
        work = CaseWork(cases: cases, vendors: vendors, tickets: runtime.tickets, webhooks: deliveries)
    }

    /// The background work: webhook delivery and the delivery log's clean-up, the overdue watch, and
    /// the scorecard gauges.
    func services() -> [any Service] {
        let runtime = runtime
        let deliverer = WebhookDeliverer(
            store: deliveries, client: runtime.postgres, sealingKey: vendors.sealingKey, targets: configuration.webhookTargets,
            settings: configuration.delivery, doorbell: deliveryBell, clock: runtime.clock, logger: runtime.logger)
        let watcher = OverdueWatcher(work: work, client: runtime.postgres, clock: runtime.clock, doorbell: deliveryBell)
        let watch = PeriodicTask(name: "vendor-overdue", interval: configuration.checkInterval, logger: runtime.logger) {
            try await watcher.tick(logger: runtime.logger)
        }
        let scorecards = scorecards
        let gauges = PeriodicTask(name: "vendor-scorecards", interval: .seconds(60), logger: runtime.logger) {
            try await scorecards.publishMetrics(on: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
        }
        let (deliveries, days) = (deliveries, configuration.deliveryLogDays)
        let prune = PeriodicTask(name: "webhook-log-cleanup", interval: .seconds(3600), logger: runtime.logger) {
            try await deliveries.prune(olderThanDays: days, on: runtime.postgres, logger: runtime.logger)
        }
        return [deliverer, watch, gauges, prune]
    }
}

public enum VendorBridge {
    public static let serviceName = "vendor-bridge"
    public static let defaultPort = 8083

    public static let openAPI = OpenAPIDocument.text(in: .module)
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(
        reader: reader, serviceName: VendorBridge.serviceName, defaultPort: VendorBridge.defaultPort, keys: VendorBridgeDependencies.keyPurposes)
    let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
    let deps = try VendorBridgeDependencies(runtime: runtime, configuration: try VendorBridgeConfiguration(reader: reader))
    return runtime.makeApplication(router: buildRouter(deps), services: deps.services())
}

public func buildRouter(_ deps: VendorBridgeDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: VendorBridge.openAPI)
    router.add(middleware: RingAfterWritesMiddleware(doorbell: deps.deliveryBell))
    VendorController(deps: deps).addRoutes(to: router)
    VendorCaseController(deps: deps).addRoutes(to: router)
    CompanyCaseController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: VendorBridge.serviceName, handler: VendorBridgeEventHandler(deps: deps))
    return router
}

/// Opens a vendor case when a ticket is escalated to Level 4, and only for a ticket that really
/// waits on that vendor at level 4: the internal token alone cannot open a case. Closes the
/// ticket's open case when the ticket is resolved or closed.
struct VendorBridgeEventHandler: EventHandler {
    let deps: VendorBridgeDependencies
    var consumes: Set<EventType> { [.ticketEscalated, .ticketResolved, .ticketClosed] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        let now = deps.runtime.clock.now()
        guard let ticketID = event.ticketId else { throw VendorBridgeError.eventRefused("a ticket event names its ticket") }
        guard event.type == .ticketEscalated else {
            return try await deps.work.closeCase(ofTicket: ticketID, on: connection, now: now, logger: logger)
        }
        guard event.data["toTier"]?.intValue == Tier.vendor.rawValue else { return }  // an escalation between levels 1-3
        guard let vendorID = event.data["vendorId"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
            throw VendorBridgeError.eventRefused("a level 4 escalation names its vendorId")
        }
        guard let ticket = try await deps.runtime.tickets.find(ticketID, on: connection, logger: logger) else {
            throw VendorBridgeError.eventRefused("no ticket \(ticketID)")
        }
        guard ticket.status == .pendingVendor, ticket.tier == .vendor, ticket.vendorId == vendorID else {
            throw VendorBridgeError.eventRefused(
                "ticket \(ticketID) is not waiting on vendor \(vendorID) at level 4 (it is \(ticket.status.rawValue) at level \(ticket.tier?.rawValue ?? 0))")
        }
        let fromTier = event.data["fromTier"]?.intValue.flatMap(Tier.init(rawValue:))
        if let caseID = try await deps.work.open(
            ticket: ticket, vendorID: vendorID, reason: event.data["reason"]?.stringValue ?? "", fromTier: fromTier, on: connection, now: now,
            logger: logger)
        {
            logger.info("vendor case opened", metadata: ["ticket.id": "\(ticketID)", "case.id": "\(caseID)", "vendor.id": "\(vendorID)"])
        }
    }
}
