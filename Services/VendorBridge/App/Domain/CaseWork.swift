import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Everything that happens to a vendor case, each in the caller's transaction, with its effect on
/// the ticket (through the ticket store, recorded on the trail) and the webhooks it sends (written
/// to the webhook outbox in the same transaction):
/// - opened from a level 4 escalation, due by the vendor's contract; webhook `vendor.case_opened`;
/// - the vendor's updates (`vendor.updated` on the trail). `resolved` returns the ticket to the
///   level that escalated it for verification: `in_progress` with the agent who escalated when that
///   agent is still active at the level, else queued there; `rejected` returns it the same way and
///   closes the case. A closed or resolved case takes no more updates;
/// - the company's messages (`vendor.message_sent`; webhook `vendor.message`), which may reopen a
///   resolved case and send the ticket back to the vendor;
/// - closed when the ticket is resolved or closed; webhook `vendor.case_closed`.
/// Moves of the ticket are handed to tier-queue, which re-arms its SLA clock; the vendor's updates
/// and overdue cases too, so that tier-queue tells the ticket's assignee.
struct CaseWork: Sendable {
    let cases: VendorCaseStore
    let vendors: VendorStore
    let tickets: TicketStore
    let webhooks: WebhookDeliveryStore

    /// Opens the case a level 4 escalation asks for; nil when the ticket already has one open with the vendor.
    func open(
        ticket: Ticket, vendorID: UUID, reason: String, fromTier: Tier?, on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> UUID? {
        let contract = try await vendors.contract(of: vendorID, on: connection, logger: logger) ?? VendorContract()
        let returnsTo = fromTier.flatMap { Tier.agentTiers.contains($0) ? $0 : nil } ?? .specialist
        guard
            let caseID = try await cases.open(
                ticket: ticket, vendorID: vendorID, reason: reason, owner: ticket.assigneeId, returnsTo: returnsTo, contract: contract, on: connection,
                now: now, logger: logger)
        else { return nil }
        let opened = EventDraft(VendorCaseChanged(caseId: caseID, vendorId: vendorID), actor: "system:vendor-bridge", isPublic: false)
        try await tickets.record(opened, ticketID: ticket.id, on: connection, now: now, logger: logger)
        try await notify(.caseOpened, caseID: caseID, on: connection, now: now, logger: logger)
        return caseID
    }

    /// Applies a vendor's update to its own case (another vendor's is `caseNotFound`).
    func update(_ update: VendorUpdateRequest, to caseID: UUID, by vendorID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let current = try await cases.find(caseID, vendorID: vendorID, forUpdate: true, on: connection, logger: logger) else {
            throw VendorBridgeError.caseNotFound
        }
        guard current.closedAt == nil && current.status != .resolved else { throw VendorBridgeError.caseClosed(status: current.status) }
        try await cases.addUpdate(update, caseID: caseID, on: connection, now: now, logger: logger)
        let event = EventDraft(
            VendorUpdated(caseId: caseID, status: update.status, message: update.message, eta: update.eta), actor: "vendor:\(vendorID.uuidString.lowercased())",
            isPublic: false)
        if update.status == .resolved || update.status == .rejected {
            try await giveBack(current, event: event, on: connection, now: now, logger: logger)
        } else {
            // tier-queue tells the ticket's assignee that the vendor answered.
            try await tickets.record(event, ticketID: current.ticketId, handOff: ["tier-queue"], on: connection, now: now, logger: logger)
        }
    }

    /// Returns the ticket from level 4 to the level that escalated it (see the type's comment).
    func giveBack(_ vendorCase: VendorCase, event: EventDraft, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let ticket = try await tickets.find(vendorCase.ticketId, on: connection, logger: logger), ticket.status == .pendingVendor,
            ticket.tier == .vendor
        else {
            // The company took the ticket back meanwhile: the update is only noted.
            return try await tickets.record(event, ticketID: vendorCase.ticketId, on: connection, now: now, logger: logger)
        }
        let tier = Tier(rawValue: vendorCase.returnsToTier) ?? .specialist
        let owner = try await activeOwner(of: vendorCase.id, at: tier, on: connection, logger: logger)
        _ = try await tickets.update(
            ticket.id, to: owner == nil ? .queued : .inProgress, event: event, handOff: ["tier-queue"], on: connection, now: now, logger: logger
        ) { ticket in
            ticket.vendorId = nil
            if let owner {
                ticket.tier = tier
                ticket.assigneeId = owner
            } else {
                ticket.requeue(tier: tier, now: now)
            }
        }
    }

    /// The case's owner when that agent is still active at `tier` (agents are read for this only).
    func activeOwner(of caseID: UUID, at tier: Tier, on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        guard let owner = try await cases.owner(ofCase: caseID, on: connection, logger: logger) else { return nil }
        return try await connection.first(
            "SELECT id FROM agents WHERE id = \(owner) AND active AND \(Int16(tier.rawValue)) = ANY(tiers)", logger: logger
        ) { try $0.get("id", as: UUID.self) }
    }

    /// The company's message to the vendor on the ticket's open case. `reopen` sends a resolved
    /// case back to the vendor with the message as its reason, and the ticket back to level 4.
    func message(
        _ input: VendorMessageRequest, ticketID: UUID, by caller: AgentIdentity?, actor: String, on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> VendorCase {
        guard let ticket = try await tickets.find(ticketID, forUpdate: true, on: connection, logger: logger) else { throw VendorBridgeError.ticketNotFound }
        if let agent = caller, !(try await tickets.agentMayRead(ticket, agent: agent, on: connection, logger: logger)) {
            throw VendorBridgeError.ticketNotFound
        }
        guard let current = try await cases.current(ofTicket: ticketID, forUpdate: true, on: connection, logger: logger) else {
            throw VendorBridgeError.noOpenCase
        }
        if let agent = caller, ticket.assigneeId != agent.id,
            !(Tier(rawValue: current.returnsToTier).map(agent.tiers.contains) ?? false)
        {
            throw Problem.forbidden("only the agent who holds the ticket or an agent of level \(current.returnsToTier) writes to its vendor")
        }
        let reopen = input.reopen ?? false
        if reopen && current.status != .resolved { throw VendorBridgeError.notReopenable(status: current.status) }
        try await cases.addMessage(input.message, reopen: reopen, caseID: current.id, on: connection, now: now, logger: logger)
        let event = EventDraft(VendorMessageSent(caseId: current.id, message: input.message, reopened: reopen), actor: actor, isPublic: false)
        if reopen && ticket.status != .pendingVendor {
            _ = try await tickets.update(ticketID, to: .pendingVendor, event: event, handOff: ["tier-queue"], on: connection, now: now, logger: logger) {
                ticket in
                ticket.tier = .vendor
                ticket.vendorId = current.vendorId
            }
        } else {
            try await tickets.record(event, ticketID: ticketID, on: connection, now: now, logger: logger)
        }
        let webhook = try await notify(
            .message, caseID: current.id, message: input.message, reopened: reopen ? true : nil, on: connection, now: now, logger: logger)
        return webhook.data.case
    }

    /// Closes the ticket's open case when the ticket is resolved or closed.
    func closeCase(ofTicket ticketID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let current = try await cases.current(ofTicket: ticketID, forUpdate: true, on: connection, logger: logger) else { return }
        try await cases.close(current.id, on: connection, now: now, logger: logger)
        let event = EventDraft(VendorCaseChanged(caseId: current.id), type: .vendorCaseClosed, actor: "system:vendor-bridge", isPublic: false)
        try await tickets.record(event, ticketID: ticketID, on: connection, now: now, logger: logger)
        try await notify(.caseClosed, caseID: current.id, on: connection, now: now, logger: logger)
    }

    /// Writes a webhook about the case as it now stands to the webhook outbox.
    @discardableResult
    func notify(
        _ type: VendorWebhookType, caseID: UUID, message: String? = nil, overdue: String? = nil, reopened: Bool? = nil, on connection: PostgresConnection,
        now: Date, logger: Logger
    ) async throws -> VendorWebhook {
        guard let found = try await cases.find(caseID, vendorID: nil, on: connection, logger: logger) else { throw VendorBridgeError.caseNotFound }
        let webhook = VendorWebhook(
            type: type, timestamp: now, data: .init(case: found, message: message, overdue: overdue, reopened: reopened))
        try await webhooks.enqueue(webhook, vendorID: found.vendorId, on: connection, now: now, logger: logger)
        return webhook
    }
}
