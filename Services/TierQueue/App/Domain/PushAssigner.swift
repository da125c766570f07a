import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// How a level hands out work when it pushes instead of letting agents pull (`TIERDESK_PUSH_ASSIGNMENT`).
public enum PushStrategy: String, Sendable, Hashable {
    /// To the agent who was given a ticket longest ago.
    case roundRobin = "round-robin"
    /// To the agent holding the fewest tickets (then the one given a ticket longest ago).
    case leastLoaded = "least-loaded"

    /// Parses `level:strategy` pairs (`1:least-loaded,2:round-robin`); nil for anything else.
    public static func parse(_ text: String) -> [Tier: PushStrategy]? {
        guard let strategies = Tier.parsePairs(text, PushStrategy.init(rawValue:)), strategies.keys.allSatisfy(Tier.agentTiers.contains) else {
            return nil
        }
        return strategies
    }
}

/// Push assignment: gives a level's waiting tickets, best first, to its active agents whose skills
/// cover them and who are under their WIP limit, by the level's strategy. Run by every instance
/// serving the level; the level's agents are locked for the pass, so two instances never push one
/// agent past its limit, and tickets are taken `FOR UPDATE SKIP LOCKED`. Each agent given a ticket is told.
struct PushAssigner: Sendable {
    let tickets: TicketStore
    var notifier = Notifier()
    static let actor = "system:assigner"

    struct Candidate {
        var id: UUID
        var skills: Set<String>
        var wipLimit: Int
        var load: Int
        var lastAssigned: Date
    }

    /// One pass over one level: up to `limit` tickets. Answers how many were assigned.
    func assign(tier: Tier, strategy: PushStrategy, client: PostgresClient, now: Date, limit: Int = 50, logger: Logger) async throws -> Int {
        try await client.transaction(logger: logger) { connection in
            var agents = try await connection.all(
                """
                SELECT a.id, a.skills, a.wip_limit, COALESCE(p.last_assigned_at, timestamptz 'epoch') AS last_assigned,
                    (SELECT count(*) FROM tickets t WHERE t.assignee_id = a.id AND t.status = 'in_progress') AS load
                FROM agents a LEFT JOIN push_assignments p ON p.agent_id = a.id
                WHERE a.active AND \(Int16(tier.rawValue)) = ANY(a.tiers) ORDER BY a.id FOR UPDATE OF a
                """, logger: logger
            ) { row in
                Candidate(
                    id: try row.get("id"), skills: Set(try row.get("skills", as: [String].self)), wipLimit: Int(try row.get("wip_limit", as: Int32.self)),
                    load: Int(try row.get("load", as: Int64.self)), lastAssigned: try row.get("last_assigned"))
            }
            guard agents.contains(where: { $0.load < $0.wipLimit }) else { return 0 }
            let waiting = try await connection.all(
                """
                SELECT id FROM tickets WHERE tier = \(Int16(tier.rawValue)) AND status = 'queued'
                ORDER BY priority, resolution_due_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger
            ) { try $0.get("id", as: UUID.self) }
            let found = try await tickets.lock(waiting, on: connection, logger: logger)
            var changes: [TicketChange] = []
            for id in waiting {
                guard let ticket = found[id], let index = Self.pick(for: ticket, among: agents, strategy: strategy) else { continue }
                let agent = agents[index].id
                let event = EventDraft(TicketReassigned(to: agent, strategy: strategy.rawValue), actor: Self.actor)
                changes.append(
                    try TicketChange(ticket, to: .inProgress, event: event) { ticket in
                        ticket.assigneeId = agent
                    })
                agents[index].load += 1
                // Strictly after every earlier one, so round-robin moves on within a pass too.
                agents[index].lastAssigned = now.addingTimeInterval(Double(changes.count) / 1_000_000)
            }
            guard !changes.isEmpty else { return 0 }
            let saved = try await tickets.save(changes, on: connection, now: now, logger: logger)
            try await notifier.tell(
                saved.compactMap { ticket in ticket.assigneeId.map { .assigned(ticket, to: $0) } }, on: connection, now: now, logger: logger)
            let given = Array(Set(changes.compactMap(\.after.assigneeId)))
            try await connection.execute(
                """
                INSERT INTO push_assignments (agent_id, last_assigned_at) SELECT unnest(\(given)::uuid[]), \(now)
                ON CONFLICT (agent_id) DO UPDATE SET last_assigned_at = EXCLUDED.last_assigned_at
                """, logger: logger)
            return changes.count
        }
    }

    /// The agent a ticket goes to: skills covering it, room under the WIP limit, first by the strategy.
    static func pick(for ticket: Ticket, among agents: [Candidate], strategy: PushStrategy) -> Int? {
        let able = agents.indices.filter { agents[$0].load < agents[$0].wipLimit && Set(ticket.requiredSkills).isSubset(of: agents[$0].skills) }
        switch strategy {
        case .roundRobin:
            return able.min { (agents[$0].lastAssigned, agents[$0].id.uuidString) < (agents[$1].lastAssigned, agents[$1].id.uuidString) }
        case .leastLoaded:
            return able.min {
                (agents[$0].load, agents[$0].lastAssigned, agents[$0].id.uuidString) < (agents[$1].load, agents[$1].lastAssigned, agents[$1].id.uuidString)
            }
        }
    }
}
