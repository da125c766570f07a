import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `vendor_cases` and `vendor_case_updates`.
public struct VendorCaseStore: Sendable {
    public init() {}

    static let select = """
        SELECT c.id, c.ticket_id, c.vendor_id, c.status, c.reason, c.opened_at, c.acknowledge_due_at, c.due_at, c.acknowledged_at,
            c.resolved_at, c.closed_at, c.returns_to_tier, c.reopen_count, c.questions,
            t.reference_number, t.subject, t.description, t.priority
        FROM vendor_cases c JOIN tickets t ON t.id = c.ticket_id
        """

    /// Opens a case for a ticket escalated to the vendor, due by the vendor's contract. `owner` is
    /// the agent who escalated (who verifies the vendor's resolution), `returnsTo` the level the
    /// ticket goes back to. Nil when the ticket already has an open case with this vendor.
    public func open(
        ticket: Ticket, vendorID: UUID, reason: String, owner: UUID?, returnsTo: Tier, contract: VendorContract, on connection: PostgresConnection,
        now: Date, logger: Logger
    ) async throws -> UUID? {
        let id = UUID()
        let due = contract.dueTimes(openedAt: now)
        return try await connection.first(
            """
            INSERT INTO vendor_cases (id, ticket_id, vendor_id, status, reason, opened_at, acknowledge_due_at, due_at, owner_id, returns_to_tier, updated_at)
            VALUES (\(id), \(ticket.id), \(vendorID), 'open', \(reason), \(now), \(due.acknowledge), \(due.resolve), \(owner),
                    \(Int16(returnsTo.rawValue)), \(now))
            ON CONFLICT (ticket_id, vendor_id) WHERE closed_at IS NULL DO NOTHING
            RETURNING id
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) }
    }

    /// The ticket's case that is not closed (a ticket waits on one vendor at a time), locked when asked.
    public func current(ofTicket ticketID: UUID, forUpdate: Bool = false, on executor: some DatabaseExecutor, logger: Logger) async throws -> VendorCase? {
        let lock = forUpdate ? " FOR UPDATE OF c" : ""
        let id = try await executor.first(
            PostgresQuery(
                unsafeSQL: "SELECT c.id FROM vendor_cases c WHERE c.ticket_id = $1 AND c.closed_at IS NULL ORDER BY c.opened_at DESC LIMIT 1" + lock,
                binds: try PostgresBindings(ticketID)), logger: logger
        ) { try $0.get("id", as: UUID.self) }
        guard let id else { return nil }
        return try await find(id, vendorID: nil, on: executor, logger: logger)
    }

    /// One case of one vendor, with its updates; nil for another vendor's case.
    public func find(_ id: UUID, vendorID: UUID?, forUpdate: Bool = false, on executor: some DatabaseExecutor, logger: Logger) async throws -> VendorCase? {
        let lock = forUpdate ? " FOR UPDATE OF c" : ""
        var bindings = PostgresBindings()
        bindings.append(id)
        if let vendorID { bindings.append(vendorID) } else { bindings.appendNull() }
        let query = PostgresQuery(unsafeSQL: Self.select + " WHERE c.id = $1 AND ($2::uuid IS NULL OR c.vendor_id = $2)" + lock, binds: bindings)
        guard var found = try await executor.first(query, logger: logger, VendorCase.init(row:)) else { return nil }
        found.updates = try await executor.all(
            "SELECT id, author, status, message, eta, at FROM vendor_case_updates WHERE case_id = \(id) ORDER BY at, id", logger: logger
        ) { row in
            VendorCaseUpdate(
                id: try row.get("id"), author: VendorCaseUpdate.Author(rawValue: try row.get("author", as: String.self)) ?? .vendor,
                status: try row.get("status", as: String?.self).flatMap(VendorCaseStatus.init(rawValue:)), message: try row.get("message"),
                eta: try row.get("eta"), at: try row.get("at"))
        }
        return found
    }

    /// A vendor's cases, newest first, a page at a time (updates are on the single-case view).
    public func list(
        vendorID: UUID, status: VendorCaseStatus? = nil, limit: Int, after cursor: CaseCursor?, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> Page<VendorCase> {
        var bindings = PostgresBindings()
        bindings.append(vendorID)
        bindings.append(cursor?.openedAtMicroseconds ?? Date.distantFuture.epochMicroseconds)
        bindings.append(cursor?.id ?? UUID(uuidString: "ffffffff-ffff-ffff-ffff-ffffffffffff")!)
        bindings.append(limit + 1)
        bindings.append(status?.rawValue)
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.select
                    + """
                     WHERE c.vendor_id = $1 AND ($5::text IS NULL OR c.status = $5)
                        AND (c.opened_at, c.id) < (timestamptz 'epoch' + $2 * interval '1 microsecond', $3) ORDER BY c.opened_at DESC, c.id DESC LIMIT $4
                    """,
                binds: bindings), logger: logger, VendorCase.init(row:))
        return Page(fetched: rows, limit: limit) { CaseCursor(openedAtMicroseconds: $0.openedAt.epochMicroseconds, id: $0.id).encoded }
    }

    /// Records a vendor's update and moves the case to its status. Any update acknowledges the case;
    /// `needs_info` counts a question; `resolved` stamps the resolution (the company verifies it);
    /// `rejected` closes the case (it keeps that status).
    public func addUpdate(_ update: VendorUpdateRequest, caseID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        let status = update.status.rawValue
        try await connection.execute(
            """
            WITH entry AS (
                INSERT INTO vendor_case_updates (id, case_id, author, status, message, eta, at)
                VALUES (\(UUID()), \(caseID), 'vendor', \(status), \(update.message), \(update.eta), \(now)))
            UPDATE vendor_cases SET status = \(status), updated_at = \(now),
                acknowledged_at = COALESCE(acknowledged_at, \(now)),
                questions = questions + CASE WHEN \(status) = 'needs_info' THEN 1 ELSE 0 END,
                resolved_at = CASE WHEN \(status) = 'resolved' THEN \(now) ELSE resolved_at END,
                closed_at = CASE WHEN \(status) = 'rejected' THEN \(now) END
            WHERE id = \(caseID)
            """, logger: logger)
    }

    /// Records the company's message to the vendor. A reopening sends a resolved case back to work
    /// (`in_progress`, its resolution cleared); an answer to a question puts it back `in_progress` too.
    public func addMessage(_ message: String, reopen: Bool, caseID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        try await connection.execute(
            """
            WITH entry AS (
                INSERT INTO vendor_case_updates (id, case_id, author, status, message, at)
                VALUES (\(UUID()), \(caseID), 'company', NULL, \(message), \(now)))
            UPDATE vendor_cases SET updated_at = \(now),
                status = CASE WHEN \(reopen) OR status = 'needs_info' THEN 'in_progress' ELSE status END,
                reopen_count = reopen_count + CASE WHEN \(reopen) THEN 1 ELSE 0 END,
                resolved_at = CASE WHEN \(reopen) THEN NULL ELSE resolved_at END,
                resolve_reminded_at = CASE WHEN \(reopen) THEN NULL ELSE resolve_reminded_at END
            WHERE id = \(caseID)
            """, logger: logger)
    }

    /// The agent who escalated the case's ticket (nil when it was escalated unassigned).
    func owner(ofCase caseID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> UUID? {
        try await executor.first("SELECT owner_id FROM vendor_cases WHERE id = \(caseID)", logger: logger) { try $0.get("owner_id", as: UUID?.self) } ?? nil
    }

    /// Closes the case (the company verified it, or took the ticket back).
    public func close(_ caseID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        try await connection.execute(
            "UPDATE vendor_cases SET status = 'closed', closed_at = \(now), updated_at = \(now) WHERE id = \(caseID) AND closed_at IS NULL", logger: logger)
    }

    /// Cases not closed, oldest first, a page at a time: only those past a target now when
    /// `overdue`, only one vendor's when `vendorID` is given. An agent sees the cases that return to
    /// one of its levels and those it owns; nil (the admin) sees all.
    public func listOpen(
        overdue: Bool, vendorID: UUID?, for agent: AgentIdentity? = nil, limit: Int, after cursor: CaseCursor?, on executor: some DatabaseExecutor,
        now: Date, logger: Logger
    ) async throws -> Page<VendorCase> {
        var bindings = PostgresBindings()
        bindings.append(cursor?.openedAtMicroseconds ?? Date.distantPast.epochMicroseconds)
        bindings.append(cursor?.id ?? UUID(uuidString: "00000000-0000-0000-0000-000000000000")!)
        bindings.append(limit + 1)
        bindings.append(overdue)
        bindings.append(vendorID)
        bindings.append(now)
        bindings.append(agent.map(TicketStore.tierList))
        bindings.append(agent?.id)
        bindings.append(agent.map(TicketStore.actor))
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.select
                    + """
                     WHERE c.closed_at IS NULL AND ($5::uuid IS NULL OR c.vendor_id = $5)
                        AND ($7::smallint[] IS NULL
                            OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = c.ticket_id AND \(TicketStore.agentMayRead("$8", tiers: "$7", actor: "$9"))))
                        AND (NOT $4 OR (c.acknowledged_at IS NULL AND c.acknowledge_due_at <= $6) OR (c.resolved_at IS NULL AND c.due_at <= $6))
                        AND (c.opened_at, c.id) > (timestamptz 'epoch' + $1 * interval '1 microsecond', $2)
                    ORDER BY c.opened_at, c.id LIMIT $3
                    """,
                binds: bindings), logger: logger, VendorCase.init(row:))
        return Page(fetched: rows, limit: limit) { CaseCursor(openedAtMicroseconds: $0.openedAt.epochMicroseconds, id: $0.id).encoded }
    }
}

/// Where a page of cases ends, opaque to vendors.
public struct CaseCursor: Sendable {
    public var openedAtMicroseconds: Int64
    public var id: UUID

    public init(openedAtMicroseconds: Int64, id: UUID) {
        self.openedAtMicroseconds = openedAtMicroseconds
        self.id = id
    }

    public var encoded: String { Cursor.encode(["\(openedAtMicroseconds)", id.uuidString]) }

    public init?(encoded: String) {
        guard let parts = Cursor.decode(encoded, count: 2), let micros = Int64(parts[0]), let id = UUID(uuidString: parts[1]) else { return nil }
        self.init(openedAtMicroseconds: micros, id: id)
    }
}

extension VendorCase {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), ticketId: try row.get("ticket_id"), ticketReference: Ticket.reference(number: try row.get("reference_number")),
            vendorId: try row.get("vendor_id"), status: try row.get("status"), subject: try row.get("subject"), description: try row.get("description"),
            priority: Priority(rank: Int(try row.get("priority", as: Int16.self))) ?? .p5, reason: try row.get("reason"), openedAt: try row.get("opened_at"),
            acknowledgeDueAt: try row.get("acknowledge_due_at"), dueAt: try row.get("due_at"), acknowledgedAt: try row.get("acknowledged_at"),
            resolvedAt: try row.get("resolved_at"), closedAt: try row.get("closed_at"),
            returnsToTier: Int(try row.get("returns_to_tier", as: Int16.self)), reopenCount: Int(try row.get("reopen_count", as: Int32.self)),
            questions: Int(try row.get("questions", as: Int32.self)), updates: [])
    }
}
