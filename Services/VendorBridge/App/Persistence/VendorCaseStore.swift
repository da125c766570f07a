import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `vendor_cases` and `vendor_case_updates`.
public struct VendorCaseStore: Sendable {
    public init() {}

    static let select = """
        SELECT c.id, c.ticket_id, c.vendor_id, c.status, c.reason, c.opened_at, c.due_at, t.reference_number, t.subject, t.description, t.priority
        FROM vendor_cases c JOIN tickets t ON t.id = c.ticket_id
        """

    /// Opens a case for a ticket escalated to the vendor, due by the ticket's resolution target.
    public func open(ticket: Ticket, vendorID: UUID, reason: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> UUID {
        let id = UUID()
        let due = now.addingTimeInterval(TimeInterval(SLATarget.standard(for: ticket.priority).resolutionSeconds))
        try await connection.execute(
            """
            INSERT INTO vendor_cases (id, ticket_id, vendor_id, status, reason, opened_at, due_at, updated_at)
            VALUES (\(id), \(ticket.id), \(vendorID), 'open', \(reason), \(now), \(due), \(now))
            """, logger: logger)
        return id
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
            "SELECT id, status, message, eta, at FROM vendor_case_updates WHERE case_id = \(id) ORDER BY at, id", logger: logger
        ) { row in
            VendorCaseUpdate(
                id: try row.get("id"), status: try row.get("status"), message: try row.get("message"), eta: try row.get("eta"), at: try row.get("at"))
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
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last.map { CaseCursor(openedAtMicroseconds: $0.openedAt.epochMicroseconds, id: $0.id).encoded } : nil
        return Page(items: page, nextCursor: next)
    }

    /// Records a vendor's update and moves the case to its status.
    public func addUpdate(_ update: VendorUpdateRequest, caseID: UUID, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        try await connection.execute(
            """
            INSERT INTO vendor_case_updates (id, case_id, status, message, eta, at)
            VALUES (\(UUID()), \(caseID), \(update.status.rawValue), \(update.message), \(update.eta), \(now))
            """, logger: logger)
        try await connection.execute(
            "UPDATE vendor_cases SET status = \(update.status.rawValue), updated_at = \(now) WHERE id = \(caseID)", logger: logger)
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
            dueAt: try row.get("due_at"), updates: [])
    }
}
