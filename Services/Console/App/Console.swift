import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The web console: pages rendered on the server, built on the four services' public APIs with
/// the signed-in person's own token. It owns one table, `console_sessions`: who is signed in.
public enum Console {
    public static let serviceName = "console"
    public static let defaultPort = 8084
}

/// The console's settings: where it listens, the services' URLs (`TIERDESK_INTAKE_URL` ...,
/// `TIERDESK_TIER1_QUEUE_URL` ... where levels run apart), `TIERDESK_CONSOLE_SECRET` (its keys: the
/// sessions' seal, CSRF, notices), `TIERDESK_DATABASE_URL` (its sessions) and the sessions' lifetimes.
public struct ConsoleConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var secret: String
    public var databaseURL: String
    public var databasePoolSize: Int
    /// Cookies without Secure and without the `__Host-` prefix, for plain http on localhost
    /// (`TIERDESK_CONSOLE_INSECURE_COOKIES=true`; default false: Secure, and HSTS on every answer).
    public var insecureCookies: Bool
    /// A staff session ends after this long unused (`TIERDESK_CONSOLE_SESSION_IDLE_MINUTES`, default 30)
    /// and this long after sign-in whatever happens (`TIERDESK_CONSOLE_SESSION_MAX_HOURS`, default 12).
    public var staffSession: (idle: TimeInterval, absolute: TimeInterval)
    /// A ticket link's session: 30 days unused, 90 days at most (the life the link's cookie had).
    public var requesterSession: (idle: TimeInterval, absolute: TimeInterval) = (30 * 86_400, 90 * 86_400)
    public var services: [String: String]
    /// Whose X-Forwarded-For names the visitor (`TIERDESK_TRUSTED_PROXIES`: the gateway).
    public var clientAddress: ClientAddress
    /// Single sign-on (`TIERDESK_OIDC_*`); nil without an issuer.
    var oidc: OIDCSettings?

    public init(reader: ConfigReader) throws(ConfigurationError) {
        host = reader.string(forKey: "tierdesk.host", default: "127.0.0.1")
        port = try TierdeskConfiguration.int(reader, "tierdesk.port", default: Console.defaultPort, range: 1...65_535)
        // Its own secret: the server secret (TIERDESK_SECRET) derives requester tokens, which the console must not be able to mint.
        guard let secret = try TierdeskConfiguration.secret(reader, "tierdesk.console.secret"), secret.count >= 16 else {
            throw ConfigurationError(key: "tierdesk.console.secret", problem: "is required by the console (at least 16 characters)")
        }
        self.secret = secret
        databaseURL = try TierdeskConfiguration.databaseURL(reader)
        databasePoolSize = try TierdeskConfiguration.int(reader, "tierdesk.database.pool.size", default: 4, range: 1...200)
        switch reader.string(forKey: "tierdesk.console.insecure.cookies", default: "false") {
        case "true": insecureCookies = true
        case "false": insecureCookies = false
        case let other: throw ConfigurationError(key: "tierdesk.console.insecure.cookies", problem: "must be true or false, not '\(other)'")
        }
        let idle = try TierdeskConfiguration.int(reader, "tierdesk.console.session.idle.minutes", default: 30, range: 1...1440)
        let absolute = try TierdeskConfiguration.int(reader, "tierdesk.console.session.max.hours", default: 12, range: 1...720)
        staffSession = (Double(idle) * 60, Double(absolute) * 3600)
        var services: [String: String] = [:]
        for (name, key, fallback) in [
            ("intake", "tierdesk.intake.url", "http://127.0.0.1:8080"), ("triage", "tierdesk.triage.url", "http://127.0.0.1:8081"),
            ("tier-queue", "tierdesk.tier.queue.url", "http://127.0.0.1:8082"), ("vendor-bridge", "tierdesk.vendor.bridge.url", "http://127.0.0.1:8083"),
        ] {
            let url = reader.string(forKey: ConfigKey(key), default: fallback)
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
                throw ConfigurationError(key: key, problem: "must be an http(s) URL, not '\(url)'")
            }
            services[name] = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        switch ClientAddress.parse(reader.string(forKey: "tierdesk.trusted.proxies", default: "")) {
        case .success(let ranges): clientAddress = ClientAddress(trustedProxies: ranges)
        case .failure(let failure):
            throw ConfigurationError(key: "tierdesk.trusted.proxies", problem: "must list addresses or CIDR ranges; '\(failure.entry)' is neither")
        }
        // Where levels run apart, each level's queue is its own instance's.
        for tier in 1...3 {
            let key = "tierdesk.tier\(tier).queue.url"
            guard let url = reader.string(forKey: ConfigKey(key)), !url.isEmpty else { continue }
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
                throw ConfigurationError(key: key, problem: "must be an http(s) URL, not '\(url)'")
            }
            services["tier-queue:\(tier)"] = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        self.services = services
        oidc = try OIDCSettings.read(reader)
    }
}

extension ConsoleConfiguration {
    /// What single sign-on reads (`TIERDESK_OIDC_*`, and with an issuer the public URL and the internal token), for `--help`.
    public static var singleSignOnSettings: [ConfigSetting] { OIDCSettings.settings }
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: SystemClock())
}

/// The console with the clock its sessions and caches expire by (tests move it).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    try await buildApplication(reader: reader, clock: clock, logger: Logger(label: Console.serviceName))
}

/// The console logging to `logger` (tests read what it logs).
func buildApplication(reader: ConfigReader, clock: any WallClock, logger: Logger) async throws -> some ApplicationProtocol {
    let configuration = try ConsoleConfiguration(reader: reader)
    var logger = logger
    logger.logLevel = Logger.Level(rawValue: reader.string(forKey: "tierdesk.log.level", default: "info")) ?? .info
    let postgres = try DatabaseSettings(url: configuration.databaseURL).makeClient(poolSize: configuration.databasePoolSize, logger: logger)
    let taskLogger = logger
    let sessions = Sessions(configuration, postgres: postgres, clock: clock)
    let signIns = SignInStore(client: postgres, sessions: sessions.store)  // the clean-up's; the routes make their own
    var app = Application(
        router: buildRouter(configuration, sessions: sessions, logger: logger),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: Console.serviceName), logger: logger)
    app.addServices(
        postgres,
        PeriodicTask(name: "console-session-prune", interval: .seconds(300), logger: logger) {
            try await sessions.store.prune(now: clock.now(), logger: taskLogger)
            try await signIns.prune(now: clock.now(), logger: taskLogger)
        })
    return app
}

extension Sessions {
    init(_ configuration: ConsoleConfiguration, postgres: PostgresClient, clock: any WallClock) {
        self.init(
            store: SessionStore(client: postgres, sealKey: ConsoleKeys.key(ConsoleKeys.sealPurpose, secret: configuration.secret)), clock: clock,
            secure: !configuration.insecureCookies,
            staff: SessionLifetime(idle: configuration.staffSession.idle, absolute: configuration.staffSession.absolute),
            requester: SessionLifetime(idle: configuration.requesterSession.idle, absolute: configuration.requesterSession.absolute))
    }
}

func buildRouter(_ configuration: ConsoleConfiguration, sessions: Sessions, logger: Logger) -> Router<ConsoleContext> {
    let router = Router(context: ConsoleContext.self)
    router.add(middleware: SessionMiddleware(sessions: sessions, secret: configuration.secret, clientAddress: configuration.clientAddress))
    let backend = Backend(
        urls: [
            .intake: configuration.services["intake"]!, .triage: configuration.services["triage"]!, .tierQueue: configuration.services["tier-queue"]!,
            .vendorBridge: configuration.services["vendor-bridge"]!,
        ],
        queueURLs: Dictionary(uniqueKeysWithValues: (1...3).compactMap { tier in configuration.services["tier-queue:\(tier)"].map { (tier, $0) } }),
        logger: logger)
    let migrator = Migrator()
    router.get("health/live") { _, _ in "ok" }
    // Ready once its sessions' table is there: the database answers and the schema is current.
    router.get("health/ready") { _, context -> Response in
        let problem: String?
        do {
            problem = try await migrator.status(client: sessions.store.client, logger: context.logger).problem
        } catch {
            problem = "the database cannot be reached"
        }
        guard let problem else { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok"))) }
        return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "not ready: \(problem)")))
    }
    router.get("static/{file}") { _, context -> Response in
        guard let file = context.parameters.get("file"), let asset = StaticAssets.files[file] else { return Response(status: .notFound) }
        return Response(
            status: .ok, headers: [.contentType: asset.type, .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: asset.text)))
    }
    _ = StaticAssets.files  // read now: a bundle without them stops start-up, not a request
    let groups = RouteGroups(router)
    Portal(backend: backend, sessions: sessions).addRoutes(to: groups)
    RequesterAccount(backend: backend, sessions: sessions).addRoutes(to: groups)
    let singleSignOn = configuration.oidc.map {
        SingleSignOn(
            provider: OIDCProvider(settings: $0, clock: sessions.clock), backend: backend, sessions: sessions,
            signIns: SignInStore(client: sessions.store.client, sessions: sessions.store))
    }
    singleSignOn?.addRoutes(to: groups)
    AgentConsole(backend: backend, sessions: sessions, singleSignOn: singleSignOn).addRoutes(to: groups)
    NotificationPages(backend: backend).addRoutes(to: groups)
    VendorView(backend: backend).addRoutes(to: groups)
    ReportsPage(backend: backend).addRoutes(to: groups)
    AdminPages(backend: backend).addRoutes(to: groups)
    AuditPages(backend: backend).addRoutes(to: groups)
    StaffAccountPages(backend: backend, sessions: sessions).addRoutes(to: groups)
    SettingsPages(backend: backend).addRoutes(to: groups)
    RoutingPages(backend: backend).addRoutes(to: groups)
    return router
}

/// The stylesheet and script, shipped in the bundle and read once.
enum StaticAssets {
    static let files: [String: (type: String, text: String)] = {
        var files: [String: (String, String)] = [:]
        for (name, type) in [("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8")] {
            let parts = name.split(separator: ".")
            // The bundle ships both: one missing is a broken build, which must not start.
            guard let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1]), subdirectory: "Static") else {
                fatalError("the console's bundle lacks Static/\(name)")
            }
            do {
                files[name] = (type, try String(contentsOf: url, encoding: .utf8))
            } catch {
                fatalError("the console's Static/\(name) cannot be read: \(error)")
            }
        }
        return files
    }()
}
