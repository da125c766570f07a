import Foundation
import Logging
import PostgresNIO
import TierdeskModels

extension TicketStore {
    /// Loads, locks and changes a ticket in the caller's transaction. `to` is the lifecycle move the
    /// change makes (checked even when it is a self-loop such as a move to another tier's queue);
    /// `change` edits the ticket and may throw to refuse; any other status change must also be
    /// allowed by the lifecycle; `expectedVersion`, when given, must be the current one.
    public func update(
        _ id: UUID, to target: TicketStatus? = nil, from: Set<TicketStatus>? = nil, expectedVersion: Int? = nil, event: EventDraft,
        handOff: [String] = [], on connection: PostgresConnection, now: Date, logger: Logger, _ change: @Sendable (inout Ticket) throws -> Void = { _ in }
    ) async throws -> Ticket {
        guard let current = try await find(id, forUpdate: true, on: connection, logger: logger) else { throw TicketStoreError.notFound }
        if let expectedVersion, expectedVersion != current.version { throw TicketStoreError.staleVersion(current: current.version) }
        let checked = try TicketChange(current, to: target, from: from, event: event, handOff: handOff, change)
        return try await save([checked], on: connection, now: now, logger: logger)[0]
    }

    /// Loads and locks tickets for a batch of changes in the caller's transaction: one statement,
    /// rows locked in id order so two batches never deadlock. Unknown ids are left out.
    public func lock(_ ids: [UUID], on connection: PostgresConnection, logger: Logger) async throws -> [UUID: Ticket] {
        let tickets = try await connection.all(LockTickets(bindings: try PostgresBindings(ids)), logger: logger, Ticket.init(row:))
        return Dictionary(tickets.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Writes checked changes of distinct tickets with their events and hand-offs: one statement
    /// for the whole batch (the rows travel as one JSON document), guarded by each row's version.
    /// Answers the tickets as written, in the order given.
    public func save(_ changes: [TicketChange], on connection: PostgresConnection, now: Date, logger: Logger) async throws -> [Ticket] {
        guard !changes.isEmpty else { return [] }
        guard Set(changes.map(\.after.id)).count == changes.count else { throw SameTicketTwice() }
        let rows = changes.map { change in
            SavedRow(
                change.after, event: change.event, handOff: change.handOff,
                payload: change.handOff.isEmpty
                    ? nil : EventEnvelope(id: change.event.id, type: change.event.type, ticketId: change.after.id, occurredAt: now, data: change.event.data))
        }
        let written = try await connection.all(
            SaveTickets(bindings: try PostgresBindings(try JSONCoding.string(rows), now, source)), logger: logger
        ) { (try $0.get("id", as: UUID.self), (Int(try $0.get("version", as: Int32.self)), try $0.get("updated_at", as: Date.self))) }
        let versions = Dictionary(written, uniquingKeysWith: { first, _ in first })
        return try changes.map { change in
            guard let (version, updatedAt) = versions[change.after.id] else { throw TicketStoreError.staleVersion(current: change.before.version) }
            var ticket = change.after
            ticket.version = version
            ticket.updatedAt = updatedAt
            return ticket
        }
    }

    /// Appends an event to a ticket's trail (and hands it off) without changing the ticket. One
    /// statement: the event and its outbox rows go in a single round trip. No NOTIFY: the writer's
    /// replica is rung after the commit (`RingAfterWritesMiddleware`), the others poll.
    public func record(_ event: EventDraft, ticketID: UUID, handOff: [String] = [], on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        let data = try JSONCoding.string(event.data)
        let envelope = EventEnvelope(id: event.id, type: event.type, ticketId: ticketID, occurredAt: now, data: event.data)
        let payload = handOff.isEmpty ? "{}" : try JSONCoding.string(envelope)
        try await connection.execute(
            """
            WITH event AS (
                INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
                VALUES (\(event.id), \(ticketID), \(event.type.rawValue), \(event.actor), \(event.isPublic), \(data)::jsonb, \(now))),
            handoff AS (
                INSERT INTO outbox (event_id, destination, source, event_type, ticket_id, payload, next_attempt_at, created_at)
                SELECT \(event.id), destination, \(source), \(event.type.rawValue), \(ticketID), \(payload)::jsonb, now(), \(now)
                FROM unnest(\(handOff)::text[]) AS destination)
            SELECT 1
            """, logger: logger)
    }

    /// Records who set each ticket's category (`CategorySource`, triage's decision): no event, no new
    /// version. Storms and recurring incidents count only categories somebody vouched for.
    public func setCategorySources(_ sources: [(id: UUID, source: String)], on connection: PostgresConnection, logger: Logger) async throws {
        guard !sources.isEmpty else { return }
        try await connection.execute(
            """
            UPDATE tickets t SET category_source = s.source
            FROM unnest(\(sources.map(\.id))::uuid[], \(sources.map(\.source))::text[]) AS s(id, source) WHERE t.id = s.id
            """, logger: logger)
    }

    /// Sets tickets' due times, which the SLA clock derives from the trail: no event, no new
    /// version (an agent's `If-Match` stays good). A nil due time keeps the one stored (a paused clock).
    public func setDueTimes(_ dues: [(id: UUID, firstResponse: Date?, resolution: Date?)], on executor: some DatabaseExecutor, logger: Logger)
        async throws
    {
        guard !dues.isEmpty else { return }
        let document = try JSONCoding.string(
            dues.map { DueRow(id: $0.id, fr: $0.firstResponse?.epochMicroseconds, res: $0.resolution?.epochMicroseconds) })
        try await executor.execute(
            """
            WITH d AS (
                SELECT d.id, timestamptz 'epoch' + d.fr * interval '1 microsecond' AS fr, timestamptz 'epoch' + d.res * interval '1 microsecond' AS res
                FROM jsonb_to_recordset(\(document)::jsonb) AS d(id uuid, fr bigint, res bigint))
            UPDATE tickets t SET first_response_due_at = COALESCE(d.fr, t.first_response_due_at), resolution_due_at = COALESCE(d.res, t.resolution_due_at)
            FROM d WHERE t.id = d.id
                AND (t.first_response_due_at, t.resolution_due_at) IS DISTINCT FROM (COALESCE(d.fr, t.first_response_due_at), COALESCE(d.res, t.resolution_due_at))
            """, logger: logger)
    }

    /// A batch's tickets, read and locked in id order.
    struct LockTickets: HotStatement {
        static let sql = selectTicket + " WHERE t.id = ANY($1) ORDER BY t.id FOR UPDATE OF t"
        let bindings: PostgresBindings
    }

    /// A batch's changes (one JSON document of `SavedRow`s) with their events and hand-offs; the
    /// ticket's columns come from `TicketColumns.saved`.
    struct SaveTickets: HotStatement {
        static let sql = """
            WITH u AS (
                SELECT * FROM jsonb_to_recordset($1::jsonb) AS u(
                    id uuid, version integer, \(TicketColumns.saved.map { "\($0.name) \($0.type)" }.joined(separator: ", ")),
                    event_id uuid, event_type text, actor text, public boolean, data jsonb, hand_off text[], payload jsonb)),
            updated AS (
                UPDATE tickets t SET \(TicketColumns.saved.map { "\($0.name) = \($0.assignment)" }.joined(separator: ", ")),
                    updated_at = $2, version = t.version + 1
                FROM u WHERE t.id = u.id AND t.version = u.version
                RETURNING t.id, t.version, t.updated_at),
            event AS (
                INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at, status, tier)
                SELECT u.event_id, u.id, u.event_type, u.actor, u.public, u.data, $2, u.status, u.tier FROM u),
            handoff AS (
                INSERT INTO outbox (event_id, destination, source, event_type, ticket_id, payload, next_attempt_at, created_at)
                SELECT u.event_id, destination, $3, u.event_type, u.id, u.payload, now(), $2
                FROM u CROSS JOIN LATERAL unnest(u.hand_off) AS destination)
            SELECT id, version, updated_at FROM updated
            """
        let bindings: PostgresBindings
    }
}

/// One row of `TicketStore.save`'s document, in the columns' names (a field left out is NULL): the
/// ticket's id and version as read, its columns of `TicketColumns.saved`, and the change's event.
private struct SavedRow: Encodable {
    var ticket: Ticket
    var event: EventDraft
    var handOff: [String]
    var payload: EventEnvelope?

    init(_ ticket: Ticket, event: EventDraft, handOff: [String], payload: EventEnvelope?) {
        self.ticket = ticket
        self.event = event
        self.handOff = handOff
        self.payload = payload
    }

    func encode(to encoder: any Encoder) throws {
        typealias Key = TicketColumns.ColumnKey
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(ticket.id, forKey: Key("id"))
        try container.encode(ticket.version, forKey: Key("version"))
        for column in TicketColumns.saved { try column.encode(ticket, &container) }
        try container.encode(event.id, forKey: Key("event_id"))
        try container.encode(event.type.rawValue, forKey: Key("event_type"))
        try container.encode(event.actor, forKey: Key("actor"))
        try container.encode(event.isPublic, forKey: Key("public"))
        try container.encode(event.data, forKey: Key("data"))
        try container.encode(handOff, forKey: Key("hand_off"))
        try container.encode(payload, forKey: Key("payload"))
    }
}

/// One ticket's due times in `TicketStore.setDueTimes`'s document, in microseconds.
private struct DueRow: Encodable {
    var id: UUID
    var fr: Int64?
    var res: Int64?
}
