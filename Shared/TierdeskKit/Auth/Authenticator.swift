import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Synchronization
import TierdeskModels

/// The secrets and token kinds a service's authenticator knows. Each service is given only what it
/// uses: no mail gateway token outside intake, no requester-token key where no requester token is
/// read. Tokens that are only ever checked (bootstrap, internal, mail gateway) are held as SHA-256 digests.
public struct AuthSettings: Sendable {
    /// The bootstrap token's digest (`TIERDESK_ADMIN_TOKEN`); nil: switched off.
    public var bootstrapTokenDigest: Data?
    public var internalTokenDigest: Data
    /// The mail gateway token's digest (intake); nil: no caller is the mail gateway.
    public var mailGatewayTokenDigest: Data?
    /// The key that verifies requester tokens; nil: requester tokens are refused.
    public var requesterTokens: RequesterTokenKey?
    /// Whether integration keys (`tdi_`) and signed-in requesters' sessions (`tdp_`) are looked up (intake).
    public var integrations: Bool

    public init(
        bootstrapTokenDigest: Data?, internalToken: String, mailGatewayToken: String? = nil, requesterTokens: RequesterTokenKey? = nil,
        integrations: Bool = false
    ) {
        self.bootstrapTokenDigest = bootstrapTokenDigest
        internalTokenDigest = Secrets.digest(internalToken)
        mailGatewayTokenDigest = mailGatewayToken.map(Secrets.digest)
        self.requesterTokens = requesterTokens
        self.integrations = integrations
    }

    public init(
        bootstrapToken: String?, internalToken: String, mailGatewayToken: String? = nil, requesterTokens: RequesterTokenKey? = nil,
        integrations: Bool = false
    ) {
        self.init(
            bootstrapTokenDigest: bootstrapToken.map(Secrets.digest), internalToken: internalToken, mailGatewayToken: mailGatewayToken,
            requesterTokens: requesterTokens, integrations: integrations)
    }
}

/// A token that would need a database lookup, from a client address whose failed authentications
/// are over their limit: refused (429) without the lookup.
public struct LookupRefused: Error {}

/// Checks tokens: the configured bootstrap, internal and mail gateway tokens; requester tokens (derived,
/// checked against the ticket's current generation); staff people's, vendors' and integrations' hashed
/// tokens. A malformed token is refused before any query. Every answer from the database, found or
/// not, is remembered for `cacheLifetime`, so a busy agent costs one lookup per 5 s and a flood of
/// bogus tokens costs one each; a deactivated, rotated or revoked token stops working on every
/// replica within that time. Tokens found valid are also remembered (by hash) for `knownLifetime`:
/// when a client address is throttled for failed attempts, only those are still looked up.
public struct Authenticator: Sendable {
    let settings: AuthSettings
    let client: PostgresClient
    let principals: TimedCache<Data, Principal?>
    let generations: TimedCache<UUID, Int>
    let known: TimedCache<Data, Bool>
    let clock: any WallClock
    public static let cacheLifetime: Duration = .seconds(5)
    /// How long a token found valid may still be looked up from a throttled address.
    public static let knownLifetime: Duration = .seconds(3600)

    /// The caches expire by `clock` (the service's).
    public init(settings: AuthSettings, client: PostgresClient, clock: any WallClock = SystemClock()) {
        self.settings = settings
        self.client = client
        self.clock = clock
        principals = TimedCache(clock: clock)
        generations = TimedCache(clock: clock)
        known = TimedCache(clock: clock)
    }

    /// The principal of a bearer token, or 401. With `mayLookUp` false (a throttled address), a
    /// token that needs the database and was not found valid lately throws `LookupRefused` instead.
    public func principal(for token: String, mayLookUp: Bool = true, logger: Logger) async throws -> Principal {
        if let bootstrap = settings.bootstrapTokenDigest, Secrets.matches(token, digest: bootstrap) { return .bootstrap }
        if Secrets.matches(token, digest: settings.internalTokenDigest) { return .internal }
        if let mail = settings.mailGatewayTokenDigest, Secrets.matches(token, digest: mail) { return .mailGateway }
        let hash = Secrets.hash(token)
        let mayLookUp = mayLookUp || known.value(for: hash) == true
        if token.hasPrefix(Secrets.Kind.requester.rawValue) {
            let principal = try await requester(token, mayLookUp: mayLookUp, logger: logger)
            known.remember(true, for: hash, lifetime: Self.knownLifetime)
            return principal
        }
        let kinds: [Secrets.Kind] = settings.integrations ? [.agent, .vendorKey, .integration, .requesterSession] : [.agent, .vendorKey]
        guard let kind = kinds.first(where: { Secrets.isWellFormed(token, $0) }) else { throw Problem.unauthorized }
        let found: Principal?
        if let cached = principals.value(for: hash) {
            found = cached
        } else {
            guard mayLookUp else { throw LookupRefused() }
            found = try await lookUp(kind, hash: hash, logger: logger)
            principals.remember(found, for: hash, lifetime: Self.cacheLifetime)
        }
        guard let found else { throw Problem.unauthorized }
        known.remember(true, for: hash, lifetime: Self.knownLifetime)
        return found
    }

    /// A requester token opens the ticket it names while it is of the ticket's current generation.
    /// A token that does not match a remembered generation is checked against the database once
    /// more, so the token the admin just issued works at once.
    func requester(_ token: String, mayLookUp: Bool, logger: Logger) async throws -> Principal {
        guard let key = settings.requesterTokens, let ticketID = Secrets.requesterTicket(token) else { throw Problem.unauthorized }
        if let cached = generations.value(for: ticketID), key.verify(token, ticketID: ticketID, generation: cached) {
            return .requester(ticketID: ticketID)
        }
        guard mayLookUp else { throw LookupRefused() }
        let generation = try await generation(of: ticketID, logger: logger)
        guard key.verify(token, ticketID: ticketID, generation: generation) else { throw Problem.unauthorized }
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

    /// Staff people's tokens, vendors, integrations and requesters' sessions are read here for
    /// authentication only; tier-queue, vendor-bridge and intake alone write them.
    func lookUp(_ kind: Secrets.Kind, hash: Data, logger: Logger) async throws -> Principal? {
        switch kind {
        case .agent:
            // A staff token works while it is not revoked or past its end and its person is active.
            let rows = try await client.query(
                """
                SELECT a.id, a.role, a.tiers, a.skills, a.wip_limit, t.scope FROM staff_tokens t JOIN agents a ON a.id = t.person_id
                WHERE t.token_hash = \(hash) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > \(clock.now())) AND a.active
                """, logger: logger)
            for try await (id, role, tiers, skills, wipLimit, scope) in rows.decode((UUID, String, [Int16], [String], Int32, String).self) {
                return Self.staff(
                    id: id, role: StaffRole(rawValue: role), tiers: Set(tiers.compactMap { Tier(rawValue: Int($0)) }), skills: skills,
                    wipLimit: Int(wipLimit), scope: TokenScope(rawValue: scope))
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
        case .requesterSession:
            let rows = try await client.query(
                "SELECT requester_id FROM requester_sessions WHERE token_hash = \(hash) AND expires_at > \(clock.now())", logger: logger)
            for try await id in rows.decode(UUID.self) { return .requesterAccount(requesterID: id) }
        case .requester, .webhookSecret:
            break
        }
        return nil
    }

    /// The principal of a staff person's token: what the role is, narrowed by the token's scope.
    static func staff(id: UUID, role: StaffRole?, tiers: Set<Tier>, skills: [String], wipLimit: Int, scope: TokenScope?) -> Principal? {
        guard let role, let scope, role.scopes.contains(scope) else { return nil }
        let readOnly = scope == .read
        switch role {
        case .agent, .lead:
            return .agent(AgentIdentity(id: id, tiers: tiers, skills: skills, wipLimit: wipLimit, isLead: role == .lead, readOnly: readOnly))
        case .admin: return .admin(StaffRef(id: id, readOnly: readOnly))
        case .auditor: return .auditor(StaffRef(id: id, readOnly: true))
        }
    }
}

/// Values by key, each for a short time by `clock` (tests move it to expire entries; a clock set back
/// expires them too, so no entry outlives its lifetime); bounded in size (expired entries are dropped
/// when full, and nothing new is kept while it is full of live ones).
public final class TimedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let clock: any WallClock

    public init(clock: any WallClock = SystemClock()) {
        self.clock = clock
    }

    private let entries = Mutex<[Key: (value: Value, stored: Date, expires: Date)]>([:])
    private static var maxEntries: Int { 10_000 }

    /// The value remembered for `key`, unless its lifetime is over.
    public func value(for key: Key) -> Value? {
        let now = clock.now()
        return entries.withLock { entries in
            guard let entry = entries[key], entry.stored <= now, now < entry.expires else { return nil }
            return entry.value
        }
    }

    /// Remembers `value` for `lifetime` from now.
    public func remember(_ value: Value, for key: Key, lifetime: Duration) {
        let now = clock.now()
        let expires = now.addingTimeInterval(lifetime.seconds)
        entries.withLock { entries in
            if entries.count >= Self.maxEntries { entries = entries.filter { $0.value.stored <= now && now < $0.value.expires } }
            if entries.count < Self.maxEntries { entries[key] = (value, now, expires) }
        }
    }
}
