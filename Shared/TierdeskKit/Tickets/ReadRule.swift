import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// The ticket read rule, in one place: an agent may read a ticket at one of its levels, assigned to
/// it, one it has worked on (an event of the trail names it as actor) or one it helps on
/// (`ticket_collaborators`). Anything else is answered as if the ticket did not exist, so ids cannot
/// be probed. The rule is one SQL condition; the check of a single ticket runs that condition too.
extension TicketStore {
    /// The rule in SQL over a ticket row `t`, with the agent's id, levels (`tierList`) and actor
    /// name (`actor`) as the parameters named.
    public static func agentMayRead(_ id: String, tiers: String, actor: String) -> String {
        """
        (t.tier = ANY(\(tiers)::smallint[]) OR t.assignee_id = \(id) OR EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.actor = \(actor))
            OR EXISTS (SELECT 1 FROM ticket_collaborators c WHERE c.ticket_id = t.id AND c.agent_id = \(id)))
        """
    }

    /// Whether an agent may read a ticket, by `agentMayRead(_:tiers:actor:)` over its stored row.
    public func agentMayRead(_ ticket: Ticket, agent: AgentIdentity, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first(
            PostgresQuery(
                unsafeSQL: "SELECT 1 AS readable FROM tickets t WHERE t.id = $1 AND \(Self.agentMayRead("$2", tiers: "$3", actor: "$4"))",
                binds: try PostgresBindings(ticket.id, agent.id, Self.tierList(agent), Self.actor(agent))), logger: logger
        ) { _ in true } ?? false
    }

    /// An agent's levels as the rule's `tiers` parameter.
    public static func tierList(_ agent: AgentIdentity) -> [Int16] { agent.tiers.map { Int16($0.rawValue) } }

    /// How the trail names an agent's actions.
    public static func actor(_ agent: AgentIdentity) -> String { "agent:\(agent.id.uuidString.lowercased())" }
}
