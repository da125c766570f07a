import Configuration
import Foundation
import Hummingbird
import ServiceLifecycle

/// The body of every server executable once its arguments are parsed (`ServiceCommand`): logging,
/// configuration from the environment, then serve until SIGTERM. A configuration error names the
/// variable and exits with status 78.
public enum ServiceMain {
    public static func serve<App: ApplicationProtocol>(name: String, build: (ConfigReader) async throws -> App) async {
        TierdeskLogging.bootstrap()
        let reader = ConfigReader(provider: EnvironmentVariablesProvider())
        do {
            let app = try await build(reader)
            // SIGTERM finishes the work in hand; what cannot finish (a database that is gone holds a
            // delivery's statement forever) is cancelled after 15 s, so an orchestrator's stop never hangs.
            var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: app.logger)
            group.maximumGracefulShutdownDuration = .seconds(15)
            group.maximumCancellationDuration = .seconds(5)
            try await ServiceGroup(configuration: group).run()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(name): configuration error: \(error)\n".utf8))
            exit(78)
        } catch {
            FileHandle.standardError.write(Data("\(name): \(String(reflecting: error))\n".utf8))
            exit(1)
        }
    }
}

/// A service's OpenAPI document, shipped as a resource of its App target.
public enum OpenAPIDocument {
    /// The text of `openapi.yaml` in `bundle` (pass the target's `Bundle.module`); empty when missing.
    public static func text(in bundle: Bundle) -> String {
        guard let url = bundle.url(forResource: "openapi", withExtension: "yaml"), let text = try? String(contentsOf: url, encoding: .utf8) else { return "" }
        return text
    }
}
