import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Notices vendor cases past a target of their vendor's contract: not acknowledged by
/// `acknowledgeDueAt`, or not resolved by `dueAt`. For each, once, it records `vendor.overdue` on
/// the ticket's trail and sends the vendor a `vendor.case_overdue` reminder. Exactly once with any
/// number of replicas: one statement stamps the case's `*_reminded_at` on the rows it locks
/// (`SKIP LOCKED`) in the transaction that records the event and queues the webhook, and a stamped
/// case is never picked again. A reopened case may be reminded of its resolution again.
struct OverdueWatcher: Sendable {
    let work: CaseWork
    let client: PostgresClient
    let clock: any WallClock
    let doorbell: Doorbell

    enum Target: String, CaseIterable {
        case acknowledge, resolve

        var stamp: String { self == .acknowledge ? "acknowledge_reminded_at" : "resolve_reminded_at" }
        var pending: String {
            self == .acknowledge ? "acknowledged_at IS NULL AND acknowledge_due_at <= $1" : "resolved_at IS NULL AND due_at <= $1"
        }
    }

    /// One pass; returns how many reminders it sent.
    @discardableResult
    func tick(logger: Logger) async throws -> Int {
        var sent = 0
        for target in Target.allCases {
            while true {
                let batch = try await remind(target, logger: logger)
                sent += batch
                if batch < 100 { break }
            }
        }
        if sent > 0 { doorbell.ring() }
        return sent
    }

    /// Stamps and reminds up to 100 cases overdue on `target`, in one transaction.
    func remind(_ target: Target, logger: Logger) async throws -> Int {
        let now = clock.now()
        return try await client.transaction(logger: logger) { connection in
            let due = try await connection.all(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE vendor_cases c SET \(target.stamp) = $1
                        FROM (SELECT id FROM vendor_cases WHERE closed_at IS NULL AND \(target.stamp) IS NULL AND \(target.pending)
                              ORDER BY opened_at LIMIT 100 FOR UPDATE SKIP LOCKED) overdue
                        WHERE c.id = overdue.id
                        RETURNING c.id, c.ticket_id, c.vendor_id
                        """, binds: try PostgresBindings(now)), logger: logger
            ) { row in (try row.get("id", as: UUID.self), try row.get("ticket_id", as: UUID.self), try row.get("vendor_id", as: UUID.self)) }
            for (caseID, ticketID, vendorID) in due {
                let event = EventDraft(
                    VendorCaseChanged(caseId: caseID, vendorId: vendorID, target: target.rawValue), type: .vendorOverdue, actor: "system:vendor-bridge",
                    isPublic: false)
                // tier-queue tells the ticket's assignee.
                try await work.tickets.record(event, ticketID: ticketID, handOff: ["tier-queue"], on: connection, now: now, logger: logger)
                try await work.notify(.caseOverdue, caseID: caseID, overdue: target.rawValue, on: connection, now: now, logger: logger)
                logger.notice("vendor case overdue", metadata: ["case.id": "\(caseID)", "vendor.id": "\(vendorID)", "target": "\(target.rawValue)"])
            }
            return due.count
        }
    }
}
