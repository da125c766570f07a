import Configuration
import Foundation
import TierdeskModels

/// What every service reads at start-up. Keys are dotted; the environment name follows the key
/// (`tierdesk.database.url` ↔ `TIERDESK_DATABASE_URL`). A missing or malformed value stops start-up
/// and names itself.
public struct TierdeskConfiguration: Sendable {
    public var serviceName: String
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var databasePoolSize: Int
    /// The SHA-256 digest of the bootstrap token (`TIERDESK_ADMIN_TOKEN`), which only creates the
    /// first administrator; nil when it is switched off (unset). Services only check it, never hold it.
    public var bootstrapTokenDigest: Data?
    /// The token this service sends to its peers (and checks from them).
    public var internalToken: String
    /// The keys derived from the server secret (`TIERDESK_SECRET`) for the purposes this service
    /// uses; the secret itself is read only where some key is needed, and not kept.
    public var keys: ServiceKeys
    /// Proxies whose `X-Forwarded-For` names the client (`TIERDESK_TRUSTED_PROXIES`, CIDR list).
    public var clientAddress: ClientAddress
    /// Failed authentications a minute one client address may make before its unknown tokens are
    /// refused with 429 without a lookup (a valid token it used lately still works).
    public var authFailuresPerMinute: Int
    /// Requests a minute per agent (`TIERDESK_AGENT_RATE_LIMIT_PER_MINUTE`, default 6000) and per
    /// vendor key (`TIERDESK_VENDOR_RATE_LIMIT_PER_MINUTE`, default 600), per replica; an integration
    /// key's own `ratePerMinute` limits it.
    public var principalLimits: PrincipalRateLimits
    /// How long a request may take before it is cancelled and answered 503 with `Retry-After`.
    public var requestTimeout: Duration
    public var peers: PeerDirectory
    public var outbox: OutboxSettings
    public var logLevel: String

    /// Reads the shared settings; `keys` names the purposes this service derives keys for from
    /// `TIERDESK_SECRET` (required then, ignored otherwise).
    public init(reader: ConfigReader, serviceName: String, defaultPort: Int, keys purposes: Set<KeyPurpose> = []) throws(ConfigurationError) {
        self.serviceName = serviceName
        host = reader.string(forKey: "tierdesk.host", default: "127.0.0.1")
        port = try Self.int(reader, "tierdesk.port", default: defaultPort, range: 1...65535)
        databaseURL = try Self.databaseURL(reader)
        databasePoolSize = try Self.int(reader, "tierdesk.database.pool.size", default: 8, range: 1...200)
        bootstrapTokenDigest = try Self.optional(reader, "tierdesk.admin.token", minLength: 16).map(Secrets.digest)
        internalToken = try Self.required(reader, "tierdesk.internal.token", secret: true, minLength: 16)
        if purposes.isEmpty {
            keys = .none
        } else {
            keys = ServiceKeys(secret: try Self.required(reader, "tierdesk.secret", secret: true, minLength: 16), purposes: purposes)
        }
        switch ClientAddress.parse(reader.string(forKey: "tierdesk.trusted.proxies", default: "")) {
        case .success(let ranges): clientAddress = ClientAddress(trustedProxies: ranges)
        case .failure(let failure):
            throw ConfigurationError(key: "tierdesk.trusted.proxies", problem: "must list addresses or CIDR ranges; '\(failure.entry)' is neither")
        }
        authFailuresPerMinute = try Self.int(reader, "tierdesk.auth.failures.per.minute", default: 30, range: 1...1_000_000)
        principalLimits = PrincipalRateLimits(
            agentPerMinute: try Self.int(reader, "tierdesk.agent.rate.limit.per.minute", default: 6000, range: 1...1_000_000),
            vendorPerMinute: try Self.int(reader, "tierdesk.vendor.rate.limit.per.minute", default: 600, range: 1...1_000_000))
        requestTimeout = .milliseconds(try Self.int(reader, "tierdesk.request.timeout.ms", default: 10_000, range: 100...600_000))
        peers = try PeerDirectory(reader: reader)
        outbox = OutboxSettings(
            batchSize: try Self.int(reader, "tierdesk.outbox.batch.size", default: 100, range: 1...1000),
            workers: try Self.int(reader, "tierdesk.outbox.workers", default: 2, range: 0...16),
            pollInterval: .milliseconds(try Self.int(reader, "tierdesk.outbox.poll.ms", default: 200, range: 10...3_600_000)),
            maxBackoff: .milliseconds(try Self.int(reader, "tierdesk.outbox.max.backoff.ms", default: 60_000, range: 10...3_600_000)),
            maxAttempts: try Self.int(reader, "tierdesk.outbox.max.attempts", default: 25, range: 1...1000),
            lease: .milliseconds(try Self.int(reader, "tierdesk.outbox.lease.ms", default: 30_000, range: 1000...3_600_000))
        )
        logLevel = reader.string(forKey: "tierdesk.log.level", default: "info")
    }

    /// The environment variable that carries a dotted key.
    public static func environmentName(_ key: String) -> String {
        key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// A required value of at least `minLength` characters; a `secret` one may also come from the
    /// file its `_FILE` form names (`secret(_:_:)`).
    public static func required(_ reader: ConfigReader, _ key: String, secret: Bool = false, minLength: Int = 1) throws(ConfigurationError) -> String {
        let value = secret ? try Self.secret(reader, key) : reader.string(forKey: ConfigKey(key))
        guard let value, !value.isEmpty else {
            throw ConfigurationError(key: key, problem: secret ? "is required (or \(environmentName(key))_FILE)" : "is required")
        }
        guard value.count >= minLength else { throw ConfigurationError(key: key, problem: "must be at least \(minLength) characters") }
        return value
    }

    /// An optional secret (or its `_FILE` form): nil when unset or empty, else at least `minLength` characters.
    public static func optional(_ reader: ConfigReader, _ key: String, minLength: Int) throws(ConfigurationError) -> String? {
        guard let value = try secret(reader, key) else { return nil }
        guard value.count >= minLength else { throw ConfigurationError(key: key, problem: "must be at least \(minLength) characters") }
        return value
    }

    /// An http(s) URL, without a trailing slash; `default` when unset.
    public static func url(_ reader: ConfigReader, _ key: String, default value: String) throws(ConfigurationError) -> String {
        try PeerDirectory.url(reader.string(forKey: ConfigKey(key), default: value), key: key)
    }

    public static func int(_ reader: ConfigReader, _ key: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = reader.string(forKey: ConfigKey(key)) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(key: key, problem: "must be a whole number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
        }
        return number
    }
}

/// Requests a minute per authenticated principal (per replica), beside the per-address limits of
/// anonymous callers. Defaults leave room for an agent's tool and the benchmark's 32 agents claiming
/// thousands of tickets a second (bench/), while one stolen or runaway key cannot flood a service.
public struct PrincipalRateLimits: Sendable {
    public var agentPerMinute: Int
    public var vendorPerMinute: Int

    public init(agentPerMinute: Int = 6000, vendorPerMinute: Int = 600) {
        self.agentPerMinute = agentPerMinute
        self.vendorPerMinute = vendorPerMinute
    }
}

/// A configuration value that is missing or malformed; the message names the environment variable.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var key: String
    public var problem: String
    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }
    public var description: String { "\(TierdeskConfiguration.environmentName(key)) \(problem)" }
}

/// How the outbox dispatcher batches, wakes and retries.
public struct OutboxSettings: Sendable {
    /// Events per delivery (and per receiving transaction) at most.
    public var batchSize: Int
    /// Delivery passes in flight at once per replica (one batch answered while the next is claimed);
    /// 0: this replica writes hand-offs but leaves their delivery to others.
    public var workers: Int
    /// How often a replica looks for rows another replica wrote (its own writes ring it at once).
    public var pollInterval: Duration
    public var maxBackoff: Duration
    public var maxAttempts: Int
    /// How long a claimed row stays invisible to other replicas while it is being delivered.
    public var lease: Duration

    public init(
        batchSize: Int = 100, workers: Int = 2, pollInterval: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(60),
        maxAttempts: Int = 25, lease: Duration = .seconds(30)
    ) {
        self.workers = workers
        self.lease = lease
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.maxBackoff = maxBackoff
        self.maxAttempts = maxAttempts
    }
}

/// Where the peers are. An outbox row names its destination (`triage`, `tier-queue:2`); this
/// resolves it at delivery time, so a moved peer needs only new configuration.
public struct PeerDirectory: Sendable {
    public var urls: [String: String]

    public init(urls: [String: String]) { self.urls = urls }

    init(reader: ConfigReader) throws(ConfigurationError) {
        var urls: [String: String] = [:]
        let keys: [(String, String, String)] = [
            ("intake", "tierdesk.intake.url", "http://127.0.0.1:8080"),
            ("triage", "tierdesk.triage.url", "http://127.0.0.1:8081"),
            ("tier-queue", "tierdesk.tier.queue.url", "http://127.0.0.1:8082"),
            ("vendor-bridge", "tierdesk.vendor.bridge.url", "http://127.0.0.1:8083"),
        ]
        for (name, key, fallback) in keys {
            urls[name] = try Self.url(reader.string(forKey: ConfigKey(key), default: fallback), key: key)
        }
        for tier in Tier.agentTiers {
            let key = "tierdesk.tier\(tier.rawValue).queue.url"
            urls["tier-queue:\(tier.rawValue)"] =
                try reader.string(forKey: ConfigKey(key)).map { value throws(ConfigurationError) in try Self.url(value, key: key) } ?? urls["tier-queue"]
        }
        self.urls = urls
    }

    static func url(_ value: String, key: String) throws(ConfigurationError) -> String {
        guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError(key: key, problem: "must be an http(s) URL, not '\(value)'")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    /// The base URL of a destination, or nil when no peer of that name is configured.
    public func baseURL(for destination: String) -> String? { urls[destination] }
}
