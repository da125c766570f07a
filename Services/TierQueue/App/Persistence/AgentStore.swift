import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `agents`. Tokens are returned once and rest only as hashes.
public struct AgentStore: Sendable {
    public init() {}

    /// Creates an agent and its token; 409 when the email is taken.
    public func create(_ input: CreateAgentRequest, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Agent {
        let token = Secrets.newToken(.agent)
        let id = UUID()
        let tiers = Array(Set(input.tiers)).sorted().map { Int16($0) }
        let skills = Array(Set(input.skills ?? [])).sorted()
        let wipLimit = input.wipLimit ?? 5
        do {
            try await executor.execute(
                """
                INSERT INTO agents (id, name, email, tiers, skills, wip_limit, token_hash, created_at)
                VALUES (\(id), \(input.name), \(input.email.lowercased()), \(tiers), \(skills), \(Int32(wipLimit)), \(Secrets.hash(token)), \(now))
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw TierQueueError.duplicateAgent(email: input.email.lowercased())
        }
        return Agent(
            id: id, name: input.name, email: input.email.lowercased(), tiers: tiers.compactMap { Tier(rawValue: Int($0)) }, skills: skills,
            wipLimit: wipLimit, token: token)
    }

    /// Gives an existing agent (by email) a new token; nil when there is no such agent.
    public func rotateToken(email: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> String? {
        let token = Secrets.newToken(.agent)
        let updated = try await executor.first(
            "UPDATE agents SET token_hash = \(Secrets.hash(token)) WHERE email = \(email.lowercased()) RETURNING id", logger: logger
        ) { try $0.get("id", as: UUID.self) }
        return updated == nil ? nil : token
    }

    static let columns = "id, name, email, tiers, skills, wip_limit, active"

    /// Changes an agent's levels, skills, WIP limit or standing; nil when there is no such agent.
    public func update(_ id: UUID, with change: UpdateAgentRequest, on executor: some DatabaseExecutor, logger: Logger) async throws -> Agent? {
        let tiers = change.tiers.map { Array(Set($0)).sorted().map { Int16($0) } }
        let skills = change.skills.map { Array(Set($0)).sorted() }
        return try await executor.first(
            """
            UPDATE agents SET tiers = COALESCE(\(tiers), tiers), skills = COALESCE(\(skills), skills),
                wip_limit = COALESCE(\(change.wipLimit.map(Int32.init)), wip_limit), active = COALESCE(\(change.active), active)
            WHERE id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger, Agent.init(row:))
    }

    /// Gives an agent a new token (the old one stops working); the agent with it, or nil when there is no such agent.
    public func rotateToken(id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Agent? {
        let token = Secrets.newToken(.agent)
        var agent = try await executor.first(
            "UPDATE agents SET token_hash = \(Secrets.hash(token)) WHERE id = \(id) RETURNING \(unescaped: Self.columns)", logger: logger, Agent.init(row:))
        agent?.token = token
        return agent
    }

    /// One agent, active or not.
    public func find(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Agent? {
        try await executor.first("SELECT \(unescaped: Self.columns) FROM agents WHERE id = \(id)", logger: logger, Agent.init(row:))
    }

    /// Active agents by name, a page at a time (keyset on name and id; `cursor` is the last one's id).
    public func list(limit: Int, after cursor: UUID?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Agent> {
        let agents = try await executor.all(
            """
            SELECT \(unescaped: Self.columns) FROM agents
            WHERE active AND (\(cursor)::uuid IS NULL OR (name, id) > (SELECT c.name, c.id FROM agents c WHERE c.id = \(cursor)))
            ORDER BY name, id LIMIT \(limit + 1)
            """, logger: logger, Agent.init(row:))
        return Page(fetched: agents, limit: limit) { Cursor.encode([$0.id.uuidString]) }
    }

    /// Active agents by name as colleagues see them, those of `tier` only when given (keyset as `list`),
    /// with the tickets each works on now.
    public func colleagues(tier: Tier?, limit: Int, after cursor: UUID?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Colleague> {
        let tier = tier.map { Int16($0.rawValue) }
        let colleagues = try await executor.all(
            """
            SELECT a.id, a.name, a.tiers, a.skills, a.wip_limit,
                (SELECT count(*) FROM tickets t WHERE t.assignee_id = a.id AND t.status = 'in_progress')::int AS working
            FROM agents a
            WHERE a.active AND (\(tier)::smallint IS NULL OR \(tier)::smallint = ANY (a.tiers))
                AND (\(cursor)::uuid IS NULL OR (a.name, a.id) > (SELECT c.name, c.id FROM agents c WHERE c.id = \(cursor)))
            ORDER BY a.name, a.id LIMIT \(limit + 1)
            """, logger: logger
        ) { row in
            Colleague(
                id: try row.get("id"), name: try row.get("name"), tiers: try row.get("tiers", as: [Int16].self).compactMap { Tier(rawValue: Int($0)) },
                skills: try row.get("skills"), wipLimit: Int(try row.get("wip_limit", as: Int32.self)), working: Int(try row.get("working", as: Int32.self)))
        }
        return Page(fetched: colleagues, limit: limit) { Cursor.encode([$0.id.uuidString]) }
    }

    /// Parses a cursor of `list` and `colleagues`.
    public static func cursor(_ text: String) -> UUID? {
        Cursor.decode(text, count: 1).flatMap { UUID(uuidString: $0[0]) }
    }
}

extension Agent {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), name: try row.get("name"), email: try row.get("email"),
            tiers: try row.get("tiers", as: [Int16].self).compactMap { Tier(rawValue: Int($0)) }, skills: try row.get("skills"),
            wipLimit: Int(try row.get("wip_limit", as: Int32.self)), active: try row.get("active"))
    }
}
