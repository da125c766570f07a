import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Synchronization
import TierdeskModels

/// The secrets and token kinds a service's authenticator knows. Each service is given only the
/// secrets it uses: no mail gateway token outside intake, no server secret where no requester
/// token is read.
public struct AuthSettings: Sendable {
    public var adminToken: String
    public var internalToken: String
    /// The mail gateway's token (intake); nil: no caller is the mail gateway.
    public var mailGatewayToken: String?
    /// The server secret that derives requester tokens; nil: requester tokens are refused.
    public var secret: String?
    /// Whether integration keys (`tdi_`) are looked up (intake).
    public var integrations: Bool

    public init(adminToken: String, internalToken: String, mailGatewayToken: String? = nil, secret: String? = nil, integrations: Bool = false) {
        self.adminToken = adminToken
        self.internalToken = internalToken
        self.mailGatewayToken = mailGatewayToken
        self.secret = secret
        self.integrations = integrations
    }
}

/// Checks tokens: the configured admin, internal and mail gateway tokens; requester tokens (derived,
/// checked against the ticket's current generation); agents', vendors' and integrations' hashed
/// tokens. A malformed token is refused before any query. Every answer from the database, found or
/// not, is remembered for `cacheLifetime`, so a busy agent costs one lookup per 5 s and a flood of
/// bogus tokens costs one each; a deactivated, rotated or revoked token stops working on every
/// replica within that time.
public struct Authenticator: Sendable {
    let settings: AuthSettings
    let client: PostgresClient
    let principals = TimedCache<Data, Principal?>()
    let generations = TimedCache<UUID, Int>()
    public static let cacheLifetime: Duration = .seconds(5)

    public init(settings: AuthSettings, client: PostgresClient) {
        self.settings = settings
        self.client = client
    }

    /// The principal of a bearer token, or 401.
    public func principal(for token: String, logger: Logger) async throws -> Principal {
        if Secrets.equal(token, settings.adminToken) { return .admin }
        if Secrets.equal(token, settings.internalToken) { return .internal }
        if let mail = settings.mailGatewayToken, Secrets.equal(token, mail) { return .mailGateway }
        if token.hasPrefix(Secrets.Kind.requester.rawValue) { return try await requester(token, logger: logger) }
        let kinds: [Secrets.Kind] = settings.integrations ? [.agent, .vendorKey, .integration] : [.agent, .vendorKey]
        guard let kind = kinds.first(where: { Secrets.isWellFormed(token, $0) }) else { throw Problem.unauthorized }
        let hash = Secrets.hash(token)
        let known: Principal?
        if let cached = principals.value(for: hash) {
            known = cached
        } else {
            known = try await lookUp(kind, hash: hash, logger: logger)
            principals.remember(known, for: hash, lifetime: Self.cacheLifetime)
        }
        guard let known else { throw Problem.unauthorized }
        return known
    }

    /// A requester token opens the ticket it names while it is of the ticket's current generation.
    /// A token that does not match a remembered generation is checked against the database once
    /// more, so the token the admin just issued works at once.
    func requester(_ token: String, logger: Logger) async throws -> Principal {
        guard let secret = settings.secret, let ticketID = Secrets.requesterTicket(token) else { throw Problem.unauthorized }
        if let cached = generations.value(for: ticketID), Secrets.verifyRequesterToken(token, ticketID: ticketID, generation: cached, secret: secret) {
            return .requester(ticketID: ticketID)
        }
        let generation = try await generation(of: ticketID, logger: logger)
        guard Secrets.verifyRequesterToken(token, ticketID: ticketID, generation: generation, secret: secret) else { throw Problem.unauthorized }
        return .requester(ticketID: ticketID)
    }

    /// The generation of a ticket's requester token as the database has it now: 0 until the admin
    /// revokes one (intake's `requester_token_generations`, read here for authentication only).
    func generation(of ticketID: UUID, logger: Logger) async throws -> Int {
        let rows = try await client.query("SELECT generation FROM requester_token_generations WHERE ticket_id = \(ticketID)", logger: logger)
        var generation = 0
        for try await value in rows.decode(Int32.self) { generation = Int(value) }
        generations.remember(generation, for: ticketID, lifetime: Self.cacheLifetime)
        return generation
    }

    /// Agents, vendors and integrations are read here for authentication only; tier-queue,
    /// vendor-bridge and intake alone write them.
    func lookUp(_ kind: Secrets.Kind, hash: Data, logger: Logger) async throws -> Principal? {
        switch kind {
        case .agent:
            let rows = try await client.query(
                "SELECT id, tiers, skills, wip_limit FROM agents WHERE token_hash = \(hash) AND active", logger: logger)
            for try await (id, tiers, skills, wipLimit) in rows.decode((UUID, [Int16], [String], Int32).self) {
                return .agent(AgentIdentity(id: id, tiers: Set(tiers.compactMap { Tier(rawValue: Int($0)) }), skills: skills, wipLimit: Int(wipLimit)))
            }
        case .vendorKey:
            // A key rotated with an overlap keeps working until its time is up.
            let rows = try await client.query(
                """
                SELECT id FROM vendors WHERE api_key_hash = \(hash) AND active
                UNION ALL
                SELECT id FROM vendors WHERE previous_api_key_hash = \(hash) AND previous_api_key_until > now() AND active
                LIMIT 1
                """, logger: logger)
            for try await id in rows.decode(UUID.self) { return .vendor(id: id) }
        case .integration:
            let rows = try await client.query(
                "SELECT id, name, channels, rate_per_minute FROM integrations WHERE key_hash = \(hash) AND revoked_at IS NULL", logger: logger)
            for try await (id, name, channels, rate) in rows.decode((UUID, String, [String], Int32).self) {
                return .integration(
                    IntegrationIdentity(id: id, name: name, channels: Set(channels.compactMap(Channel.init(rawValue:))), ratePerMinute: Int(rate)))
            }
        case .requester, .webhookSecret:
            break
        }
        return nil
    }
}

/// Values by key, each for a short time; bounded in size (expired entries are dropped when full,
/// and nothing new is kept while it is full of live ones).
public final class TimedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public init() {}

    private let entries = Mutex<[Key: (value: Value, expires: ContinuousClock.Instant)]>([:])
    private static var maxEntries: Int { 10_000 }

    public func value(for key: Key) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.expires > .now else { return nil }
            return entry.value
        }
    }

    public func remember(_ value: Value, for key: Key, lifetime: Duration) {
        entries.withLock { entries in
            if entries.count >= Self.maxEntries { entries = entries.filter { $0.value.expires > .now } }
            if entries.count < Self.maxEntries { entries[key] = (value, .now + lifetime) }
        }
    }
}
