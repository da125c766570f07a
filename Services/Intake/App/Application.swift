import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// What intake's controllers need; only `buildApplication` creates it.
public struct IntakeDependencies: Sendable {
    public let runtime: ServiceRuntime
    public let requesters: RequesterStore
    public var secret: String { runtime.configuration.secret }

    public init(runtime: ServiceRuntime) {
        self.runtime = runtime
        requesters = RequesterStore()
    }
}

public enum Intake {
    public static let serviceName = "intake"
    public static let defaultPort = 8080

    /// The OpenAPI document this service serves and is tested against.
    public static let openAPI: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let text = try? String(contentsOf: url, encoding: .utf8) else { return "" }
        return text
    }()
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    let configuration = try TierdeskConfiguration(reader: reader, serviceName: Intake.serviceName, defaultPort: Intake.defaultPort)
    let runtime = try ServiceRuntime(configuration: configuration)
    let deps = IntakeDependencies(runtime: runtime)
    return runtime.makeApplication(router: buildRouter(deps))
}

public func buildRouter(_ deps: IntakeDependencies) -> Router<AppRequestContext> {
    let router = deps.runtime.makeRouter(openAPI: Intake.openAPI)
    TicketController(deps: deps).addRoutes(to: router)
    deps.runtime.addEventReceiver(to: router, consumer: Intake.serviceName, handler: IntakeEventHandler(deps: deps))
    return router
}

/// Intake's share of the hand-offs: nothing in the foundation yet; unknown types are acknowledged.
struct IntakeEventHandler: EventHandler {
    let deps: IntakeDependencies
    func handle(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {}
}
