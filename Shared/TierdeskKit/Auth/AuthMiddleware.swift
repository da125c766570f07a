import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Synchronization
import TierdeskModels

/// Resolves `Authorization: Bearer <token>` into a `Principal`. No header leaves the caller
/// anonymous (routes decide); a token that matches nothing is 401 at once.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let authenticator: Authenticator

    public init(authenticator: Authenticator) { self.authenticator = authenticator }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw Problem.unauthorized }
        var context = context
        context.principal = try await authenticator.principal(for: String(parts[1]), logger: context.logger)
        return try await next(request, context)
    }
}

/// Checks tokens: the configured admin and internal tokens, agents' and vendors' hashed tokens.
/// A token found in the database is remembered for `cacheLifetime`, so an agent's requests do not
/// each cost a lookup; a deactivated agent or vendor is refused within that time.
public struct Authenticator: Sendable {
    let adminToken: String
    let internalToken: String
    let client: PostgresClient
    let cache = PrincipalCache()
    public static let cacheLifetime: Duration = .seconds(5)

    public init(adminToken: String, internalToken: String, client: PostgresClient) {
        self.adminToken = adminToken
        self.internalToken = internalToken
        self.client = client
    }

    public func principal(for token: String, logger: Logger) async throws -> Principal {
        if Secrets.equal(token, adminToken) { return .admin }
        if Secrets.equal(token, internalToken) { return .internal }
        if token.hasPrefix(Secrets.Kind.requester.rawValue) { return .requester(token: token) }
        let hash = Secrets.hash(token)
        if let known = cache.principal(for: hash) { return known }
        let principal = try await lookUp(token, hash: hash, logger: logger)
        cache.remember(principal, for: hash, lifetime: Self.cacheLifetime)
        return principal
    }

    func lookUp(_ token: String, hash: Data, logger: Logger) async throws -> Principal {
        // Agents and vendors are read here for authentication only; tier-queue and vendor-bridge
        // alone write them.
        if token.hasPrefix(Secrets.Kind.agent.rawValue) {
            let rows = try await client.query(
                "SELECT id, tiers, skills, wip_limit FROM agents WHERE token_hash = \(hash) AND active", logger: logger)
            for try await (id, tiers, skills, wipLimit) in rows.decode((UUID, [Int16], [String], Int32).self) {
                return .agent(AgentIdentity(id: id, tiers: Set(tiers.compactMap { Tier(rawValue: Int($0)) }), skills: skills, wipLimit: Int(wipLimit)))
            }
        } else if token.hasPrefix(Secrets.Kind.vendorKey.rawValue) {
            let rows = try await client.query("SELECT id FROM vendors WHERE api_key_hash = \(hash) AND active", logger: logger)
            for try await id in rows.decode(UUID.self) { return .vendor(id: id) }
        }
        throw Problem.unauthorized
    }
}

/// Principals by token hash, each for a short time; bounded in size.
final class PrincipalCache: Sendable {
    private let entries = Mutex<[Data: (principal: Principal, expires: ContinuousClock.Instant)]>([:])
    private static let maxEntries = 10_000

    func principal(for hash: Data) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[hash], entry.expires > .now else { return nil }
            return entry.principal
        }
    }

    func remember(_ principal: Principal, for hash: Data, lifetime: Duration) {
        entries.withLock { entries in
            if entries.count >= Self.maxEntries { entries = entries.filter { $0.value.expires > .now } }
            if entries.count < Self.maxEntries { entries[hash] = (principal, .now + lifetime) }
        }
    }
}
