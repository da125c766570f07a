import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The reminder and auto-resolve policy for tickets waiting on their requester: `reminderAfter`
/// days into a wait (since the ticket's latest `ticket.pending`), one reminder mail; after
/// `resolveAfter` days, the ticket is resolved through the ticket store with an event that says
/// why (the resolved mail follows from it, as from an agent's). 0 turns either off. Every replica
/// may run a pass: tickets are taken `FOR UPDATE SKIP LOCKED` and a period's reminder is a row of
/// `requester_reminders` written with its mail, so each happens once.
struct RequesterReminders: Sendable {
    let mail: RequesterMail
    let tickets: TicketStore
    let reminderAfterDays: Int
    let resolveAfterDays: Int
    static let actor = "system:intake"

    /// What a pass did.
    struct Pass: Sendable, Equatable {
        var reminded = 0
        var resolved = 0
    }

    /// One pass over up to `limit` due tickets, in one transaction.
    func run(client: PostgresClient, now: Date, limit: Int = 100, logger: Logger) async throws -> Pass {
        let remindBefore = reminderAfterDays > 0 ? now.addingTimeInterval(-Double(reminderAfterDays) * 86_400) : nil
        let resolveBefore = resolveAfterDays > 0 ? now.addingTimeInterval(-Double(resolveAfterDays) * 86_400) : nil
        guard let dueBefore = [remindBefore, resolveBefore].compactMap({ $0 }).max() else { return Pass() }
        let resolveCutoff = resolveBefore ?? .distantPast
        let (mail, tickets, resolveAfterDays) = (mail, tickets, resolveAfterDays)
        return try await client.transaction(logger: logger) { connection in
            // Due: waiting past a cutoff, and either due to be resolved or not yet reminded in this wait.
            let due = try await connection.all(
                """
                SELECT t.id, p.at AS pending_since, p.data::text AS data FROM tickets t
                CROSS JOIN LATERAL (
                    SELECT e.at, e.data FROM ticket_events e WHERE e.ticket_id = t.id AND e.type = 'ticket.pending' ORDER BY e.at DESC LIMIT 1) p
                WHERE t.status = 'pending_customer' AND p.at <= \(dueBefore)
                    AND (p.at <= \(resolveCutoff)
                        OR NOT EXISTS (SELECT 1 FROM requester_reminders r WHERE r.ticket_id = t.id AND r.pending_since = p.at))
                ORDER BY p.at LIMIT \(Int32(limit))
                FOR UPDATE OF t SKIP LOCKED
                """, logger: logger
            ) { row in
                let data = try JSONCoding.decoder.decode(JSONValue.self, from: Data(try row.get("data", as: String.self).utf8))
                return (id: try row.get("id", as: UUID.self), since: try row.get("pending_since", as: Date.self), pending: TicketPending(data: data))
            }
            guard !due.isEmpty else { return Pass() }
            var pass = Pass()
            var reminders: [(id: UUID, since: Date, note: String?)] = []
            for ticket in due {
                if ticket.since <= resolveCutoff {
                    let event = EventDraft(
                        TicketResolved(resolution: "Resolved automatically: no answer from you in \(resolveAfterDays) days.", code: nil), actor: Self.actor)
                    _ = try await tickets.update(ticket.id, to: .resolved, from: [.pendingCustomer], event: event, on: connection, now: now, logger: logger)
                    pass.resolved += 1
                } else {
                    reminders.append((ticket.id, ticket.since, ticket.pending?.note))
                }
            }
            guard !reminders.isEmpty else { return pass }
            try await connection.execute(
                """
                INSERT INTO requester_reminders (ticket_id, pending_since, sent_at)
                SELECT * FROM unnest(\(reminders.map(\.id))::uuid[], \(reminders.map(\.since))::timestamptz[], \(reminders.map { _ in now })::timestamptz[])
                """, logger: logger)
            let threads = try await RequesterMail.threads(of: reminders.map(\.id), on: connection, logger: logger)
            var entries: [MailOutbox.Entry] = []
            for reminder in reminders {
                guard let thread = threads[reminder.id] else { continue }
                var values = ["waitingDays": "\(Int(now.timeIntervalSince(reminder.since) / 86_400))"]
                if resolveAfterDays > 0 { values["autoResolveDays"] = "\(resolveAfterDays)" }
                guard let outgoing = mail.compose(.reminder, message: reminder.note, thread: thread, values: values) else { continue }
                entries.append(MailOutbox.Entry(outgoing, kind: RequesterMail.Kind.reminder.rawValue, ticketID: reminder.id))
            }
            try await MailOutbox.enqueue(entries, source: RequesterMail.source, on: connection, now: now, logger: logger)
            pass.reminded = entries.count
            return pass
        }
    }
}
