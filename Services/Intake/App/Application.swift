import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
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

    public init(reader: ConfigReader) throws(ConfigurationError) {
        ratePerAddress = try TierdeskConfiguration.int(reader, "tierdesk.rate.limit.per.minute", default: 120, range: 1...1_000_000)
        ratePerRequester = try TierdeskConfiguration.int(reader, "tierdesk.requester.rate.limit.per.minute", default: 30, range: 1...1_000_000)
        ratePerIntegration = try TierdeskConfiguration.int(reader, "tierdesk.integration.rate.limit.per.minute", default: 600, range: 1...1_000_000)
        mailGatewayToken = try TierdeskConfiguration.optional(reader, "tierdesk.mail.gateway.token", minLength: 16)
    }

    public init(ratePerAddress: Int = 120, ratePerRequester: Int = 30, ratePerIntegration: Int = 600, mailGatewayToken: String? = nil) {
        self.ratePerAddress = ratePerAddress
        self.ratePerRequester = ratePerRequester
        self.ratePerIntegration = ratePerIntegration
        self.mailGatewayToken = mailGatewayToken
    }
}

/// What intake's controllers need; only `buildApplication` creates it.
public struct IntakeDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let configuration: IntakeConfiguration
    public let requesters: RequesterStore
    public let knowledgeBase: KnowledgeBaseStore
    public let intake: TicketIntake
    let mail: MailIntake
    let selfService: SelfService
    public let integrations: IntegrationStore
    public let requesterTokens: RequesterTokenStore
    public let addressLimiter: RateLimiter
    public let requesterLimiter: RateLimiter
    public let integrationLimiter: RateLimiter
    /// Mints and verifies requester tokens: intake alone holds this key.
    public let requesterTokenKey: RequesterTokenKey

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
            intake: intake, tickets: runtime.tickets, messages: EmailMessageStore(), requesterTokenKey: requesterTokenKey, replyAddresses: replyAddresses)
        selfService = SelfService(tickets: runtime.tickets, requesters: requesters, knowledgeBase: knowledgeBase)
        integrations = IntegrationStore()
        requesterTokens = RequesterTokenStore(key: requesterTokenKey)
        addressLimiter = RateLimiter(perMinute: configuration.ratePerAddress)
        requesterLimiter = RateLimiter(perMinute: configuration.ratePerRequester)
        integrationLimiter = RateLimiter(perMinute: configuration.ratePerIntegration)
    }

    /// The scope of an Idempotency-Key: the endpoint and who calls it.
    func idempotencyScope(_ endpoint: String, _ context: AppRequestContext) -> String {
        let caller: String
        switch context.principal {
        case .admin: caller = "admin"
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

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(
        reader: reader, serviceName: Intake.serviceName, defaultPort: Intake.defaultPort, keys: IntakeDependencies.keyPurposes)
    let runtime = try ServiceRuntime(configuration: configuration, clock: clock)
    let deps = try IntakeDependencies(runtime: runtime, configuration: try IntakeConfiguration(reader: reader))
    let cleanup = PeriodicTask(name: "idempotency-keys", interval: .seconds(600), logger: runtime.logger) {
        try await Idempotency.removeExpired(client: runtime.postgres, now: runtime.clock.now(), logger: runtime.logger)
    }
    return runtime.makeApplication(router: buildRouter(deps), services: [cleanup])
}

public func buildRouter(_ deps: IntakeDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(
        openAPI: Intake.openAPI, mailGatewayToken: deps.configuration.mailGatewayToken, integrations: true, requesterTokens: true)
    let limited = router.group().add(middleware: RateLimitMiddleware(limiter: deps.addressLimiter, clientAddress: deps.runtime.configuration.clientAddress))
    TicketController(deps: deps).addRoutes(to: limited)
    InboundEmailController(deps: deps).addRoutes(to: limited)
    RequesterController(deps: deps).addRoutes(to: limited)
    KnowledgeBaseController(deps: deps).addRoutes(to: limited)
    IntegrationController(deps: deps).addRoutes(to: limited)
    deps.runtime.addEventReceiver(to: router, consumer: Intake.serviceName, handler: IntakeEventHandler(deps: deps))
    return router
}

/// Publishes the articles agents write when they resolve a ticket (`kb.published`).
struct IntakeEventHandler: EventHandler {
    let deps: IntakeDependencies
    var consumes: Set<EventType> { [.kbPublished] }

    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.type == .kbPublished else { return }
        guard let published = KnowledgeArticlePublished(data: event.data) else {
            throw IntakeError.invalidEvent("a kb.published event needs a title and a body")
        }
        // One article per source ticket: resolving it again (after a reopen) updates the article.
        let slug = event.ticketId.map { "ticket-\($0.uuidString.lowercased())" }
        let article = CreateArticleRequest(title: published.title, body: published.body, category: published.category, slug: slug)
        let level = published.authorLevel.flatMap(Tier.init(rawValue:))
        let author = published.authorAgentId
        // Levels 1 and 2 write drafts that level 3 reviews, as `POST /v1/kb/articles` allows them nothing more.
        let draft = author != nil && (level ?? .firstLine) < .specialist
        let id = try await deps.knowledgeBase.publish(
            article, sourceTicketID: event.ticketId, authorLevel: level, authorAgentID: author, draft: draft, on: connection,
            now: deps.runtime.clock.now(), logger: logger)
        logger.info(
            draft ? (id == nil ? "draft dropped: the ticket's article is published" : "article drafted for level 3") : "article published",
            metadata: ["article.id": "\(id.map { "\($0)" } ?? "none")", "ticket.id": "\(event.ticketId.map { "\($0)" } ?? "none")"])
    }
}
