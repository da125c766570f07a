import Foundation
import Logging
import PostgresNIO
import TierdeskModels

extension TicketStore {
    /// Claims the next ticket of a tier this agent may take (skills covered, WIP limit not reached) and
    /// records the claim: one statement calling `claim_next_ticket` (migration 0004), which serialises
    /// one agent's claims with an advisory lock and takes the ticket `FOR UPDATE SKIP LOCKED`, so any
    /// number of claimers never take one ticket twice and no agent passes its limit. Nil when nothing
    /// is claimable; `wipLimitReached` when the agent is full.
    public func claim(tier: Tier, agent: AgentIdentity, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Ticket? {
        let data = try JSONCoding.string(["tier": tier.rawValue])
        do {
            return try await executor.first(
                ClaimNextTicket(
                    bindings: try PostgresBindings(
                        Int16(tier.rawValue), agent.id, agent.skills, Int32(agent.wipLimit), now, UUID.timeOrdered(at: now), Self.actor(agent), data)),
                logger: logger, Ticket.init(row:))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "TDWIP" {
            throw TicketStoreError.wipLimitReached(limit: agent.wipLimit)
        }
    }

    /// A claim: `claim_next_ticket` (migration 0004) with the ticket's requester.
    struct ClaimNextTicket: HotStatement {
        static let sql = """
            SELECT \(ticketColumns) FROM claim_next_ticket($1, $2, $3, $4, $5, $6, $7, $8::jsonb) t JOIN requesters r ON r.id = t.requester_id
            """
        let bindings: PostgresBindings
    }
}
