import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Who works a ticket, and the rule for what they may touch.
enum TicketWorker: Sendable {
    case admin(StaffRef)
    case agent(AgentIdentity)

    /// How the trail names them.
    var name: String {
        switch self {
        case .admin(let admin): Principal.admin(admin).trailName ?? "admin"
        case .agent(let agent): TicketStore.actor(agent)
        }
    }

    /// The agent, or nil for the admin.
    var agent: AgentIdentity? {
        if case .agent(let agent) = self { return agent }
        return nil
    }

    /// A team lead of the ticket's level: it reassigns the ticket within the level, whoever holds it.
    func leads(_ ticket: Ticket) -> Bool {
        guard case .agent(let agent) = self, agent.isLead, let tier = ticket.tier else { return false }
        return agent.tiers.contains(tier)
    }

    /// An agent works tickets of its levels, and those assigned to it; `asAssignee` requires the
    /// ticket to be theirs (the admin may always act).
    func mayWork(on ticket: Ticket, asAssignee: Bool = false) throws(TierQueueError) {
        guard case .agent(let agent) = self else { return }
        if ticket.assigneeId == agent.id { return }
        if asAssignee { throw .assigneeOnly }
        guard let tier = ticket.tier, agent.tiers.contains(tier) else { throw .notYourLevel(tier: ticket.tier?.rawValue ?? 0) }
    }
}

/// An agent's work on one ticket: each action a lifecycle move checked by the ticket store, guarded
/// by the version the agent read (`expectedVersion`), recorded with the worker in one transaction
/// that also brings the ticket's SLA clock up to date. A ticket the worker may not read is
/// `ticketNotFound`, as if it did not exist.
struct TicketWork: Sendable {
    let tickets: TicketStore
    let client: PostgresClient
    let vendorBridge: any VendorBridgeClient
    let policies = WorkPolicyStore()
    var notifier = Notifier()
    var sla: SLAKeeper { SLAKeeper(tickets: tickets, notifier: notifier) }

    /// The ticket, when the worker may read it (`TicketStore.agentMayRead`).
    func visible(_ id: UUID, to worker: TicketWorker, logger: Logger) async throws -> Ticket {
        guard let ticket = try await tickets.find(id, on: client, logger: logger) else { throw TierQueueError.ticketNotFound }
        if let agent = worker.agent {
            guard try await tickets.agentMayRead(ticket, agent: agent, on: client, logger: logger) else { throw TierQueueError.ticketNotFound }
        }
        return ticket
    }

    /// A public reply to the requester or, `internal`, a note only agents see. Agents of the level,
    /// the assignee and the ticket's collaborators may comment.
    func comment(_ id: UUID, by worker: TicketWorker, message: String, isInternal: Bool, expectedVersion: Int?, now: Date, logger: Logger) async throws
        -> Ticket
    {
        _ = try await visible(id, to: worker, logger: logger)
        let collaborator = try await isCollaborator(worker, on: id, logger: logger)
        let event = EventDraft(TicketCommented(message: message, audience: isInternal ? .agents : .requester), actor: worker.name, isPublic: !isInternal)
        return try await change(id, expectedVersion: expectedVersion, event: event, now: now, logger: logger) { ticket in
            if !collaborator { try worker.mayWork(on: ticket) }
            guard ticket.status != .closed else { throw TierQueueError.ticketClosed }
        }
    }

    /// Waiting on the customer or a vendor, for a typed reason: the assignee pauses the ticket.
    func pend(_ id: UUID, by worker: TicketWorker, _ input: PendingRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        _ = try await visible(id, to: worker, logger: logger)
        let event = EventDraft(TicketPending(reason: input.reason, note: input.note), actor: worker.name)
        return try await change(
            id, to: input.reason.on == .customer ? .pendingCustomer : .pendingVendor, expectedVersion: expectedVersion, event: event, now: now, logger: logger
        ) {
            try worker.mayWork(on: $0, asAssignee: true)
        }
    }

    /// Resolves the ticket with a code; an `article` is handed to intake (`kb.published`) with the worker as its author.
    func resolve(_ id: UUID, by worker: TicketWorker, _ input: ResolveRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        _ = try await visible(id, to: worker, logger: logger)
        let tickets = tickets
        let sla = sla
        return try await client.transaction(logger: logger) { connection in
            let event = EventDraft(TicketResolved(resolution: input.resolution, code: input.code), actor: worker.name)
            // A ticket that went to a vendor has its case closed (and the vendor told) by vendor-bridge.
            let vendorCase = try await tickets.hasEvent(.vendorCaseOpened, ticketID: id, on: connection, logger: logger)
            let ticket = try await tickets.update(
                id, to: .resolved, expectedVersion: expectedVersion, event: event, handOff: vendorCase ? ["vendor-bridge"] : [], on: connection, now: now,
                logger: logger
            ) {
                try worker.mayWork(on: $0, asAssignee: true)
            }
            if let article = input.article {
                let publish = EventDraft(
                    KnowledgeArticlePublished(
                        title: article.title, body: article.body, category: ticket.category, sourceTicketId: id, authorLevel: ticket.tier?.rawValue,
                        authorAgentId: worker.agent?.id), actor: worker.name)
                try await tickets.record(publish, ticketID: id, handOff: ["intake"], on: connection, now: now, logger: logger)
            }
            try await sla.refresh([ticket], on: connection, now: now, logger: logger)
            return ticket
        }
    }

    /// One level up by default; `toTier` names a higher level; level 4 hands the ticket to a vendor
    /// through vendor-bridge (the named one, or the one whose categories cover the ticket). The
    /// escalation must carry what the receiving level's contract asks for; a category that swarms
    /// does not escalate between levels 1-3 (collaborators join instead).
    func escalate(_ id: UUID, by worker: TicketWorker, _ input: EscalateRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        let before = try await visible(id, to: worker, logger: logger)
        try worker.mayWork(on: before)
        guard let from = before.tier, let target = input.toTier.flatMap(Tier.init(rawValue:)) ?? from.next, target > from else {
            throw TierQueueError.escalationTarget(current: before.tier?.rawValue ?? 0)
        }
        if target != .vendor, try await policies.mode(for: before.category, on: client, logger: logger) == .swarm {
            throw TierQueueError.swarmCategory(before.category ?? "")
        }
        let contract = try await policies.contract(into: target, on: client, logger: logger)
        let missing = contract.missing(in: input.handOff)
        guard missing.isEmpty else { throw TierQueueError.handOffIncomplete(tier: target.rawValue, missing: missing) }
        var vendorID: UUID?
        if target == .vendor {
            vendorID = try await vendorBridge.resolveVendor(id: input.vendorId, category: before.category, logger: logger)
            guard vendorID != nil else {
                throw TierQueueError.noVendor(
                    input.vendorId == nil ? "no vendor covers category '\(before.category ?? "none")'; name a vendorId" : "is not a registered vendor")
            }
        }
        let chosenVendor = vendorID
        let handOff = Dictionary(uniqueKeysWithValues: contract.fields.compactMap { field in input.handOff?[field.name].map { (field.name, $0) } })
        let event = EventDraft(
            TicketEscalated(fromTier: from.rawValue, toTier: target.rawValue, reason: input.reason, vendorId: vendorID, handOff: handOff), actor: worker.name)
        let move: TicketStatus = target == .vendor ? .pendingVendor : .queued
        return try await change(
            id, to: move, from: Self.beingWorked, expectedVersion: expectedVersion, event: event, handOff: target == .vendor ? ["vendor-bridge"] : [],
            now: now, logger: logger
        ) { ticket in
            try worker.mayWork(on: ticket)
            guard ticket.tier == from else { throw TierQueueError.changedWhileEscalating }
            if target == .vendor {
                ticket.tier = .vendor
                ticket.vendorId = chosenVendor
            } else {
                ticket.requeue(tier: target, now: now)
            }
        }
    }

    /// Back to a lower level (one down by default) with a note for it: the receiving level's
    /// queue, unassigned. Reports count it as a bounce when it follows an escalation within 24 h.
    func deescalate(_ id: UUID, by worker: TicketWorker, _ input: DeescalateRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws
        -> Ticket
    {
        let before = try await visible(id, to: worker, logger: logger)
        guard let from = before.tier, Tier.agentTiers.contains(from), from > .firstLine,
            let target = Tier(rawValue: input.toTier ?? from.rawValue - 1), target < from, target >= .firstLine
        else { throw TierQueueError.deescalationTarget(current: before.tier?.rawValue ?? 0) }
        let event = EventDraft(TicketDeescalated(fromTier: from.rawValue, toTier: target.rawValue, note: input.note), actor: worker.name)
        return try await change(id, to: .queued, from: Self.beingWorked, expectedVersion: expectedVersion, event: event, now: now, logger: logger) { ticket in
            try worker.mayWork(on: ticket)
            guard ticket.tier == from else { throw TierQueueError.changedWhileEscalating }
            ticket.requeue(tier: target, now: now)
        }
    }

    /// What escalation and de-escalation move: tickets being worked (queued, in progress or paused);
    /// a resolved ticket is reopened first (`reopen`, or the requester's reply), else 409.
    static let beingWorked: Set<TicketStatus> = [.queued, .inProgress, .pendingCustomer, .pendingVendor]

    /// A resolved ticket reopened by its level with a reason: back in the queue of the level that
    /// resolved it, or, for a ticket resolved at level 4, of the level that escalated it to the vendor
    /// (`TicketStore.reopeningTier`). Anything but a resolved ticket is 409.
    func reopen(_ id: UUID, by worker: TicketWorker, _ input: ReopenRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        let before = try await visible(id, to: worker, logger: logger)
        let tier = try await tickets.reopeningTier(of: before, on: client, logger: logger)
        let event = EventDraft(TicketReopened(reason: input.reason, from: "agent"), actor: worker.name)
        return try await change(id, to: .queued, from: [.resolved], expectedVersion: expectedVersion, event: event, now: now, logger: logger) { ticket in
            try worker.mayWork(on: ticket)
            ticket.requeue(tier: tier, now: now)
        }
    }

    /// Gives the ticket to another active agent of its level whose skills cover it (and who has
    /// room under its WIP limit): the assignee or the admin may, or any agent of the level while
    /// the ticket waits in the queue.
    func reassign(_ id: UUID, by worker: TicketWorker, _ input: ReassignRequest, to agent: Agent, expectedVersion: Int?, now: Date, logger: Logger)
        async throws -> Ticket
    {
        let before = try await visible(id, to: worker, logger: logger)
        guard agent.active, let tier = before.tier, agent.tiers.contains(tier) else {
            throw TierQueueError.notAnAgentOfTheLevel(tier: before.tier?.rawValue ?? 0)
        }
        guard Set(before.requiredSkills).isSubset(of: Set(agent.skills)) else { throw TierQueueError.missingSkills(before.requiredSkills) }
        let event = EventDraft(TicketReassigned(from: before.assigneeId, to: agent.id, note: input.note), actor: worker.name)
        // Under the claim's lock on the agent (migration 0004), so its WIP count cannot change meanwhile.
        let holdsRoom: @Sendable (PostgresConnection) async throws -> Void = { connection in
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('tierdesk-claim:' || \(agent.id)::text, 0))", logger: logger)
            let load =
                try await connection.first(
                    "SELECT count(*) AS held FROM tickets WHERE assignee_id = \(agent.id) AND status = 'in_progress' AND id <> \(id)", logger: logger
                ) { Int(try $0.get("held", as: Int64.self)) } ?? 0
            guard load < agent.wipLimit else { throw TicketStoreError.wipLimitReached(limit: agent.wipLimit) }
        }
        // The new assignee is told, unless it gave the ticket to itself or already held it.
        let told = worker.agent?.id == agent.id || before.assigneeId == agent.id ? nil : agent.id
        let tell: @Sendable (Ticket) -> [NotificationDraft] = { ticket in told.map { [.assigned(ticket, to: $0)] } ?? [] }
        return try await change(id, expectedVersion: expectedVersion, event: event, now: now, logger: logger, first: holdsRoom, tell: tell) { ticket in
            try worker.mayWork(on: ticket, asAssignee: ticket.status != .queued && !worker.leads(ticket))
            guard ticket.tier == tier, ticket.status == .queued || ticket.status == .inProgress || ticket.status.isPending else {
                throw TicketStoreError.invalidTransition(from: ticket.status, to: .inProgress)
            }
            if ticket.status == .queued { ticket.status = .inProgress }
            ticket.assigneeId = agent.id
        }
    }

    /// A resolved ticket is done: closed for good (a requester's reply can no longer reopen it).
    func close(_ id: UUID, by worker: TicketWorker, _ input: CloseRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        _ = try await visible(id, to: worker, logger: logger)
        let event = EventDraft(TicketClosed(note: input.note), actor: worker.name)
        let vendorCase = try await tickets.hasEvent(.vendorCaseOpened, ticketID: id, on: client, logger: logger)
        return try await change(
            id, to: .closed, expectedVersion: expectedVersion, event: event, handOff: vendorCase ? ["vendor-bridge"] : [], now: now, logger: logger
        ) { try worker.mayWork(on: $0) }
    }

    /// Adds an agent of any level to the ticket's swarm (the owner stays): the owner, an agent of
    /// the ticket's level or the admin may; the agent is told (unless it added itself). Answers the collaborators.
    func addCollaborator(_ id: UUID, by worker: TicketWorker, agent: Agent, now: Date, logger: Logger) async throws -> [UUID] {
        let ticket = try await visible(id, to: worker, logger: logger)
        try worker.mayWork(on: ticket)
        guard ticket.status.isOpen else { throw TierQueueError.ticketClosed }
        guard agent.active else { throw TierQueueError.agentNotFound }
        let (tickets, policies, notifier) = (tickets, policies, notifier)
        return try await client.transaction(logger: logger) { connection in
            if try await policies.addCollaborator(agent.id, to: id, on: connection, now: now, logger: logger) {
                let event = EventDraft(CollaboratorChanged(agentId: agent.id), actor: worker.name, isPublic: false)
                try await tickets.record(event, ticketID: id, on: connection, now: now, logger: logger)
                let tell = Notifier.telling([.swarm(ticket, agent: agent.id)], except: worker.agent?.id)
                try await notifier.tell(tell, on: connection, now: now, logger: logger)
            }
            return try await policies.collaborators(of: id, on: connection, logger: logger)
        }
    }

    /// Takes an agent out of the swarm: the owner, an agent of the level, the admin, or the collaborator itself.
    func removeCollaborator(_ id: UUID, by worker: TicketWorker, agentID: UUID, now: Date, logger: Logger) async throws {
        let ticket = try await visible(id, to: worker, logger: logger)
        if worker.agent?.id != agentID { try worker.mayWork(on: ticket) }
        let (tickets, policies) = (tickets, policies)
        try await client.transaction(logger: logger) { connection in
            guard try await policies.removeCollaborator(agentID, from: id, on: connection, logger: logger) else { throw TierQueueError.collaboratorNotFound }
            let event = EventDraft(CollaboratorChanged(agentId: agentID), type: .collaboratorRemoved, actor: worker.name, isPublic: false)
            try await tickets.record(event, ticketID: id, on: connection, now: now, logger: logger)
        }
    }

    func isCollaborator(_ worker: TicketWorker, on id: UUID, logger: Logger) async throws -> Bool {
        guard let agent = worker.agent else { return false }
        return try await policies.collaborators(of: id, on: client, logger: logger).contains(agent.id)
    }

    /// One change in one transaction: `first` (a lock, a check), the ticket store's checked update,
    /// then the SLA clock brought up to date and the agents `tell` names told.
    func change(
        _ id: UUID, to target: TicketStatus? = nil, from: Set<TicketStatus>? = nil, expectedVersion: Int?, event: EventDraft, handOff: [String] = [],
        now: Date, logger: Logger,
        first: (@Sendable (PostgresConnection) async throws -> Void)? = nil, tell: (@Sendable (Ticket) -> [NotificationDraft])? = nil,
        _ edit: @escaping @Sendable (inout Ticket) throws -> Void
    ) async throws -> Ticket {
        let (tickets, notifier) = (tickets, notifier)
        let sla = sla
        return try await client.transaction(logger: logger) { connection in
            try await first?(connection)
            var ticket = try await tickets.update(
                id, to: target, from: from, expectedVersion: expectedVersion, event: event, handOff: handOff, on: connection, now: now, logger: logger,
                edit)
            if let state = try await sla.refresh([ticket], on: connection, now: now, logger: logger)[id] {
                ticket.firstResponseDueAt = state.firstResponseDueAt ?? ticket.firstResponseDueAt
                ticket.resolutionDueAt = state.resolutionDueAt ?? ticket.resolutionDueAt
            }
            if let tell { try await notifier.tell(tell(ticket), on: connection, now: now, logger: logger) }
            return ticket
        }
    }
}
