import Configuration
import ConsoleApp
import Hummingbird
import TierdeskKit

/// `console`: serves until SIGTERM; `--help` lists the settings it reads, `--version` the build.
@main
struct ConsoleCommand: ServiceCommand {
    static let configuration = commandConfiguration(
        name: Console.serviceName, abstract: "Tierdesk console: the web pages for requesters, agents, admins and vendors.", settings: settings)

    /// What `ConsoleConfiguration(reader:)` and `buildApplication` read. The console calls the
    /// services' public APIs with each person's own token: it reads no admin token, and the internal
    /// token only with single sign-on (for tier-queue's staff sign-ins).
    static let settings =
        [
            ConfigSetting("tierdesk.host", "address to listen on (default 127.0.0.1; 0.0.0.0 in containers)"),
            ConfigSetting("tierdesk.port", "port to listen on (default 8084)"),
        ]
        + ConfigSetting.secret(
            "tierdesk.console.secret", "derives the sessions' sealing key and the CSRF keys, 16+ characters, not the server secret's value (required)")
        + TierdeskConfiguration.databaseSettings + [
            ConfigSetting("tierdesk.database.pool.size", "PostgreSQL connections (default 4)"),
            ConfigSetting("tierdesk.console.insecure.cookies", "true: cookies without Secure and __Host-, for plain http on localhost (default false)"),
            ConfigSetting("tierdesk.console.session.idle.minutes", "a staff session ends this long unused (default 30)"),
            ConfigSetting("tierdesk.console.session.max.hours", "a staff session ends this long after sign-in (default 12)"),
            ConfigSetting("tierdesk.trusted.proxies", "addresses or CIDR ranges whose X-Forwarded-For names the visitor (default none)"),
        ] + PeerDirectory.settings + ConsoleConfiguration.singleSignOnSettings + TierdeskLogging.settings

    static func build(reader: ConfigReader) async throws -> some ApplicationProtocol { try await buildApplication(reader: reader) }
}
