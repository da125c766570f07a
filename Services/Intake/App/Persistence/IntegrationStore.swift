import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `integrations`: keys for monitoring systems and portals that submit tickets.
/// A key is shown once and rests only as its SHA-256 hash.
public struct IntegrationStore: Sendable {
    public init() {}

    static let columns = "id, name, channels, rate_per_minute, created_at, revoked_at, expires_at"

    /// Creates an integration and its key; 409 when the name is taken.
    public func create(_ input: CreateIntegrationRequest, defaultRate: Int, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws
        -> Integration
    {
        let key = Secrets.newToken(.integration)
        let channels = Array(Set(input.channels.map(\.rawValue))).sorted()
        let rate = input.ratePerMinute ?? defaultRate
        do {
            let created = try await executor.first(
                """
                INSERT INTO integrations (id, name, key_hash, channels, rate_per_minute, created_at, expires_at)
                VALUES (\(UUID()), \(input.name), \(Secrets.hash(key)), \(channels), \(Int32(rate)), \(now), \(input.expiresAt))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger, Integration.init(row:))
            guard var created else { throw IntakeError.concurrentChange("the integration could not be stored; retry") }
            created.key = key
            return created
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw IntakeError.duplicateIntegration(name: input.name)
        }
    }

    /// Revokes an integration's key (its tickets keep naming it); false when there is no active one with that id.
    public func revoke(_ id: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        try await executor.first(
            "UPDATE integrations SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: logger
        ) { try $0.get("id", as: UUID.self) } != nil
    }

    /// Integrations by name, a page at a time (revoked ones too, marked inactive).
    public func list(limit: Int, after cursor: NameCursor?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Integration> {
        let items = try await executor.all(
            """
            SELECT \(unescaped: Self.columns) FROM integrations
            WHERE (name, id) > (\(cursor?.name ?? ""), \(cursor?.id ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))))
            ORDER BY name, id LIMIT \(limit + 1)
            """, logger: logger, Integration.init(row:))
        return Page(fetched: items, limit: limit) { NameCursor(name: $0.name, id: $0.id).encoded }
    }
}

/// Where a page ordered by name ends.
public struct NameCursor: Sendable, Equatable {
    public var name: String
    public var id: UUID

    public var encoded: String { Cursor.encode([name, id.uuidString]) }

    public init(name: String, id: UUID) {
        self.name = name
        self.id = id
    }

    public init?(encoded: String) {
        guard let parts = Cursor.decode(encoded, count: 2), let id = UUID(uuidString: parts[1]) else { return nil }
        self.init(name: parts[0], id: id)
    }
}

extension Integration {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), name: try row.get("name"), channels: try row.get("channels", as: [String].self).compactMap(Channel.init(rawValue:)),
            ratePerMinute: Int(try row.get("rate_per_minute", as: Int32.self)), active: try row.get("revoked_at", as: Date?.self) == nil,
            createdAt: try row.get("created_at"), expiresAt: try row.get("expires_at"))
    }
}

/// The only writer of `requester_token_generations`: the admin's revocation of a ticket's requester token.
public struct RequesterTokenStore: Sendable {
    let key: RequesterTokenKey

    public init(key: RequesterTokenKey) { self.key = key }

    /// Revokes every requester token of the ticket issued so far and answers the new one; nil when
    /// there is no such ticket. Other replicas stop accepting the old token within the auth cache's 5 s.
    public func rotate(ticketID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> String? {
        let generation = try await connection.first(
            """
            INSERT INTO requester_token_generations (ticket_id, generation, revoked_at)
            SELECT id, 1, \(now) FROM tickets WHERE id = \(ticketID)
            ON CONFLICT (ticket_id) DO UPDATE SET generation = requester_token_generations.generation + 1, revoked_at = EXCLUDED.revoked_at
            RETURNING generation
            """, logger: logger
        ) { Int(try $0.get("generation", as: Int32.self)) }
        return generation.map { key.token(ticketID: ticketID, generation: $0) }
    }
}
