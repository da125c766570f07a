import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// The web console: pages rendered on the server, built on the four services' public APIs with
/// the signed-in person's own token. It owns no table and holds nothing but its cookies.
public enum Console {
    public static let serviceName = "console"
    public static let defaultPort = 8084
}

/// The console's settings: where it listens, the services' URLs (`TIERDESK_INTAKE_URL` ...,
/// `TIERDESK_TIER1_QUEUE_URL` ... where levels run apart), and `TIERDESK_CONSOLE_SECRET`, which its
/// CSRF tokens are derived from.
public struct ConsoleConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var secret: String
    /// Cookies marked Secure (`TIERDESK_SECURE_COOKIES`, default false: local http).
    public var secureCookies: Bool
    public var services: [String: String]
    /// Whose X-Forwarded-For names the visitor (`TIERDESK_TRUSTED_PROXIES`: the gateway).
    public var clientAddress: ClientAddress

    public init(reader: ConfigReader) throws(ConfigurationError) {
        host = reader.string(forKey: "tierdesk.host", default: "127.0.0.1")
        port = try TierdeskConfiguration.int(reader, "tierdesk.port", default: Console.defaultPort, range: 1...65_535)
        // Its own secret: the server secret (TIERDESK_SECRET) derives requester tokens, which the console must not be able to mint.
        guard let secret = reader.string(forKey: "tierdesk.console.secret", isSecret: true), secret.count >= 16 else {
            throw ConfigurationError(key: "tierdesk.console.secret", problem: "is required by the console (at least 16 characters)")
        }
        self.secret = secret
        secureCookies = reader.string(forKey: "tierdesk.secure.cookies", default: "false") == "true"
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
    }
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    let configuration = try ConsoleConfiguration(reader: reader)
    var logger = Logger(label: Console.serviceName)
    logger.logLevel = Logger.Level(rawValue: reader.string(forKey: "tierdesk.log.level", default: "info")) ?? .info
    return Application(
        router: buildRouter(configuration, logger: logger),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: Console.serviceName), logger: logger)
}

func buildRouter(_ configuration: ConsoleConfiguration, logger: Logger) -> Router<ConsoleContext> {
    let router = Router(context: ConsoleContext.self)
    router.add(
        middleware: SessionMiddleware(secret: configuration.secret, secureCookies: configuration.secureCookies, clientAddress: configuration.clientAddress))
    let backend = Backend(
        urls: [
            .intake: configuration.services["intake"]!, .triage: configuration.services["triage"]!, .tierQueue: configuration.services["tier-queue"]!,
            .vendorBridge: configuration.services["vendor-bridge"]!,
        ],
        queueURLs: Dictionary(uniqueKeysWithValues: (1...3).compactMap { tier in configuration.services["tier-queue:\(tier)"].map { (tier, $0) } }),
        logger: logger)
    router.get("health/live") { _, _ in "ok" }
    router.get("health/ready") { _, _ in "ok" }
    router.get("static/{file}") { _, context -> Response in
        guard let file = context.parameters.get("file"), let asset = StaticAssets.files[file] else { return Response(status: .notFound) }
        return Response(
            status: .ok, headers: [.contentType: asset.type, .cacheControl: "public, max-age=300", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(string: asset.text)))
    }
    Portal(backend: backend, secureCookies: configuration.secureCookies).addRoutes(to: router)
    AgentConsole(backend: backend, secureCookies: configuration.secureCookies).addRoutes(to: router)
    VendorView(backend: backend).addRoutes(to: router)
    ReportsPage(backend: backend).addRoutes(to: router)
    AdminPages(backend: backend).addRoutes(to: router)
    SettingsPages(backend: backend).addRoutes(to: router)
    RoutingPages(backend: backend).addRoutes(to: router)
    return router
}

/// The stylesheet and script, shipped in the bundle and read once.
enum StaticAssets {
    static let files: [String: (type: String, text: String)] = {
        var files: [String: (String, String)] = [:]
        for (name, type) in [("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8")] {
            let parts = name.split(separator: ".")
            if let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1]), subdirectory: "Static"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            {
                files[name] = (type, text)
            }
        }
        return files
    }()
}
