import Configuration
import Foundation
import Hummingbird
import ServiceLifecycle

/// What a service has of its own; everything else comes from the one builder all four share
/// (`buildApplication(reader:clock:)`), always in the same order: configuration → PostgreSQL pool
/// and runtime → dependencies (the service's stores and peers) → routes and event receiver →
/// outbox dispatcher → periodic tasks.
public protocol TierdeskService {
    /// What the service's controllers, event handler and background work need; built once.
    associatedtype Dependencies: ServiceDependencies

    /// The name in logs, metrics and outbox rows, and the executable's name.
    static var serviceName: String { get }
    static var defaultPort: Int { get }
    /// The service's OpenAPI document, served at `GET /openapi.yaml`.
    static var openAPI: String { get }
    /// The purposes the service derives keys for from `TIERDESK_SECRET` (none by default).
    static var keyPurposes: Set<KeyPurpose> { get }
    /// The settings the service reads beside the shared ones (`TierdeskConfiguration`).
    static var ownSettings: [ConfigSetting] { get }

    /// The service's dependencies over the shared runtime, with its own settings read from `reader`.
    static func dependencies(runtime: ServiceRuntime, reader: ConfigReader) throws -> Dependencies
    /// Which principals beyond agents, vendors and the admin the router opens (`ServiceRuntime.makeRouter`).
    static func principals(_ deps: Dependencies) -> RouterPrincipals
    /// Adds the service's controllers to the shared router.
    static func addRoutes(_ deps: Dependencies, to router: Router<AppRequestContext>)
    /// What the service does with the events delivered to it.
    static func eventHandler(_ deps: Dependencies) -> any EventHandler
    /// The service's background work beside the dispatcher: periodic tasks and other long-running services.
    static func backgroundServices(_ deps: Dependencies) -> [any Service]
    /// Whether the service writes mail (`MailOutbox`) and sends it: it then reads `MailSettings`
    /// and runs a `MailDispatcher` when `TIERDESK_SMTP_HOST` is set.
    static var sendsMail: Bool { get }
}

/// A service's dependencies carry the shared runtime they were built on.
public protocol ServiceDependencies: Sendable {
    var runtime: ServiceRuntime { get }
}

/// The principals a service's router opens beside agents, vendors and the admin (intake alone
/// opens any of these); elsewhere such a token is 401 like any unknown one.
public struct RouterPrincipals: Sendable {
    public var mailGatewayToken: String?
    public var integrations: Bool
    public var requesterTokens: Bool

    public init(mailGatewayToken: String? = nil, integrations: Bool = false, requesterTokens: Bool = false) {
        self.mailGatewayToken = mailGatewayToken
        self.integrations = integrations
        self.requesterTokens = requesterTokens
    }
}

extension TierdeskService {
    public static var keyPurposes: Set<KeyPurpose> { [] }
    public static var ownSettings: [ConfigSetting] { [] }
    public static func principals(_ deps: Dependencies) -> RouterPrincipals { RouterPrincipals() }
    public static func backgroundServices(_ deps: Dependencies) -> [any Service] { [] }
    public static var sendsMail: Bool { false }

    /// Every setting the executable reads, in the order `--help` lists them.
    public static var settings: [ConfigSetting] {
        var seen = Set<String>()
        let mail = sendsMail ? MailSettings.settings : []
        return (TierdeskConfiguration.settings(defaultPort: defaultPort, keys: keyPurposes) + mail + ownSettings + TierdeskLogging.settings).filter {
            seen.insert($0.name).inserted
        }
    }

    /// The service's router: the shared middleware and endpoints, its controllers, and
    /// `POST /internal/v1/events` for its event handler.
    public static func buildRouter(_ deps: Dependencies) -> Router<AppRequestContext> {
        let principals = principals(deps)
        let router = deps.runtime.makeRouter(
            openAPI: openAPI, mailGatewayToken: principals.mailGatewayToken, integrations: principals.integrations,
            requesterTokens: principals.requesterTokens)
        addRoutes(deps, to: router)
        deps.runtime.addEventReceiver(to: router, consumer: serviceName, handler: eventHandler(deps))
        return router
    }

    /// The service on `clock` (tests pass one they control), configured by `reader`.
    public static func buildApplication(reader: ConfigReader, clock: any WallClock = SystemClock()) async throws -> some ApplicationProtocol {
        let configuration = try TierdeskConfiguration(reader: reader, serviceName: serviceName, defaultPort: defaultPort, keys: keyPurposes)
        let runtime = try ServiceRuntime(configuration: configuration, clock: clock, mail: sendsMail ? try MailSettings(reader: reader) : nil)
        let deps = try dependencies(runtime: runtime, reader: reader)
        return runtime.makeApplication(router: buildRouter(deps), services: backgroundServices(deps))
    }
}
