import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// tier-queue's own settings beside the shared ones.
public struct TierQueueConfiguration: Sendable {
    /// The levels this instance serves (`TIERDESK_TIERS`, default `1,2,3`).
    public let tiers: Set<Tier>
    /// What resolving a ticket costs per level, for the report (`TIERDESK_LEVEL_COSTS`).
    public let costs: LevelCosts
    /// How often the SLA watcher looks for due clocks (`TIERDESK_SLA_CHECK_MS`, default 1000), and
    /// push assignment for waiting tickets.
    public let slaCheckInterval: Duration
    /// Levels that push tickets to agents instead of waiting for claims (`TIERDESK_PUSH_ASSIGNMENT`,
    /// `1:least-loaded,2:round-robin`; empty by default: agents pull).
    public let push: [Tier: PushStrategy]
    /// How often a replica looks for notifications other replicas wrote, and for changed queues, for
    /// its open streams (`TIERDESK_NOTIFY_POLL_MS`, default 1000); its own are pushed at once.
    public let notifyPollInterval: Duration
    /// Agents' mail: its templates (`AgentMailTemplates`, overridden from `TIERDESK_MAIL_TEMPLATES`) and
    /// the console it links to (`TIERDESK_PUBLIC_URL`).
    let mailTemplates: MailTemplates
    public let publicURL: String
    /// Local accounts: bcrypt's cost, the lockout, the lives of sessions and personal tokens.
    public let accounts: LocalAccountSettings

    public init(reader: ConfigReader) throws(ConfigurationError) {
        let text = reader.string(forKey: "tierdesk.tiers", default: "1,2,3")
        guard let tiers = Tier.parseList(text), tiers.isSubset(of: Set(Tier.agentTiers)) else {
            throw ConfigurationError(key: "tierdesk.tiers", problem: "must list levels 1, 2 or 3 separated by commas, not '\(text)'")
        }
        self.tiers = tiers
        let costText = reader.string(forKey: "tierdesk.level.costs", default: "0:2,1:25,2:60,3:120,4:300")
        guard let costs = LevelCosts(parsing: costText) else {
            throw ConfigurationError(key: "tierdesk.level.costs", problem: "must be level:cost pairs such as 0:2,1:25,2:60, not '\(costText)'")
        }
        self.costs = costs
        let interval = reader.int(forKey: "tierdesk.sla.check.ms", default: 1000)
        guard (50...60_000).contains(interval) else {
            throw ConfigurationError(key: "tierdesk.sla.check.ms", problem: "must be between 50 and 60000 milliseconds, not \(interval)")
        }
        slaCheckInterval = .milliseconds(interval)
        let pushText = reader.string(forKey: "tierdesk.push.assignment", default: "")
        guard let push = PushStrategy.parse(pushText) else {
            throw ConfigurationError(
                key: "tierdesk.push.assignment", problem: "must be level:strategy pairs (round-robin or least-loaded) such as 1:least-loaded, not '\(pushText)'"
            )
        }
        self.push = push
        let poll = reader.int(forKey: "tierdesk.notify.poll.ms", default: 1000)
        guard (50...60_000).contains(poll) else {
            throw ConfigurationError(key: "tierdesk.notify.poll.ms", problem: "must be between 50 and 60000 milliseconds, not \(poll)")
        }
        notifyPollInterval = .milliseconds(poll)
        publicURL = try MailLinkSettings.publicURL(reader)
        mailTemplates = try MailLinkSettings.templates(AgentMailTemplates.defaults, folder: try MailLinkSettings.templateFolder(reader))
        accounts = try LocalAccountSettings(reader: reader)
    }

    /// What `init(reader:)` reads.
    public static let settings =
        [
            ConfigSetting("tierdesk.tiers", "the levels this instance serves (default 1,2,3)"),
            ConfigSetting("tierdesk.level.costs", "cost of a ticket per level for the report (default 0:2,1:25,2:60,3:120,4:300)"),
            ConfigSetting("tierdesk.sla.check.ms", "how often the SLA watcher and push assignment run (default 1000)"),
            ConfigSetting("tierdesk.push.assignment", "levels that push tickets to agents, e.g. 1:least-loaded,2:round-robin (default none)"),
            ConfigSetting("tierdesk.notify.poll.ms", "how often notification streams look for other replicas' notifications and queue changes (default 1000)"),
        ] + MailLinkSettings.settings + LocalAccountSettings.settings

    public init(
        tiers: Set<Tier>, costs: LevelCosts = .standard, slaCheckInterval: Duration = .seconds(1), push: [Tier: PushStrategy] = [:],
        notifyPollInterval: Duration = .seconds(1), accounts: LocalAccountSettings = LocalAccountSettings(bcryptCost: 4)
    ) {
        self.accounts = accounts
        self.notifyPollInterval = notifyPollInterval
        mailTemplates = AgentMailTemplates.builtIn
        publicURL = "http://127.0.0.1:8084"
        self.tiers = tiers
        self.costs = costs
        self.slaCheckInterval = slaCheckInterval
        self.push = push
    }
}

/// What tier-queue's controllers need; only `buildApplication` creates it.
public struct TierQueueDependencies: ServiceDependencies {
    public let runtime: ServiceRuntime
    public let configuration: TierQueueConfiguration
    public let agents: AgentStore
    /// Local accounts' passwords and TOTP secrets, sealed under the `staff-credentials` key.
    public let credentials: StaffCredentialStore
    /// Single sign-on's staff sign-ins (the console's, internal token).
    let staffSignIns = StaffSignInStore(tokens: StaffTokenStore())
    public let vendorBridge: any VendorBridgeClient
    public let intake: any IntakeClient
    public let triage: any TriageClient
    /// This replica's notification streams; also a background service (its poll).
    let notifications: NotificationHub
    let work: TicketWork

    public init(
        runtime: ServiceRuntime, configuration: TierQueueConfiguration, vendorBridge: any VendorBridgeClient, intake: any IntakeClient,
        triage: any TriageClient
    ) {
        self.runtime = runtime
        self.configuration = configuration
        self.agents = AgentStore()
        credentials = StaffCredentialStore(
            key: runtime.configuration.keys.key(.staffCredentials).map(SealingKey.init(key:)), settings: configuration.accounts)
        self.vendorBridge = vendorBridge
        self.intake = intake
        self.triage = triage
        work = TicketWork(
            tickets: runtime.tickets, client: runtime.postgres, vendorBridge: vendorBridge,
            notifier: Notifier(templates: configuration.mailTemplates, domain: runtime.mail?.replyDomain ?? "localhost", consoleURL: configuration.publicURL))
        notifications = NotificationHub(
            client: runtime.postgres, clock: runtime.clock, logger: runtime.logger, interval: configuration.notifyPollInterval)
    }
}

public enum TierQueue {
    public static let serviceName = "tier-queue"
    public static let defaultPort = 8082

    public static let openAPI = OpenAPIDocument.text(in: .module)
}

extension TierQueue: TierdeskService {
    public static let ownSettings = TierQueueConfiguration.settings
    /// Seals local accounts' bcrypt hashes and TOTP secrets.
    public static let keyPurposes: Set<KeyPurpose> = [.staffCredentials]
    public static let sendsMail = true

    /// tier-queue's peers: vendor-bridge (level 4 cases), intake (the requester's view) and triage (problems).
    public static func dependencies(runtime: ServiceRuntime, reader: ConfigReader) throws -> TierQueueDependencies {
        let configuration = runtime.configuration
        return TierQueueDependencies(
            runtime: runtime, configuration: try TierQueueConfiguration(reader: reader),
            vendorBridge: HTTPVendorBridgeClient(baseURL: configuration.peers.baseURL(for: "vendor-bridge")!, internalToken: configuration.internalToken),
            intake: HTTPIntakeClient(baseURL: configuration.peers.baseURL(for: "intake")!, internalToken: configuration.internalToken),
            triage: HTTPTriageClient(baseURL: configuration.peers.baseURL(for: "triage")!, internalToken: configuration.internalToken))
    }

    public static func addRoutes(_ deps: TierQueueDependencies, to router: Router<AppRequestContext>) {
        // Before the routes (and the event receiver after them): a request that told agents rings their streams after its commit.
        router.add(middleware: NotificationRingMiddleware(hub: deps.notifications))
        AgentController(deps: deps).addRoutes(to: router)
        StaffAccountController(deps: deps).addRoutes(to: router)
        StaffSignInController(deps: deps).addRoutes(to: router)
        QueueController(deps: deps).addRoutes(to: router)
        TicketWorkController(deps: deps).addRoutes(to: router)
        SLAController(deps: deps).addRoutes(to: router)
        WorkPolicyController(deps: deps).addRoutes(to: router)
        ReportController(deps: deps).addRoutes(to: router)
        NotificationController(deps: deps).addRoutes(to: router)
        AuditController(client: deps.runtime.postgres).addRoutes(to: router)
    }

    public static func eventHandler(_ deps: TierQueueDependencies) -> any EventHandler { TierQueueEventHandler(deps: deps) }

    /// The SLA watcher (every replica; each clock is taken by one), the report's metrics, the
    /// notification streams' poll and the hourly digests, and push assignment where configured.
    /// Work that tells agents rings the streams after its commit (`NotificationHub.ringing`).
    public static func backgroundServices(_ deps: TierQueueDependencies) -> [any Service] {
        let runtime = deps.runtime
        let hub = deps.notifications
        let watcher = PeriodicTask(name: "sla-watcher", interval: deps.configuration.slaCheckInterval, logger: runtime.logger) {
            while try await hub.ringing({ try await deps.work.sla.tick(client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger) }) == 100 {}
        }
        let digests = PeriodicTask(name: "notification-digests", interval: .seconds(60), logger: runtime.logger) {
            _ = try await deps.work.notifier.sendDigests(client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
        }
        let reports = PeriodicTask(name: "report-metrics", interval: .seconds(300), logger: runtime.logger) {
            try await ReportController(deps: deps).publishMetrics(logger: runtime.logger)
        }
        // Push assignment for the levels this instance serves that are configured to push.
        let pushed = deps.configuration.push.filter { deps.configuration.tiers.contains($0.key) }
        guard !pushed.isEmpty else { return [watcher, reports, hub, digests] }
        let assigner = PushAssigner(tickets: runtime.tickets, notifier: deps.work.notifier)
        let push = PeriodicTask(name: "push-assignment", interval: deps.configuration.slaCheckInterval, logger: runtime.logger) {
            for (tier, strategy) in pushed.sorted(by: { $0.key < $1.key }) {
                _ = try await hub.ringing {
                    try await assigner.assign(tier: tier, strategy: strategy, client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
                }
            }
        }
        return [watcher, reports, hub, digests, push]
    }
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await TierQueue.buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    try await TierQueue.buildApplication(reader: reader, clock: clock)
}

public func buildRouter(_ deps: TierQueueDependencies) -> Router<AppRequestContext> { TierQueue.buildRouter(deps) }
