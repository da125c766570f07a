import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Who works a ticket, and the rule for what they may touch.
enum TicketWorker: Sendable {
    case admin
    case agent(AgentIdentity)

    /// How the trail names them.
    var name: String {
        switch self {
        case .admin: "admin"
        case .agent(let agent): TicketStore.actor(agent)
        }
    }

    /// The agent, or nil for the admin.
    var agent: AgentIdentity? {
        if case .agent(let agent) = self { return agent }
        return nil
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
/// by the version the agent read (`expectedVersion`), recorded with the worker in one transaction.
/// A ticket the worker may not read is `ticketNotFound`, as if it did not exist.
struct TicketWork: Sendable {
    let tickets: TicketStore
    let client: PostgresClient
    let vendorBridge: any VendorBridgeClient

    /// The ticket, when the worker may read it (`TicketStore.agentMayRead`).
    func visible(_ id: UUID, to worker: TicketWorker, logger: Logger) async throws -> Ticket {
        guard let ticket = try await tickets.find(id, on: client, logger: logger) else { throw TierQueueError.ticketNotFound }
        if let agent = worker.agent {
            guard try await tickets.agentMayRead(ticket, agent: agent, on: client, logger: logger) else { throw TierQueueError.ticketNotFound }
        }
        return ticket
    }

    /// A public reply to the requester or, `internal`, a note only agents see.
    func comment(_ id: UUID, by worker: TicketWorker, message: String, isInternal: Bool, expectedVersion: Int?, now: Date, logger: Logger) async throws
        -> Ticket
    {
        _ = try await visible(id, to: worker, logger: logger)
        let event = EventDraft(type: .ticketCommented, actor: worker.name, isPublic: !isInternal, data: ["message": .string(message)])
        return try await change(id, expectedVersion: expectedVersion, event: event, now: now, logger: logger) { ticket in
            try worker.mayWork(on: ticket)
            guard ticket.status != .closed else { throw TierQueueError.ticketClosed }
        }
    }

    /// Waiting on the customer or a vendor: the assignee pauses the ticket.
    func pend(_ id: UUID, by worker: TicketWorker, _ input: PendingRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        _ = try await visible(id, to: worker, logger: logger)
        let event = EventDraft(type: .ticketPending, actor: worker.name, data: ["on": .string(input.on.rawValue), "reason": .string(input.reason)])
        return try await change(
            id, to: input.on == .customer ? .pendingCustomer : .pendingVendor, expectedVersion: expectedVersion, event: event, now: now, logger: logger
        ) {
            try worker.mayWork(on: $0, asAssignee: true)
        }
    }

    /// Resolves the ticket; an `article` is handed to intake (`kb.published`) with the worker as its author.
    func resolve(_ id: UUID, by worker: TicketWorker, _ input: ResolveRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        _ = try await visible(id, to: worker, logger: logger)
        let tickets = tickets
        return try await client.transaction(logger: logger) { connection in
            let event = EventDraft(type: .ticketResolved, actor: worker.name, data: ["resolution": .string(input.resolution)])
            let ticket = try await tickets.update(id, to: .resolved, expectedVersion: expectedVersion, event: event, on: connection, now: now, logger: logger) {
                try worker.mayWork(on: $0, asAssignee: true)
            }
            if let article = input.article {
                let publish = EventDraft(
                    type: .kbPublished, actor: worker.name,
                    data: [
                        "title": .string(article.title), "body": .string(article.body), "category": .optional(ticket.category),
                        "sourceTicketId": .string(id.uuidString.lowercased()), "authorLevel": .optional(ticket.tier?.rawValue),
                        "authorAgentId": .optional(worker.agent?.id.uuidString.lowercased()),
                    ])
                try await tickets.record(publish, ticketID: id, handOff: ["intake"], on: connection, now: now, logger: logger)
            }
            return ticket
        }
    }

    /// One level up by default; `toTier` names a higher level; level 4 hands the ticket to a vendor
    /// through vendor-bridge (the named one, or the one whose categories cover the ticket).
    func escalate(_ id: UUID, by worker: TicketWorker, _ input: EscalateRequest, expectedVersion: Int?, now: Date, logger: Logger) async throws -> Ticket {
        let before = try await visible(id, to: worker, logger: logger)
        try worker.mayWork(on: before)
        guard let from = before.tier, let target = input.toTier.flatMap(Tier.init(rawValue:)) ?? from.next, target > from else {
            throw TierQueueError.escalationTarget(current: before.tier?.rawValue ?? 0)
        }
        var vendorID: UUID?
        if target == .vendor {
            vendorID = try await vendorBridge.resolveVendor(id: input.vendorId, category: before.category, logger: logger)
            guard vendorID != nil else {
                throw TierQueueError.noVendor(
                    input.vendorId == nil ? "no vendor covers category '\(before.category ?? "none")'; name a vendorId" : "is not a registered vendor")
            }
        }
        let chosenVendor = vendorID
        let event = EventDraft(
            type: .ticketEscalated, actor: worker.name,
            data: [
                "fromTier": .optional(from.rawValue), "toTier": .optional(target.rawValue), "reason": .string(input.reason),
                "vendorId": .optional(vendorID?.uuidString.lowercased()),
            ])
        let move: TicketStatus = target == .vendor ? .pendingVendor : .queued
        return try await change(
            id, to: move, expectedVersion: expectedVersion, event: event, handOff: target == .vendor ? ["vendor-bridge"] : [], now: now, logger: logger
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

    func change(
        _ id: UUID, to target: TicketStatus? = nil, expectedVersion: Int?, event: EventDraft, handOff: [String] = [], now: Date, logger: Logger,
        _ edit: @escaping @Sendable (inout Ticket) throws -> Void
    ) async throws -> Ticket {
        let tickets = tickets
        return try await client.transaction(logger: logger) { connection in
            try await tickets.update(
                id, to: target, expectedVersion: expectedVersion, event: event, handOff: handOff, on: connection, now: now, logger: logger, edit)
        }
    }
}
