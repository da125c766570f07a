import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The SLA settings in force: a policy per priority and the business calendar.
struct SLASettings: Sendable {
    var policies: [Priority: SLAPolicy]
    var calendar: BusinessCalendar

    func policy(for priority: Priority) -> SLAPolicy { policies[priority] ?? .standard(for: priority) }
}

/// One row of `sla_clocks`: when to look next and what this cycle has announced.
struct SLAClockRow: Sendable {
    var ticketID: UUID
    var cycle: Int
    var warnedCycle: Int
    var firstResponseBreached: Bool
    var breachedCycle: Int
}

/// The only writer of `sla_policies`, `calendars` and `sla_clocks`.
struct SLAStore: Sendable {
    /// How often a paused ticket is looked at again (its resume may come from another service).
    static let pausedRecheck: TimeInterval = 60

    /// The policies and the calendar in one statement (read on every queued batch and agent action).
    func settings(on executor: some DatabaseExecutor, logger: Logger) async throws -> SLASettings {
        let row = try await executor.first(
            """
            SELECT (SELECT COALESCE(json_agg(json_build_object('priority', 'P' || p.priority, 'firstResponseSeconds', p.first_response_seconds,
                        'resolutionSeconds', p.resolution_seconds, 'businessHours', p.business_hours)), '[]') FROM sla_policies p)::text AS policies,
                CASE WHEN c.name IS NOT NULL THEN json_build_object('timeZone', c.time_zone, 'week', c.week, 'holidays', c.holidays)::text END AS calendar
            FROM (SELECT 1) AS one LEFT JOIN calendars c ON c.name = 'default'
            """, logger: logger
        ) { row in (try row.get("policies", as: String.self), try row.get("calendar", as: String?.self)) }
        let policies = try JSONCoding.decoder.decode([SLAPolicy].self, from: Data((row?.0 ?? "[]").utf8))
        let calendar = try row?.1.map { try JSONCoding.decoder.decode(BusinessCalendar.self, from: Data($0.utf8)) }
        return SLASettings(policies: Dictionary(policies.map { ($0.priority, $0) }, uniquingKeysWith: { first, _ in first }), calendar: calendar ?? .alwaysOpen)
    }

    func policies(on executor: some DatabaseExecutor, logger: Logger) async throws -> [SLAPolicy] {
        try await settings(on: executor, logger: logger).policies.values.sorted { $0.priority < $1.priority }
    }

    func put(_ policy: SLAPolicy, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            """
            INSERT INTO sla_policies (priority, first_response_seconds, resolution_seconds, business_hours, updated_at)
            VALUES (\(Int16(policy.priority.rank)), \(Int32(policy.firstResponseSeconds)), \(Int32(policy.resolutionSeconds)), \(policy.businessHours), \(now))
            ON CONFLICT (priority) DO UPDATE SET first_response_seconds = EXCLUDED.first_response_seconds,
                resolution_seconds = EXCLUDED.resolution_seconds, business_hours = EXCLUDED.business_hours, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    func put(_ calendar: BusinessCalendar, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws {
        try await executor.execute(
            """
            INSERT INTO calendars (name, time_zone, week, holidays, updated_at)
            VALUES ('default', \(calendar.timeZone), \(try JSONCoding.string(calendar.week))::jsonb, \(try JSONCoding.string(calendar.holidays))::jsonb, \(now))
            ON CONFLICT (name) DO UPDATE SET time_zone = EXCLUDED.time_zone, week = EXCLUDED.week, holidays = EXCLUDED.holidays,
                updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// Sets when each ticket's clock is looked at next (inserting rows for new tickets); a nil
    /// check removes the row (the ticket is closed for good).
    func schedule(_ checks: [(UUID, Date?, cycle: Int)], on executor: some DatabaseExecutor, logger: Logger) async throws {
        guard !checks.isEmpty else { return }
        let document = try JSONCoding.string(checks.map { Check(id: $0.0, micros: $0.1?.epochMicroseconds, cycle: $0.cycle) })
        try await executor.execute(
            """
            WITH c AS (SELECT * FROM jsonb_to_recordset(\(document)::jsonb) AS c(id uuid, micros bigint, cycle integer)),
            gone AS (DELETE FROM sla_clocks s USING c WHERE s.ticket_id = c.id AND c.micros IS NULL)
            INSERT INTO sla_clocks (ticket_id, check_at, cycle)
            SELECT id, timestamptz 'epoch' + micros * interval '1 microsecond', cycle FROM c WHERE micros IS NOT NULL
            ON CONFLICT (ticket_id) DO UPDATE SET check_at = EXCLUDED.check_at,
                warned_cycle = CASE WHEN EXCLUDED.cycle > sla_clocks.cycle THEN 0 ELSE sla_clocks.warned_cycle END,
                first_response_breached = sla_clocks.first_response_breached,
                breached_cycle = CASE WHEN EXCLUDED.cycle > sla_clocks.cycle THEN 0 ELSE sla_clocks.breached_cycle END,
                cycle = GREATEST(EXCLUDED.cycle, sla_clocks.cycle)
            """, logger: logger)
    }

    /// Clocks due at `now`, locked for this transaction with their tickets; a clock whose row or
    /// ticket someone else holds (another replica, an agent's change in progress) is skipped. Taking
    /// both at once keeps the lock order of an agent's change (ticket, then clock) from deadlocking
    /// with the watcher's.
    func due(now: Date, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [SLAClockRow] {
        try await connection.all(
            """
            SELECT c.ticket_id, c.cycle, c.warned_cycle, c.first_response_breached, c.breached_cycle
            FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id
            WHERE c.check_at <= \(now) ORDER BY c.check_at LIMIT \(limit) FOR UPDATE OF c, t SKIP LOCKED
            """, logger: logger
        ) { row in
            SLAClockRow(
                ticketID: try row.get("ticket_id"), cycle: Int(try row.get("cycle", as: Int32.self)),
                warnedCycle: Int(try row.get("warned_cycle", as: Int32.self)),
                firstResponseBreached: try row.get("first_response_breached"), breachedCycle: Int(try row.get("breached_cycle", as: Int32.self)))
        }
    }

    /// Records what a clock has announced and when to look next.
    func mark(_ row: SLAClockRow, checkAt: Date?, on connection: PostgresConnection, logger: Logger) async throws {
        guard let checkAt else {
            try await connection.execute("DELETE FROM sla_clocks WHERE ticket_id = \(row.ticketID)", logger: logger)
            return
        }
        try await connection.execute(
            """
            UPDATE sla_clocks SET check_at = \(checkAt), cycle = \(Int32(row.cycle)), warned_cycle = \(Int32(row.warnedCycle)),
                first_response_breached = \(row.firstResponseBreached), breached_cycle = \(Int32(row.breachedCycle))
            WHERE ticket_id = \(row.ticketID)
            """, logger: logger)
    }
}

/// One clock in `SLAStore.schedule`'s document.
private struct Check: Encodable {
    var id: UUID
    var micros: Int64?
    var cycle: Int
}

extension SLAState {
    /// When the watcher should look at this clock next: the warning, the due times not yet
    /// announced, a paused clock every minute, a stopped one not at all.
    func nextCheck(now: Date, row: SLAClockRow?) -> Date? {
        if stopped { return nil }
        if paused { return now.addingTimeInterval(SLAStore.pausedRecheck) }
        var candidates: [Date] = []
        if row?.warnedCycle != cycle, let warningAt { candidates.append(warningAt) }
        if row?.firstResponseBreached != true, firstRespondedAt == nil, let firstResponseDueAt { candidates.append(firstResponseDueAt) }
        if row?.breachedCycle != cycle, let resolutionDueAt { candidates.append(resolutionDueAt) }
        return candidates.min() ?? now.addingTimeInterval(SLAStore.pausedRecheck * 60)
    }
}
