import Foundation
import Hummingbird
import Logging
import PostgresNIO
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
public struct Authenticator: Sendable {
    let adminToken: String
    let internalToken: String
    let client: PostgresClient

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
