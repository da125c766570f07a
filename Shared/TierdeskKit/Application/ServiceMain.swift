import Configuration
import Foundation
import Hummingbird
import ServiceLifecycle

/// The body of every service executable: `--help`, logging, configuration from the environment,
/// then serve until SIGTERM. A configuration error names the variable and exits with status 78.
public enum ServiceMain {
    public static func run<App: ApplicationProtocol>(
        name: String, summary: String, extraKeys: [String] = [], arguments: [String] = CommandLine.arguments,
        build: (ConfigReader) async throws -> App
    ) async {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help(name: name, summary: summary, extraKeys: extraKeys))
            return
        }
        if let unknown = arguments.dropFirst().first {
            FileHandle.standardError.write(Data("\(name): unknown argument '\(unknown)'; try --help\n".utf8))
            exit(64)
        }
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

    /// The configuration every service reads, documented for `--help` and the README.
    public static let commonKeys: [(String, String)] = [
        ("TIERDESK_DATABASE_URL", "postgres://user:password@host:port/database (required)"),
        ("TIERDESK_ADMIN_TOKEN", "the admin bearer token, at least 16 characters (required)"),
        ("TIERDESK_INTERNAL_TOKEN", "the token services use with each other, at least 16 characters (required)"),
        ("TIERDESK_SECRET", "server secret; a key per purpose is derived from it (intake: requester tokens; vendor-bridge: sealing), read only there"),
        ("TIERDESK_TRUSTED_PROXIES", "addresses or CIDR ranges whose X-Forwarded-For names the client (default none)"),
        ("TIERDESK_REQUEST_TIMEOUT_MS", "longest a request may take before it is answered 503 with Retry-After (default 10000)"),
        (
            "TIERDESK_AUTH_FAILURES_PER_MINUTE",
            "failed authentications a minute per client address (IPv6: per /64) before its unknown tokens get 429 (default 30)"
        ),
        ("TIERDESK_AGENT_RATE_LIMIT_PER_MINUTE", "requests a minute per agent token, per replica (default 6000)"),
        ("TIERDESK_VENDOR_RATE_LIMIT_PER_MINUTE", "requests a minute per vendor key, per replica (default 600)"),
        ("TIERDESK_HOST", "address to listen on (default 127.0.0.1; 0.0.0.0 in containers)"),
        ("TIERDESK_PORT", "port to listen on (intake 8080, triage 8081, tier-queue 8082, vendor-bridge 8083)"),
        ("TIERDESK_DATABASE_POOL_SIZE", "PostgreSQL connections per replica (default 8)"),
        ("TIERDESK_INTAKE_URL, TIERDESK_TRIAGE_URL, TIERDESK_TIER_QUEUE_URL, TIERDESK_VENDOR_BRIDGE_URL", "the peers"),
        ("TIERDESK_TIER1_QUEUE_URL … TIERDESK_TIER3_QUEUE_URL", "per-level tier-queue, where levels run apart"),
        ("TIERDESK_OUTBOX_BATCH_SIZE", "events per delivery and per receiving transaction (default 100)"),
        ("TIERDESK_OUTBOX_WORKERS", "delivery passes in flight per replica (default 2; 0: this replica leaves delivery to others)"),
        ("TIERDESK_OUTBOX_POLL_MS", "how often a replica looks for hand-offs other replicas wrote (default 200)"),
        ("TIERDESK_OUTBOX_MAX_BACKOFF_MS", "longest wait between delivery attempts (default 60000)"),
        ("TIERDESK_OUTBOX_MAX_ATTEMPTS", "attempts before a hand-off is dead-lettered (default 25)"),
        ("TIERDESK_OUTBOX_LEASE_MS", "how long claimed hand-offs stay invisible to other replicas (default 30000)"),
        ("TIERDESK_LOG_LEVEL", "trace, debug, info (default), notice, warning, error"),
        ("TIERDESK_LOG_FORMAT", "json for one JSON object per line; text otherwise"),
    ]

    static func help(name: String, summary: String, extraKeys: [String]) -> String {
        var lines = ["\(summary)", "", "USAGE: \(name)", "", "Configured by environment variables:"]
        for (key, text) in commonKeys { lines.append("  \(key)\n      \(text)") }
        for key in extraKeys { lines.append("  \(key)") }
        lines.append("\nEndpoints: see GET /openapi.yaml on the running service.")
        return lines.joined(separator: "\n")
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
