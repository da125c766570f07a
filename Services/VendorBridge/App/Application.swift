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

    /// What `init(reader:)` reads.
    public static let settings = [
        ConfigSetting("tierdesk.webhook.schedule", "waits between a webhook's delivery attempts, ms, s, m or h (default 5s,30s,2m,10m,1h,6h)"),
        ConfigSetting(
            "tierdesk.webhook.allowed.hosts", "hosts or CIDR ranges a webhook may point at although they are internal, plain http allowed there (default none)"),
        ConfigSetting("tierdesk.webhook.per.vendor", "webhook deliveries in flight per vendor (default 2)"),
        ConfigSetting("tierdesk.webhook.timeout.ms", "longest a webhook delivery may take (default 10000)"),
        ConfigSetting("tierdesk.webhook.poll.ms", "how often due webhooks are looked for (default 500)"),
        ConfigSetting("tierdesk.vendor.check.ms", "how often overdue vendor cases are looked for (default 5000)"),
        ConfigSetting("tierdesk.webhook.log.days", "how long delivered webhooks stay in the delivery log (default 30)"),
    ]
}

/// What vendor-bridge's controllers need; only `buildApplication` creates it.
public struct VendorBridgeDependencies: ServiceDependencies {
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

extension VendorBridge: TierdeskService {
    public static let keyPurposes = VendorBridgeDependencies.keyPurposes
    public static let ownSettings = VendorBridgeConfiguration.settings

    public static func dependencies(runtime: ServiceRuntime, reader: ConfigReader) throws -> VendorBridgeDependencies {
        try VendorBridgeDependencies(runtime: runtime, configuration: try VendorBridgeConfiguration(reader: reader))
    }

    public static func addRoutes(_ deps: VendorBridgeDependencies, to router: Router<AppRequestContext>) {
        router.add(middleware: RingAfterWritesMiddleware(doorbell: deps.deliveryBell))
        VendorController(deps: deps).addRoutes(to: router)
        VendorCaseController(deps: deps).addRoutes(to: router)
        CompanyCaseController(deps: deps).addRoutes(to: router)
    }

    public static func eventHandler(_ deps: VendorBridgeDependencies) -> any EventHandler { VendorBridgeEventHandler(deps: deps) }

    public static func backgroundServices(_ deps: VendorBridgeDependencies) -> [any Service] { deps.services() }
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await VendorBridge.buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    try await VendorBridge.buildApplication(reader: reader, clock: clock)
}

public func buildRouter(_ deps: VendorBridgeDependencies) -> Router<AppRequestContext> { VendorBridge.buildRouter(deps) }
