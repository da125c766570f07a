import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Helpers to put tickets straight into the database through the store.
public struct StoreFixture: Sendable {
    public let client: PostgresClient
    public let store = TicketStore(source: "test")
    public var logger: Logger { TestDatabase.logger }

    public init(client: PostgresClient) { self.client = client }

    public func requester(_ email: String = "dana@example.com") async throws -> UUID {
        let id = UUID()
        try await client.execute(
            "INSERT INTO requesters (id, email, email_normalized, created_at, updated_at) VALUES (\(id), \(email), \(email.lowercased()), now(), now())",
            logger: logger)
        return id
    }

    /// A ticket already queued at `tier`.
    public func queued(
        tier: Tier = .firstLine, impact: Impact = .medium, urgency: Urgency = .medium, category: String? = "network", skills: [String] = [],
        requester: UUID? = nil
    ) async throws -> Ticket {
        var requesterID = requester
        if requesterID == nil { requesterID = try await self.requester("r\(UUID().uuidString.prefix(6))@example.com") }
        let requesterUUID = requesterID!
        let now = Date()
        return try await client.transaction(logger: logger) { connection in
            let draft = TicketDraft(
                impact: impact, urgency: urgency, category: category, channel: .web, subject: "s", description: "d", requesterID: requesterUUID)
            _ = try await store.insert(draft, event: EventDraft(type: .ticketCreated, actor: "test"), on: connection, now: now, logger: logger)
            _ = try await store.update(draft.id, event: EventDraft(type: .ticketTriaged, actor: "test"), on: connection, now: now, logger: logger) {
                $0.status = .triaged
            }
            return try await store.update(draft.id, event: EventDraft(type: .ticketQueued, actor: "test"), on: connection, now: now, logger: logger) {
                $0.requeue(tier: tier, now: now)
                $0.requiredSkills = skills
            }
        }
    }

    public func change(_ id: UUID, expectedVersion: Int? = nil, handOff: [String] = [], _ edit: @escaping @Sendable (inout Ticket) throws -> Void) async throws
        -> Ticket
    {
        try await client.transaction(logger: logger) { connection in
            try await store.update(
                id, expectedVersion: expectedVersion, event: EventDraft(type: .ticketCommented, actor: "test"), handOff: handOff, on: connection, now: Date(),
                logger: logger, edit)
        }
    }

    public func claim(tier: Tier = .firstLine, agent: AgentIdentity) async throws -> Ticket? {
        try await store.claim(tier: tier, agent: agent, on: client, now: Date(), logger: logger)
    }
}

extension AgentIdentity {
    public static func fixture(tiers: Set<Tier> = [.firstLine], skills: [String] = [], wipLimit: Int = 1000, isLead: Bool = false) -> AgentIdentity {
        AgentIdentity(id: UUID(), tiers: tiers, skills: skills, wipLimit: wipLimit, isLead: isLead)
    }
}

extension StoreFixture {
    /// A ticket queued at `tier` and claimed by `agent`: in progress and theirs.
    public func inProgress(tier: Tier = .firstLine, agent: AgentIdentity) async throws -> Ticket {
        let ticket = try await queued(tier: tier)
        return try await change(ticket.id) { ticket in
            ticket.status = .inProgress
            ticket.assigneeId = agent.id
        }
    }

    /// Inserts a staff row for `identity` (an agent, or a lead) and returns its token.
    public func agentToken(_ identity: AgentIdentity) async throws -> String {
        let token = Secrets.newToken(.agent)
        try await client.execute(
            """
            INSERT INTO agents (id, name, email, tiers, skills, wip_limit, role, created_at)
            VALUES (\(identity.id), 'Agent', \("agent-\(identity.id.uuidString.lowercased())@example.com"),
                    \(identity.tiers.map { Int16($0.rawValue) }), \(identity.skills), \(Int32(identity.wipLimit)), \(identity.isLead ? "lead" : "agent"), now())
            """, logger: logger)
        try await client.execute(
            """
            INSERT INTO staff_tokens (id, person_id, kind, name, scope, token_hash, created_at)
            VALUES (\(UUID()), \(identity.id), 'personal', 'tests', 'work', \(Secrets.hash(token)), now())
            """, logger: logger)
        return token
    }

    /// Inserts an administrator or auditor and returns a token of `scope` (the role's widest when nil).
    public func staffToken(role: StaffRole, scope: TokenScope? = nil) async throws -> String {
        let (id, token) = (UUID(), Secrets.newToken(.agent))
        try await client.execute(
            """
            INSERT INTO agents (id, name, email, tiers, role, created_at)
            VALUES (\(id), \("A \(role.rawValue)"), \("\(role.rawValue)-\(id.uuidString.lowercased())@example.com"), '{}', \(role.rawValue), now())
            """, logger: logger)
        try await client.execute(
            """
            INSERT INTO staff_tokens (id, person_id, kind, name, scope, token_hash, created_at)
            VALUES (\(UUID()), \(id), 'personal', 'tests', \((scope ?? role.widestScope).rawValue), \(Secrets.hash(token)), now())
            """, logger: logger)
        return token
    }

    /// Rows of the outbox written by `source`, as (destination, event type).
    public func outbox(source: String) async throws -> [String] {
        try await client.all(
            "SELECT destination || ' ' || event_type AS row FROM outbox WHERE source = \(source) ORDER BY created_at, destination", logger: logger
        ) {
            try $0.get("row", as: String.self)
        }
    }

    /// How many rows a table has.
    public func count(_ table: String) async throws -> Int {
        try await client.first(PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"), logger: logger) { Int(try $0.get("n", as: Int64.self)) } ?? 0
    }
}
