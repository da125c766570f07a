import Foundation
import TierdeskModels

/// A setting an executable reads from the environment, as its `--help` lists it: the variable and
/// what it does. Each configuration type lists the settings it reads next to the code that reads
/// them; `ExecutableTests.helpListsTheSettingsRead` holds the lists to the reads.
public struct ConfigSetting: Sendable, Hashable {
    /// The environment variable (`TIERDESK_PORT`).
    public var name: String
    public var help: String

    /// A setting by its dotted key (`tierdesk.port`) or its environment variable.
    public init(_ key: String, _ help: String) {
        name = key.contains(".") ? TierdeskConfiguration.environmentName(key) : key
        self.help = help
    }

    /// The block `--help` shows: each variable, then its text indented below it.
    public static func help(_ settings: [ConfigSetting]) -> String {
        (["Configured by environment variables:"] + settings.map { "  \($0.name)\n      \($0.help)" }).joined(separator: "\n")
    }
}

extension TierdeskConfiguration {
    /// What `init(reader:serviceName:defaultPort:keys:)` reads; `TIERDESK_SECRET` only for a service
    /// that derives keys from it.
    public static func settings(defaultPort: Int, keys purposes: Set<KeyPurpose>) -> [ConfigSetting] {
        var settings = [
            ConfigSetting("tierdesk.host", "address to listen on (default 127.0.0.1; 0.0.0.0 in containers)"),
            ConfigSetting("tierdesk.port", "port to listen on (default \(defaultPort))"),
        ]
        settings += TierdeskConfiguration.databaseSettings
        settings.append(ConfigSetting("tierdesk.database.pool.size", "PostgreSQL connections per replica (default 8)"))
        settings += ConfigSetting.secret(
            "tierdesk.admin.token", "the bootstrap token, at least 16 characters: opens only POST /v1/bootstrap, the first administrator (unset: off)")
        settings += ConfigSetting.secret("tierdesk.internal.token", "the token services use with each other, at least 16 characters (required)")
        if !purposes.isEmpty {
            let names = purposes.map(\.name).sorted().joined(separator: ", ")
            settings += ConfigSetting.secret(
                "tierdesk.secret", "server secret, at least 16 characters (required); this service derives its \(names) keys from it")
        }
        settings += [
            ConfigSetting("tierdesk.trusted.proxies", "addresses or CIDR ranges whose X-Forwarded-For names the client (default none)"),
            ConfigSetting(
                "tierdesk.auth.failures.per.minute",
                "failed authentications a minute per client address (IPv6: per /64) before its unknown tokens get 429 (default 30)"),
            ConfigSetting("tierdesk.agent.rate.limit.per.minute", "requests a minute per agent token, per replica (default 6000)"),
            ConfigSetting("tierdesk.vendor.rate.limit.per.minute", "requests a minute per vendor key, per replica (default 600)"),
            ConfigSetting("tierdesk.request.timeout.ms", "longest a request may take before it is answered 503 with Retry-After (default 10000)"),
        ]
        settings += PeerDirectory.settings
        settings += [
            ConfigSetting("tierdesk.outbox.batch.size", "events per delivery and per receiving transaction (default 100)"),
            ConfigSetting("tierdesk.outbox.workers", "delivery passes in flight per replica (default 2; 0: this replica leaves delivery to others)"),
            ConfigSetting("tierdesk.outbox.poll.ms", "how often a replica looks for hand-offs other replicas wrote (default 200)"),
            ConfigSetting("tierdesk.outbox.max.backoff.ms", "longest wait between delivery attempts (default 60000)"),
            ConfigSetting("tierdesk.outbox.max.attempts", "attempts before a hand-off is dead-lettered (default 25)"),
            ConfigSetting("tierdesk.outbox.lease.ms", "how long claimed hand-offs (and leased mail) stay invisible to other replicas (default 30000)"),
            ConfigSetting("tierdesk.log.level", "trace, debug, info (default), notice, warning, error"),
        ]
        return settings
    }
}

extension PeerDirectory {
    /// The peers' URLs, as `init(reader:)` reads them.
    public static let settings =
        [
            ConfigSetting("tierdesk.intake.url", "intake's base URL (default http://127.0.0.1:8080)"),
            ConfigSetting("tierdesk.triage.url", "triage's base URL (default http://127.0.0.1:8081)"),
            ConfigSetting("tierdesk.tier.queue.url", "tier-queue's base URL (default http://127.0.0.1:8082)"),
            ConfigSetting("tierdesk.vendor.bridge.url", "vendor-bridge's base URL (default http://127.0.0.1:8083)"),
        ]
        + Tier.agentTiers.map {
            ConfigSetting("tierdesk.tier\($0.rawValue).queue.url", "level \($0.rawValue)'s tier-queue, where levels run apart (default the tier-queue URL)")
        }
}

extension TierdeskLogging {
    /// What `bootstrap(environment:)` reads.
    public static let settings = [
        ConfigSetting("tierdesk.log.level", "trace, debug, info (default), notice, warning, error"),
        ConfigSetting("tierdesk.log.format", "json for one JSON object per line; text otherwise"),
    ]
}
