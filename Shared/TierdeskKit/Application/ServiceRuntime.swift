import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import TierdeskModels

/// Handles the events a service receives on `POST /internal/v1/events`, inside the transaction
/// that also records the event in the inbox.
public protocol EventHandler: Sendable {
    /// The event types this service consumes; any other is refused with 422 (the sender
    /// dead-letters it), so the internal token cannot make a service act on what is not its own.
    var consumes: Set<EventType> { get }
    /// Applies one event's effect; throwing rolls back and the sender retries (or dead-letters a 4xx).
    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws
    /// Applies a batch of new events (in the order written, at most one per ticket from the
    /// dispatcher) in one transaction. By default one at a time; a handler on the hot path does the
    /// whole batch with set-based statements.
    func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws
}

extension Array where Element == EventEnvelope {
    /// The tickets that events of `type` are about, each once, in the order of the events.
    public func uniqueTicketIDs(of type: EventType) -> [UUID] {
        var seen = Set<UUID>()
        return compactMap { $0.type == type ? $0.ticketId : nil }.filter { seen.insert($0).inserted }
    }
}

extension EventHandler {
    public func handle(batch events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        for event in events {
            var eventLogger = logger
            eventLogger[metadataKey: "event.id"] = "\(event.id)"
            eventLogger[metadataKey: "event.type"] = "\(event.type.rawValue)"
            try await handle(event, on: connection, logger: eventLogger)
        }
    }
}

/// What every service shares at run time, built once by its `buildApplication`.
public struct ServiceRuntime: Sendable {
    public let configuration: TierdeskConfiguration
    public let logger: Logger
    public let postgres: PostgresClient
    public let tickets: TicketStore
    public let migrator: Migrator
    /// The time of day for everything this service writes; tests pass a clock they control.
    public let clock: any WallClock
    /// The mail settings of a service that sends mail (intake, tier-queue); nil for the others.
    public let mail: MailSettings?
    let dispatcher: OutboxDispatcher
    /// Sends this service's `mail_outbox` rows; nil when it sends no mail or SMTP is not configured.
    let mailDispatcher: MailDispatcher?

    /// Throws when the SMTP settings' CA file cannot be read.
    public init(configuration: TierdeskConfiguration, clock: any WallClock = SystemClock(), mail: MailSettings? = nil) throws {
        self.configuration = configuration
        self.clock = clock
        var logger = Logger(label: configuration.serviceName)
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        self.logger = logger
        TierdeskMetrics.bootstrap()
        postgres = try DatabaseSettings(url: configuration.databaseURL).makeClient(poolSize: configuration.databasePoolSize, logger: logger)
        tickets = TicketStore(source: configuration.serviceName)
        migrator = Migrator()
        dispatcher = OutboxDispatcher(
            source: configuration.serviceName, client: postgres, peers: configuration.peers, internalToken: configuration.internalToken,
            settings: configuration.outbox, logger: logger)
        self.mail = mail
        if let mail, let smtp = mail.smtp {
            // Mail is leased and polled for like the outbox's hand-offs.
            var dispatch = mail.dispatch
            dispatch.lease = configuration.outbox.lease
            dispatch.pollInterval = configuration.outbox.pollInterval
            mailDispatcher = MailDispatcher(
                source: configuration.serviceName, client: postgres, smtp: try SMTPClient(settings: smtp), settings: dispatch, clock: clock,
                doorbell: dispatcher.doorbell, logger: logger)
        } else {
            mailDispatcher = nil
        }
    }

    /// A router with the shared middleware and endpoints: problem+json errors, request logs and
    /// metrics, bearer auth, per-principal rate limits, health, metrics, the OpenAPI document and the outbox's dead letters.
    /// `mailGatewayToken`, `integrations` and `requesterTokens` open those principals (intake only;
    /// `requesterTokens` needs the service's `.requesterToken` key): elsewhere such a token is 401
    /// like any unknown one.
    public func makeRouter(openAPI: String, mailGatewayToken: String? = nil, integrations: Bool = false, requesterTokens: Bool = false)
        -> Router<AppRequestContext>
    {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RingAfterWritesMiddleware(doorbell: dispatcher.doorbell))
        let settings = AuthSettings(
            bootstrapTokenDigest: configuration.bootstrapTokenDigest, internalToken: configuration.internalToken, mailGatewayToken: mailGatewayToken,
            requesterTokens: requesterTokens ? configuration.keys.requesterTokens : nil, integrations: integrations)
        router.add(
            middleware: AuthMiddleware(
                authenticator: Authenticator(settings: settings, client: postgres, clock: clock),
                failures: RateLimiter(perMinute: configuration.authFailuresPerMinute),
                clientAddress: configuration.clientAddress))
        router.add(middleware: PrincipalRateLimitMiddleware(limits: configuration.principalLimits))
        router.add(middleware: MethodNotAllowedMiddleware(router: router))

        router.get("health/live") { _, _ in JSONResponse(["status": "ok"]) }
        router.get("health/ready") { _, context in
            // Pending migrations, or a shipped one edited after it ran: not ready.
            let status = try await migrator.status(client: postgres, logger: context.logger)
            if let problem = status.problem {
                throw Problem(type: Problem.typeBase + "not-ready", title: "Not ready", status: 503, detail: problem)
            }
            return JSONResponse(["status": "ready", "schemaVersion": "\(status.currentVersion)"])
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: TierdeskMetrics.render())))
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: openAPI)))
        }
        DeadLetterController(source: configuration.serviceName, client: postgres).addRoutes(to: router)
        return router
    }

    /// `POST /internal/v1/events`: internal token only; a batch (`{"events": [...]}`, at most the
    /// configured batch size) applied in one transaction, with a result per event (see `EventReceiver`).
    public func addEventReceiver(to router: Router<AppRequestContext>, consumer: String, handler: some EventHandler) {
        let receiver = EventReceiver(consumer: consumer, handler: handler, client: postgres, clock: clock)
        let limit = configuration.outbox.batchSize
        router.post("internal/v1/events") { request, context in
            try context.requireInternal()
            let batch = try await request.decodeJSON(EventBatch.self, context: context)
            guard (1...limit).contains(batch.events.count) else {
                throw Problem.validation([FieldError(field: "events", message: "must hold 1 to \(limit) events")])
            }
            return JSONResponse(EventBatchResult(results: await receiver.apply(batch.events, logger: context.logger)))
        }
    }

    /// The application: the HTTP server (each request bounded by `RequestDeadline`) plus
    /// PostgreSQL's pool and this service's outbox dispatcher, with graceful shutdown on SIGTERM and SIGINT.
    public func makeApplication(router: Router<AppRequestContext>, services: [any Service] = []) -> some ApplicationProtocol {
        var app = Application(
            responder: RequestDeadline(inner: router.buildResponder(), deadline: configuration.requestTimeout),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serviceName),
            logger: logger)
        app.addServices(postgres, dispatcher)
        if let mailDispatcher { app.addServices(mailDispatcher) }
        app.addServices(services)
        app.beforeServerStarts { [self] in
            // A broken migration bundle stops start-up; a schema that is behind or edited only keeps the service unready.
            let status = try await migrator.status(client: postgres, logger: logger)
            if let problem = status.problem {
                logger.warning("not ready: \(problem)", metadata: ["schema.version": "\(status.currentVersion)", "needed": "\(status.latestVersion)"])
            }
            if mail != nil && mailDispatcher == nil {
                logger.notice("TIERDESK_SMTP_HOST is not set: mail is written to the outbox and waits there until SMTP is configured")
            }
        }
        return app
    }
}

extension Application {
    mutating func addServices(_ services: [any Service]) {
        for service in services { addServices(service) }
    }
}
