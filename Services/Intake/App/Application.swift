import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// intake's own settings beside the shared ones.
public struct IntakeConfiguration: Sendable {
    /// Requests a minute from one client address (anonymous and requester callers).
    public let ratePerAddress: Int
    /// Submissions a minute from one requester email.
    public let ratePerRequester: Int
    /// Submissions a minute per integration key, unless the integration sets its own.
    public let ratePerIntegration: Int
    /// The mail gateway's bearer token; nil: `POST /v1/inbound/email` is closed.
    public let mailGatewayToken: String?
    /// The console's public URL, for the links in requesters' mail (`TIERDESK_PUBLIC_URL`).
    public let publicURL: String
    /// The operator's mail templates (`TIERDESK_MAIL_TEMPLATES`), or nil for the built-in ones.
    public let mailTemplates: String?
    /// Days a ticket waits on its requester before the one reminder (0: none).
    public let reminderAfterDays: Int
    /// Days a ticket waits on its requester before it is resolved for them (0: never).
    public let autoCloseAfterDays: Int
    /// How often a replica looks for tickets due a reminder or the auto-close.
    public let reminderCheckInterval: Duration

    public init(reader: ConfigReader) throws(ConfigurationError) {
        ratePerAddress = try TierdeskConfiguration.int(reader, "tierdesk.rate.limit.per.minute", default: 120, range: 1...1_000_000)
        ratePerRequester = try TierdeskConfiguration.int(reader, "tierdesk.requester.rate.limit.per.minute", default: 30, range: 1...1_000_000)
        ratePerIntegration = try TierdeskConfiguration.int(reader, "tierdesk.integration.rate.limit.per.minute", default: 600, range: 1...1_000_000)
        mailGatewayToken = try TierdeskConfiguration.optional(reader, "tierdesk.mail.gateway.token", minLength: 16)
        publicURL = try MailLinkSettings.publicURL(reader)
        mailTemplates = try MailLinkSettings.templateFolder(reader)
        reminderAfterDays = try TierdeskConfiguration.int(reader, "tierdesk.reminder.after.days", default: 3, range: 0...365)
        autoCloseAfterDays = try TierdeskConfiguration.int(reader, "tierdesk.auto.close.after.days", default: 7, range: 0...365)
        reminderCheckInterval = .seconds(try TierdeskConfiguration.int(reader, "tierdesk.reminder.check.seconds", default: 300, range: 1...86_400))
    }

    /// What `init(reader:)` reads.
    public static let settings =
        [
            ConfigSetting("tierdesk.rate.limit.per.minute", "requests a minute per client address, anonymous and requester callers (default 120)"),
            ConfigSetting("tierdesk.requester.rate.limit.per.minute", "submissions a minute per requester email (default 30)"),
            ConfigSetting(
                "tierdesk.integration.rate.limit.per.minute", "submissions a minute per integration key that sets no rate of its own (default 600)"),
        ]
        + ConfigSetting.secret(
            "tierdesk.mail.gateway.token", "the mail gateway's bearer token for POST /v1/inbound/email, 16+ characters (unset: the endpoint is closed)")
        + MailLinkSettings.settings + [
            ConfigSetting(
                "tierdesk.reminder.after.days", "days a ticket waits on its requester before they are mailed one reminder (default 3; 0: no reminder)"),
            ConfigSetting(
                "tierdesk.auto.close.after.days", "days a ticket waits on its requester before it is resolved for them, and mailed (default 7; 0: never)"),
            ConfigSetting("tierdesk.reminder.check.seconds", "how often a replica looks for tickets due a reminder or the auto-close (default 300)"),
        ]

    public init(
        ratePerAddress: Int = 120, ratePerRequester: Int = 30, ratePerIntegration: Int = 600, mailGatewayToken: String? = nil,
        publicURL: String = "http://127.0.0.1:8084", mailTemplates: String? = nil, reminderAfterDays: Int = 3,
        autoCloseAfterDays: Int = 7, reminderCheckInterval: Duration = .seconds(300)
    ) {
        self.ratePerAddress = ratePerAddress
        self.ratePerRequester = ratePerRequester
        self.ratePerIntegration = ratePerIntegration
        self.mailGatewayToken = mailGatewayToken
        self.publicURL = publicURL
        self.mailTemplates = mailTemplates
        self.reminderAfterDays = reminderAfterDays
        self.autoCloseAfterDays = autoCloseAfterDays
        self.reminderCheckInterval = reminderCheckInterval
    }
}

/// What intake's controllers need; only `buildApplication` creates it.
public struct IntakeDependencies: ServiceDependencies {
    public let runtime: ServiceRuntime
    public let configuration: IntakeConfiguration
    public let requesters: RequesterStore
    public let knowledgeBase: KnowledgeBaseStore
    public let intake: TicketIntake
    let mail: MailIntake
    /// The mail requesters receive, and the reminder and auto-close policy.
    let requesterMail: RequesterMail
    let reminders: RequesterReminders
    let selfService: SelfService
    public let integrations: IntegrationStore
    public let requesterTokens: RequesterTokenStore
    public let addressLimiter: RateLimiter
    public let requesterLimiter: RateLimiter
    public let integrationLimiter: RateLimiter
    /// Mints and verifies requester tokens: intake alone holds this key.
    public let requesterTokenKey: RequesterTokenKey
    public let accounts: RequesterAccountStore
    public let satisfaction: SatisfactionStore

    /// The purposes intake derives keys for from the server secret.
    public static let keyPurposes: Set<KeyPurpose> = [.requesterToken, .mailReply]

    /// Throws when the runtime was not given the requester-token key (`TIERDESK_SECRET` is not configured).
    public init(runtime: ServiceRuntime, configuration: IntakeConfiguration) throws(ConfigurationError) {
        guard let requesterTokenKey = runtime.configuration.keys.requesterTokens, let replyAddresses = runtime.configuration.keys.replyAddresses else {
            throw ConfigurationError(key: "tierdesk.secret", problem: "is required by \(Intake.serviceName)")
        }
        self.runtime = runtime
        self.configuration = configuration
        self.requesterTokenKey = requesterTokenKey
        requesters = RequesterStore()
        knowledgeBase = KnowledgeBaseStore()
        intake = TicketIntake(tickets: runtime.tickets, requesters: requesters)
        mail = MailIntake(
            intake: intake, tickets: runtime.tickets, messages: EmailMessageStore(), bounces: MailBounceStore(), requesterTokenKey: requesterTokenKey,
            replyAddresses: replyAddresses)
        requesterMail = RequesterMail(
            templates: try MailLinkSettings.templates(RequesterMailTemplates.defaults, folder: configuration.mailTemplates),
            links: RequesterLinks(base: configuration.publicURL, tokens: requesterTokenKey), replyAddresses: replyAddresses,
            replyDomain: runtime.mail?.replyDomain ?? "localhost")
        reminders = RequesterReminders(
            mail: requesterMail, tickets: runtime.tickets, reminderAfterDays: configuration.reminderAfterDays,
            resolveAfterDays: configuration.autoCloseAfterDays)
        selfService = SelfService(tickets: runtime.tickets, requesters: requesters, knowledgeBase: knowledgeBase)
        integrations = IntegrationStore()
        requesterTokens = RequesterTokenStore(key: requesterTokenKey)
        addressLimiter = RateLimiter(perMinute: configuration.ratePerAddress)
        requesterLimiter = RateLimiter(perMinute: configuration.ratePerRequester)
        integrationLimiter = RateLimiter(perMinute: configuration.ratePerIntegration)
        accounts = RequesterAccountStore()
        satisfaction = SatisfactionStore()
    }

    /// The scope of an Idempotency-Key: the endpoint and who calls it.
    func idempotencyScope(_ endpoint: String, _ context: AppRequestContext) -> String {
        let caller: String
        switch context.principal {
        case .admin(let admin): caller = "admin:\(admin.id)"
        case .agent(let agent): caller = "agent:\(agent.id)"
        case .integration(let integration): caller = "integration:\(integration.id)"
        default: caller = "public"
        }
        return "intake \(endpoint) \(caller)"
    }
}

public enum Intake {
    public static let serviceName = "intake"
    public static let defaultPort = 8080

    /// The OpenAPI document this service serves and is tested against.
    public static let openAPI = OpenAPIDocument.text(in: .module)

    /// The demo articles `tierdesk seed-demo` loads.
    public static func demoArticles() throws -> [CreateArticleRequest] {
        guard let url = Bundle.module.url(forResource: "kb-articles", withExtension: "json", subdirectory: "Demo") else {
            throw ConfigurationError(key: "demo", problem: "the demo articles are missing from this build")
        }
        return try JSONDecoder().decode([CreateArticleRequest].self, from: Data(contentsOf: url))
    }
}

extension Intake: TierdeskService {
    public static let keyPurposes = IntakeDependencies.keyPurposes
    public static let ownSettings = IntakeConfiguration.settings
    public static let sendsMail = true

    public static func dependencies(runtime: ServiceRuntime, reader: ConfigReader) throws -> IntakeDependencies {
        try IntakeDependencies(runtime: runtime, configuration: try IntakeConfiguration(reader: reader))
    }

    public static func principals(_ deps: IntakeDependencies) -> RouterPrincipals {
        RouterPrincipals(mailGatewayToken: deps.configuration.mailGatewayToken, integrations: true, requesterTokens: true)
    }

    public static func addRoutes(_ deps: IntakeDependencies, to router: Router<AppRequestContext>) {
        let limited = router.group().add(
            middleware: RateLimitMiddleware(limiter: deps.addressLimiter, clientAddress: deps.runtime.configuration.clientAddress))
        TicketController(deps: deps).addRoutes(to: limited)
        InboundEmailController(deps: deps).addRoutes(to: limited)
        RequesterController(deps: deps).addRoutes(to: limited)
        KnowledgeBaseController(deps: deps).addRoutes(to: limited)
        IntegrationController(deps: deps).addRoutes(to: limited)
        RequesterAccountController(deps: deps).addRoutes(to: limited)
        // Every service's outgoing mail, for the administrator (intake's role may touch every row of mail_outbox).
        OutgoingMailController(client: deps.runtime.postgres, clock: deps.runtime.clock).addRoutes(to: router)
    }

    public static func eventHandler(_ deps: IntakeDependencies) -> any EventHandler { IntakeEventHandler(deps: deps) }

    /// Expired idempotency keys, sign-in links and requesters' sessions are removed every ten minutes; tickets
    /// waiting on their requester are reminded and resolved (`RequesterReminders`), a pass at a time until none is due.
    public static func backgroundServices(_ deps: IntakeDependencies) -> [any Service] {
        let (runtime, reminders) = (deps.runtime, deps.reminders)
        return [
            PeriodicTask(name: "idempotency-keys", interval: .seconds(600), logger: runtime.logger) {
                try await Idempotency.removeExpired(client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
            },
            PeriodicTask(name: "requester-sessions", interval: .seconds(600), logger: runtime.logger) {
                _ = try await deps.accounts.pruneExpired(on: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
            },
            PeriodicTask(name: "requester-reminders", interval: deps.configuration.reminderCheckInterval, logger: runtime.logger) {
                while true {
                    let pass = try await reminders.run(client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
                    if pass.reminded + pass.resolved > 0 {
                        runtime.logger.info("tickets waiting on their requester", metadata: ["reminded": "\(pass.reminded)", "resolved": "\(pass.resolved)"])
                    }
                    if pass.reminded + pass.resolved < 100 || Task.isCancelled { break }
                }
            },
        ]
    }
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await Intake.buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    try await Intake.buildApplication(reader: reader, clock: clock)
}

public func buildRouter(_ deps: IntakeDependencies) -> Router<AppRequestContext> { Intake.buildRouter(deps) }
