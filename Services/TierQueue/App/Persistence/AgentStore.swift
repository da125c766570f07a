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
            throw Problem.conflict("an agent with this email exists", type: "duplicate")
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

    /// All agents, by name.
    public func list(on executor: some DatabaseExecutor, logger: Logger) async throws -> [Agent] {
        try await executor.all("SELECT id, name, email, tiers, skills, wip_limit FROM agents WHERE active ORDER BY name, id", logger: logger) { row in
            Agent(
                id: try row.get("id"), name: try row.get("name"), email: try row.get("email"),
                tiers: try row.get("tiers", as: [Int16].self).compactMap { Tier(rawValue: Int($0)) }, skills: try row.get("skills"),
                wipLimit: Int(try row.get("wip_limit", as: Int32.self)))
        }
    }
}
