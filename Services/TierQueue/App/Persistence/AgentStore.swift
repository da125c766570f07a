import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `agents`, the staff people (agents, team leads, administrators, auditors).
/// Their credentials are `StaffTokenStore`'s.
public struct AgentStore: Sendable {
    let tokens = StaffTokenStore()

    public init() {}

    /// Creates a staff person and a first personal token of their role's widest scope (no expiry),
    /// in the caller's transaction; 409 when the email is taken.
    public func create(_ input: CreateAgentRequest, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Agent {
        let id = UUID()
        let role = input.role ?? .agent
        let tiers = Array(Set(input.tiers)).sorted().map { Int16($0) }
        let skills = Array(Set(input.skills ?? [])).sorted()
        let wipLimit = input.wipLimit ?? 5
        do {
            try await connection.execute(
                """
                INSERT INTO agents (id, name, email, tiers, skills, wip_limit, role, created_at)
                VALUES (\(id), \(input.name), \(input.email.lowercased()), \(tiers), \(skills), \(Int32(wipLimit)), \(role.rawValue), \(now))
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw TierQueueError.duplicateAgent(email: input.email.lowercased())
        }
        let token = try await tokens.issue(
            personID: id, kind: .personal, name: "first token", scope: role.widestScope, expiresAt: nil, on: connection, now: now, logger: logger)
        return Agent(
            id: id, name: input.name, email: input.email.lowercased(), tiers: tiers.compactMap { Tier(rawValue: Int($0)) }, skills: skills,
            wipLimit: wipLimit, role: role, token: token)
    }

    static let columns = "id, name, email, tiers, skills, wip_limit, role, active"

    /// Changes a person's levels, skills, WIP limit, role or standing; nil when there is no such
    /// person. Levels that do not fit the role (an administrator with a level) are 422.
    public func update(_ id: UUID, with change: UpdateAgentRequest, on executor: some DatabaseExecutor, logger: Logger) async throws -> Agent? {
        // An administrator or auditor works no level.
        let tiers = change.role == .admin || change.role == .auditor ? [] : change.tiers.map { Array(Set($0)).sorted().map { Int16($0) } }
        let skills = change.skills.map { Array(Set($0)).sorted() }
        do {
            return try await executor.first(
                """
                UPDATE agents SET tiers = COALESCE(\(tiers), tiers), skills = COALESCE(\(skills), skills),
                    wip_limit = COALESCE(\(change.wipLimit.map(Int32.init)), wip_limit), active = COALESCE(\(change.active), active),
                    role = COALESCE(\(change.role?.rawValue), role)
                WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                """, logger: logger, Agent.init(row:))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23514" {
            throw Problem.validation([FieldError(field: "tiers", message: "agents and team leads work at least one level, administrators and auditors none")])
        }
    }

    /// New credentials: every token and session of the person is revoked and a new first token
    /// issued (in the caller's transaction); the person with it, or nil when there is no such person.
    public func rotateToken(id: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Agent? {
        guard var agent = try await find(id, on: connection, logger: logger) else { return nil }
        try await tokens.revokeAll(personID: id, on: connection, now: now, logger: logger)
        agent.token = try await tokens.issue(
            personID: id, kind: .personal, name: "first token", scope: agent.role.widestScope, expiresAt: nil, on: connection, now: now, logger: logger)
        return agent
    }

    /// Whether an active administrator exists (the bootstrap token creates one only while none does).
    public func hasActiveAdministrator(on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first("SELECT 1 AS one FROM agents WHERE role = 'admin' AND active LIMIT 1", logger: logger) { _ in true } ?? false
    }

    /// The id of the person with `email`, active or not.
    public func id(email: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> UUID? {
        try await executor.first("SELECT id FROM agents WHERE email = \(email.lowercased())", logger: logger) { try $0.get("id", as: UUID.self) }
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

    /// Active agents and team leads by name as colleagues see them, those of `tier` only when given (keyset as `list`),
    /// with the tickets each works on now.
    public func colleagues(tier: Tier?, limit: Int, after cursor: UUID?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Colleague> {
        let tier = tier.map { Int16($0.rawValue) }
        let colleagues = try await executor.all(
            """
            SELECT a.id, a.name, a.tiers, a.skills, a.wip_limit,
                (SELECT count(*) FROM tickets t WHERE t.assignee_id = a.id AND t.status = 'in_progress')::int AS working
            FROM agents a
            WHERE a.active AND a.role IN ('agent', 'lead') AND (\(tier)::smallint IS NULL OR \(tier)::smallint = ANY (a.tiers))
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
            wipLimit: Int(try row.get("wip_limit", as: Int32.self)), role: StaffRole(rawValue: try row.get("role")) ?? .agent,
            active: try row.get("active"))
    }
}
