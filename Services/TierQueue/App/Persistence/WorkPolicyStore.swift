import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `escalation_contracts`, `work_modes` and `ticket_collaborators`: how the
/// levels hand work to each other, and who swarms on a ticket.
public struct WorkPolicyStore: Sendable {
    public init() {}

    func contracts(on executor: some DatabaseExecutor, logger: Logger) async throws -> [EscalationContract] {
        try await executor.all("SELECT tier, fields::text AS fields FROM escalation_contracts ORDER BY tier", logger: logger, EscalationContract.init(row:))
    }

    /// The contract of a level; one without fields when none is set.
    func contract(into tier: Tier, on executor: some DatabaseExecutor, logger: Logger) async throws -> EscalationContract {
        try await executor.first(
            "SELECT tier, fields::text AS fields FROM escalation_contracts WHERE tier = \(Int16(tier.rawValue))", logger: logger, EscalationContract.init(row:))
            ?? EscalationContract(tier: tier, fields: [])
    }

    public func put(_ contract: EscalationContract, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            """
            INSERT INTO escalation_contracts (tier, fields, updated_at) VALUES (\(Int16(contract.tier.rawValue)), \(try JSONCoding.string(contract.fields))::jsonb, \(now))
            ON CONFLICT (tier) DO UPDATE SET fields = EXCLUDED.fields, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    func modes(on executor: some DatabaseExecutor, logger: Logger) async throws -> [WorkModeSetting] {
        try await executor.all("SELECT category, mode FROM work_modes ORDER BY category", logger: logger) { row in
            WorkModeSetting(category: try row.get("category"), mode: try row.get("mode"))
        }
    }

    /// How a ticket of this category gets help: `escalate` unless the admin chose `swarm`.
    func mode(for category: String?, on executor: some DatabaseExecutor, logger: Logger) async throws -> WorkMode {
        guard let category else { return .escalate }
        return try await executor.first("SELECT mode FROM work_modes WHERE category = \(category)", logger: logger) { try $0.get("mode", as: WorkMode.self) }
            ?? .escalate
    }

    func put(_ setting: WorkModeSetting, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            """
            INSERT INTO work_modes (category, mode, updated_at) VALUES (\(setting.category), \(setting.mode.rawValue), \(now))
            ON CONFLICT (category) DO UPDATE SET mode = EXCLUDED.mode, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// Removes a category's choice (it escalates again); false when there was none.
    func deleteMode(category: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first("DELETE FROM work_modes WHERE category = \(category) RETURNING category", logger: logger) { _ in true } ?? false
    }

    func collaborators(of ticketID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> [UUID] {
        try await executor.all("SELECT agent_id FROM ticket_collaborators WHERE ticket_id = \(ticketID) ORDER BY added_at, agent_id", logger: logger) {
            try $0.get("agent_id", as: UUID.self)
        }
    }

    /// Adds a collaborator; false when it already was one.
    func addCollaborator(_ agentID: UUID, to ticketID: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        try await executor.first(
            """
            INSERT INTO ticket_collaborators (ticket_id, agent_id, added_at) VALUES (\(ticketID), \(agentID), \(now))
            ON CONFLICT DO NOTHING RETURNING agent_id
            """, logger: logger
        ) { _ in true } ?? false
    }

    /// Removes a collaborator; false when it was not one.
    func removeCollaborator(_ agentID: UUID, from ticketID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first(
            "DELETE FROM ticket_collaborators WHERE ticket_id = \(ticketID) AND agent_id = \(agentID) RETURNING agent_id", logger: logger
        ) { _ in true } ?? false
    }
}

extension EscalationContract {
    init(row: PostgresRandomAccessRow) throws {
        let number = Int(try row.get("tier", as: Int16.self))
        guard let tier = Tier(rawValue: number) else { throw CorruptRow(table: "escalation_contracts", detail: "tier \(number)") }
        self.init(tier: tier, fields: try JSONCoding.decoder.decode([Field].self, from: Data(try row.get("fields", as: String.self).utf8)))
    }
}
