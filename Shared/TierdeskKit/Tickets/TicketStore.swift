import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// What a new ticket starts as.
public struct TicketDraft: Sendable {
    public var id: UUID
    public var status: TicketStatus
    public var tier: Tier?
    public var impact: Impact
    public var urgency: Urgency
    public var category: String?
    public var channel: TierdeskModels.Channel
    public var subject: String
    public var description: String
    public var requesterID: UUID
    public var metadata: [String: JSONValue]
    public var channelDetails: [String: JSONValue]

    public init(
        id: UUID = .timeOrdered(), status: TicketStatus = .new, tier: Tier? = nil, impact: Impact, urgency: Urgency, category: String?,
        channel: TierdeskModels.Channel, subject: String, description: String, requesterID: UUID, metadata: [String: JSONValue] = [:],
        channelDetails: [String: JSONValue] = [:]
    ) {
        self.channelDetails = channelDetails
        self.id = id
        self.status = status
        self.tier = tier
        self.impact = impact
        self.urgency = urgency
        self.category = category
        self.channel = channel
        self.subject = subject
        self.description = description
        self.requesterID = requesterID
        self.metadata = metadata
    }
}

/// One line for the audit trail; handed to peers too when the change names destinations.
public struct EventDraft: Sendable {
    public var id: UUID
    public var type: EventType
    public var actor: String
    public var isPublic: Bool
    public var data: JSONValue

    public init(id: UUID = .timeOrdered(), type: EventType, actor: String, isPublic: Bool = true, data: JSONValue = [:]) {
        self.id = id
        self.type = type
        self.actor = actor
        self.isPublic = isPublic
        self.data = data
    }
}

/// A checked change of one ticket, ready for `TicketStore.save`: the ticket as read and locked,
/// as it will be, and the event (with its hand-offs) that records the change.
public struct TicketChange: Sendable {
    public let before: Ticket
    public let after: Ticket
    public let event: EventDraft
    public let handOff: [String]

    /// `target` is the lifecycle move the change makes (checked even when it is a self-loop such as
    /// a move to another tier's queue); `from`, when given, the statuses the move may start from (an
    /// action narrower than the lifecycle, such as escalating a ticket that is being worked);
    /// `change` edits the ticket and may throw to refuse; any other status change must also be
    /// allowed by the lifecycle.
    public init(
        _ current: Ticket, to target: TicketStatus? = nil, from: Set<TicketStatus>? = nil, event: EventDraft, handOff: [String] = [],
        _ change: (inout Ticket) throws -> Void = { _ in }
    ) throws {
        if let from, !from.contains(current.status) {
            throw TicketStoreError.invalidTransition(from: current.status, to: target ?? current.status)
        }
        var ticket = current
        if let target {
            guard current.status.canTransition(to: target) else { throw TicketStoreError.invalidTransition(from: current.status, to: target) }
            ticket.status = target
        }
        try change(&ticket)
        if ticket.status != current.status && !current.status.canTransition(to: ticket.status) {
            throw TicketStoreError.invalidTransition(from: current.status, to: ticket.status)
        }
        before = current
        after = ticket
        self.event = event
        self.handOff = handOff
    }
}

/// One row of `TicketStore.save`'s document, in the columns' names (a field left out is NULL).
private struct SavedRow: Encodable {
    var id: UUID
    var version: Int
    var status: String
    var tier: Int?
    var priority: Int
    var impact: String
    var urgency: String
    var category: String?
    var assigneeId: UUID?
    var requiredSkills: [String]
    var vendorId: UUID?
    var firstResponseDueUs: Int64?
    var resolutionDueUs: Int64?
    var eventId: UUID
    var eventType: String
    var actor: String
    var `public`: Bool
    var data: JSONValue
    var handOff: [String]
    var payload: EventEnvelope?

    init(_ ticket: Ticket, event: EventDraft, handOff: [String], payload: EventEnvelope?) {
        id = ticket.id
        version = ticket.version
        status = ticket.status.rawValue
        tier = ticket.tier?.rawValue
        priority = ticket.priority.rank
        impact = ticket.impact.rawValue
        urgency = ticket.urgency.rawValue
        category = ticket.category
        assigneeId = ticket.assigneeId
        requiredSkills = ticket.requiredSkills
        vendorId = ticket.vendorId
        firstResponseDueUs = ticket.firstResponseDueAt?.epochMicroseconds
        resolutionDueUs = ticket.resolutionDueAt?.epochMicroseconds
        eventId = event.id
        eventType = event.type.rawValue
        actor = event.actor
        self.public = event.isPublic
        data = event.data
        self.handOff = handOff
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case id, version, status, tier, priority, impact, urgency, category, actor, `public`, data, payload
        case assigneeId = "assignee_id"
        case requiredSkills = "required_skills"
        case vendorId = "vendor_id"
        case firstResponseDueUs = "first_response_due_us"
        case resolutionDueUs = "resolution_due_us"
        case eventId = "event_id"
        case eventType = "event_type"
        case handOff = "hand_off"
    }
}

/// Failures of the ticket store, each with its HTTP meaning.
public enum TicketStoreError: Error, ProblemConvertible, Equatable {
    case notFound
    case staleVersion(current: Int)
    case invalidTransition(from: TicketStatus, to: TicketStatus)
    /// The agent already holds as many tickets in progress as its WIP limit.
    case wipLimitReached(limit: Int)

    public var problem: Problem {
        switch self {
        case .notFound: .notFound("ticket")
        case .staleVersion(let current):
            .conflict("the ticket changed since you read it (now version \(current)); read it again", type: "stale-version")
        case .invalidTransition(let from, let to):
            .conflict("a ticket that is \(from.rawValue) cannot become \(to.rawValue)", type: "invalid-transition")
        case .wipLimitReached(let limit):
            .conflict("you hold \(limit) tickets in progress, your WIP limit; finish one before claiming another", type: "wip-limit-reached")
        }
    }
}

/// The only writer of `tickets` and `ticket_events`. Every change is a lifecycle transition checked
/// by `TicketStatus`, guarded by the row's `version`, and recorded in `ticket_events` (and, for
/// hand-offs, the outbox) in the caller's transaction.
public struct TicketStore: Sendable {
    /// The service writing; outbox rows carry it so its own dispatcher delivers them.
    public let source: String

    public init(source: String) { self.source = source }

    /// The columns of a ticket row `t` joined with its requester `r`, as `Ticket.init(row:)` reads them.
    static let ticketColumns = """
        t.id, t.reference_number, t.status, t.tier, t.priority, t.impact, t.urgency, t.category, t.channel,
        t.subject, t.description, t.assignee_id, t.required_skills, t.vendor_id, t.first_response_due_at,
        t.resolution_due_at, t.created_at, t.updated_at, t.version, t.metadata::text AS metadata,
        t.channel_details::text AS channel_details,
        r.id AS r_id, r.email AS r_email, r.name AS r_name, r.phone AS r_phone, r.organization AS r_organization
        """

    static let selectTicket = "SELECT \(ticketColumns) FROM tickets t JOIN requesters r ON r.id = t.requester_id"

    /// What a list shows of a ticket (`TicketSummary`): no requester, text or JSON columns to read,
    /// send and decode (a queue page of 50 decoded 100 JSON documents it then dropped).
    static let selectSummary = """
        SELECT t.id, t.reference_number, t.status, t.tier, t.priority, t.category, t.subject, t.assignee_id, t.resolution_due_at, t.created_at
        FROM tickets t
        """

    /// Stores a new ticket with its first event; `handOff` names the peers the event goes to.
    public func insert(
        _ draft: TicketDraft, event: EventDraft, handOff: [String] = [], on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> Ticket {
        let priority = Priority(impact: draft.impact, urgency: draft.urgency)
        let metadata = try JSONCoding.string(draft.metadata)
        let channelDetails = try JSONCoding.string(draft.channelDetails)
        let ticket = try await connection.first(
            """
            WITH t AS (
                INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description,
                                     requester_id, metadata, channel_details, created_at, updated_at)
                VALUES (\(draft.id), \(draft.status.rawValue), \(draft.tier.map { Int16($0.rawValue) }), \(Int16(priority.rank)),
                        \(draft.impact.rawValue), \(draft.urgency.rawValue), \(draft.category), \(draft.channel.rawValue),
                        \(draft.subject), \(draft.description), \(draft.requesterID), \(metadata)::jsonb, \(channelDetails)::jsonb, \(now), \(now))
                RETURNING *)
            SELECT \(unescaped: Self.ticketColumns) FROM t JOIN requesters r ON r.id = t.requester_id
            """, logger: logger, Ticket.init(row:))
        guard let ticket else { throw TicketStoreError.notFound }
        try await record(event, ticketID: draft.id, handOff: handOff, on: connection, now: now, logger: logger)
        return ticket
    }

    /// What a submission needs to answer: the ticket opened (or the identical one opened before).
    public struct Opened: Sendable, Equatable {
        public var id: UUID
        public var reference: String
        public var status: TicketStatus
        /// An identical ticket of the same requester was opened since `duplicateSince`: this is it.
        public var duplicate: Bool

        init(row: PostgresRandomAccessRow) throws {
            id = try row.get("ticket_id")
            reference = Ticket.reference(number: try row.get("ticket_reference"))
            status = try row.get("ticket_status")
            duplicate = try row.get("duplicate")
        }
    }

    /// Whom a submission comes from: found by `normalizedEmail`, or created with these details (and
    /// the draft's `requesterID`); an existing requester is left exactly as it is.
    public struct Submitter: Sendable {
        public var email: String
        public var normalizedEmail: String
        public var name: String?
        public var phone: String?
        public var organization: String?

        public init(email: String, normalizedEmail: String, name: String?, phone: String?, organization: String?) {
            self.email = email
            self.normalizedEmail = normalizedEmail
            self.name = name
            self.phone = phone
            self.organization = organization
        }
    }

    /// A submission in one statement and one round trip, atomic without a transaction of the
    /// caller's (`submit_ticket`, migration 0014): the requester, then the ticket with its first
    /// (public) event and hand-offs (`insert_ticket`, migration 0006). With `duplicateSince`, a
    /// ticket of the same requester with the same channel, subject and description opened since
    /// then is answered instead; submissions of one requester are serialised so two identical ones
    /// never both open a ticket. The first event (`ticket.created`, the ticket's id) names `actor`,
    /// or the requester when nil (its id is known only inside the statement).
    public func submit(
        _ draft: TicketDraft, by submitter: Submitter, actor: String?, eventData: JSONValue, handOff: [String], duplicateSince: Date?,
        on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws -> Opened {
        let envelope = EventEnvelope(id: draft.id, type: .ticketCreated, ticketId: draft.id, occurredAt: now, data: eventData)
        let opened = try await executor.first(
            SubmitTicket(
                bindings: try PostgresBindings(
                    draft.requesterID, submitter.email, submitter.normalizedEmail, submitter.name, submitter.phone, submitter.organization, draft.id,
                    draft.status.rawValue, draft.tier.map { Int16($0.rawValue) }, Int16(Priority(impact: draft.impact, urgency: draft.urgency).rank),
                    draft.impact.rawValue, draft.urgency.rawValue, draft.category, draft.channel.rawValue, draft.subject, draft.description,
                    try JSONCoding.string(draft.metadata), try JSONCoding.string(draft.channelDetails), now, duplicateSince, draft.id,
                    EventType.ticketCreated.rawValue, actor, try JSONCoding.string(eventData), source, handOff.isEmpty ? "{}" : try JSONCoding.string(envelope),
                    handOff)), logger: logger, Opened.init(row:))
        guard let opened else { throw TicketStoreError.notFound }
        return opened
    }

    /// A ticket worked before Tierdesk kept it: imported closed, with its trail (created, resolved,
    /// closed). For demo data and migrations from another help desk; a ticket already present (by
    /// id) is left as it is, so an import can run again.
    public struct HistoricalTicket: Sendable, Encodable {
        public var id: UUID
        public var requesterId: UUID
        public var tier: Int
        public var priority: Int
        public var impact: Impact
        public var urgency: Urgency
        public var category: String
        public var channel: TierdeskModels.Channel
        public var subject: String
        public var description: String
        public var resolution: String
        public var openedAt: Date
        public var resolvedAt: Date

        public init(
            id: UUID, requesterId: UUID, tier: Tier, impact: Impact, urgency: Urgency, category: String, channel: TierdeskModels.Channel, subject: String,
            description: String, resolution: String, openedAt: Date, resolvedAt: Date
        ) {
            self.id = id
            self.requesterId = requesterId
            self.tier = tier.rawValue
            self.priority = Priority(impact: impact, urgency: urgency).rank
            self.impact = impact
            self.urgency = urgency
            self.category = category
            self.channel = channel
            self.subject = subject
            self.description = description
            self.resolution = resolution
            self.openedAt = openedAt
            self.resolvedAt = resolvedAt
        }
    }

    /// Imports historical tickets in one statement; answers how many were new.
    public func importClosed(_ tickets: [HistoricalTicket], on executor: some DatabaseExecutor, logger: Logger) async throws -> Int {
        guard !tickets.isEmpty else { return 0 }
        return try await executor.first(
            """
            WITH h AS (
                SELECT * FROM jsonb_to_recordset(\(try JSONCoding.string(tickets))::jsonb) AS h(
                    id uuid, "requesterId" uuid, tier smallint, priority smallint, impact text, urgency text, category text, channel text,
                    subject text, description text, resolution text, "openedAt" timestamptz, "resolvedAt" timestamptz)),
            t AS (
                INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                                     created_at, updated_at)
                SELECT id, 'closed', tier, priority, impact, urgency, category, channel, subject, description, "requesterId", "openedAt", "resolvedAt"
                FROM h ON CONFLICT (id) DO NOTHING RETURNING id),
            e AS (
                INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
                SELECT gen_random_uuid(), h.id, x.type, x.actor, true, x.data, x.at
                FROM h JOIN t ON t.id = h.id CROSS JOIN LATERAL (VALUES
                    ('ticket.created', 'import', jsonb_build_object('channel', h.channel), h."openedAt"),
                    ('ticket.resolved', 'import', jsonb_build_object('resolution', h.resolution, 'tier', h.tier), h."resolvedAt"),
                    ('ticket.closed', 'import', '{}'::jsonb, h."resolvedAt")) AS x(type, actor, data, at))
            SELECT count(*) AS imported FROM t
            """, logger: logger
        ) { Int(try $0.get("imported", as: Int64.self)) } ?? 0
    }

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
        let rows = try changes.map { change in
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

    /// Claims the next ticket of a tier this agent may take (skills covered, WIP limit not reached) and
    /// records the claim: one statement calling `claim_next_ticket` (migration 0004), which serialises
    /// one agent's claims with an advisory lock and takes the ticket `FOR UPDATE SKIP LOCKED`, so any
    /// number of claimers never take one ticket twice and no agent passes its limit. Nil when nothing
    /// is claimable; `wipLimitReached` when the agent is full.
    public func claim(tier: Tier, agent: AgentIdentity, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Ticket? {
        let data = try JSONCoding.string(["tier": tier.rawValue])
        do {
            return try await executor.first(
                ClaimNextTicket(
                    bindings: try PostgresBindings(
                        Int16(tier.rawValue), agent.id, agent.skills, Int32(agent.wipLimit), now, UUID.timeOrdered(at: now), Self.actor(agent), data)),
                logger: logger, Ticket.init(row:))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "TDWIP" {
            throw TicketStoreError.wipLimitReached(limit: agent.wipLimit)
        }
    }

    /// A ticket by id, or nil.
    public func find(_ id: UUID, forUpdate: Bool = false, on executor: some DatabaseExecutor, logger: Logger) async throws -> Ticket? {
        let lock = forUpdate ? " FOR UPDATE OF t" : ""
        return try await executor.first(
            PostgresQuery(unsafeSQL: Self.selectTicket + " WHERE t.id = $1" + lock, binds: try PostgresBindings(id)), logger: logger, Ticket.init(row:))
    }

    /// Summaries of the tickets with these ids, in the order given; for an agent (`readableBy`) only
    /// those it may read. One statement, whatever the number of ids.
    public func summaries(
        of ids: [UUID], readableBy agent: AgentIdentity? = nil, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> [TicketSummary] {
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.id = ANY($1) AND ($2::uuid IS NULL OR \(Self.agentMayRead("$2", tiers: "$3", actor: "$4")))
                    """,
                binds: try PostgresBindings(ids, agent?.id, agent.map(Self.tierList), agent.map(Self.actor))), logger: logger,
            TicketSummary.init(row:))
        let byID = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    /// The level a resolved ticket goes back to when it reopens: its own level, or for a ticket at
    /// level 4 (whose queue nobody serves) the level that escalated it to the vendor, level 1 when a
    /// triage rule sent it there.
    public func reopeningTier(of ticket: Ticket, on executor: some DatabaseExecutor, logger: Logger) async throws -> Tier {
        guard let tier = ticket.tier, tier == .vendor else { return max(ticket.tier ?? .firstLine, .firstLine) }
        let from = try await executor.first(
            """
            SELECT (data->>'fromTier')::int AS from_tier FROM ticket_events
            WHERE ticket_id = \(ticket.id) AND type = 'ticket.escalated' AND data->>'toTier' = '4' ORDER BY seq DESC LIMIT 1
            """, logger: logger
        ) { try $0.get("from_tier", as: Int?.self) }
        return (from ?? nil).flatMap(Tier.init(rawValue:)).flatMap { Tier.agentTiers.contains($0) ? $0 : nil } ?? .firstLine
    }

    /// Whether the ticket's trail holds an event of `type` (a vendor case was opened, say).
    public func hasEvent(_ type: EventType, ticketID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first(
            "SELECT 1 AS found WHERE EXISTS (SELECT 1 FROM ticket_events WHERE ticket_id = \(ticketID) AND type = \(type.rawValue))", logger: logger
        ) { _ in true } ?? false
    }

    /// The trail of a ticket in order; for a requester only public events, without the part of
    /// their data meant for agents (the key `internal`, such as triage's explanation).
    public func events(of ticketID: UUID, publicOnly: Bool, on executor: some DatabaseExecutor, logger: Logger) async throws -> [TicketEvent] {
        try await executor.all(
            """
            SELECT id, type, actor, (CASE WHEN \(publicOnly) AND jsonb_typeof(data) = 'object' THEN data - 'internal' ELSE data END)::text AS data, at,
                status, tier
            FROM ticket_events WHERE ticket_id = \(ticketID) AND (public OR NOT \(publicOnly)) ORDER BY seq
            """, logger: logger, TicketEvent.init(row:))
    }

    /// The whole trails of many tickets (internal events included), in order, by ticket: one statement.
    public func trails(of ticketIDs: [UUID], on executor: some DatabaseExecutor, logger: Logger) async throws -> [UUID: [TicketEvent]] {
        let rows = try await executor.all(
            """
            SELECT ticket_id, id, type, actor, data::text AS data, at, status, tier FROM ticket_events
            WHERE ticket_id = ANY(\(ticketIDs)) ORDER BY ticket_id, seq
            """, logger: logger
        ) { row in (try row.get("ticket_id", as: UUID.self), try TicketEvent(row: row)) }
        return Dictionary(grouping: rows, by: \.0).mapValues { $0.map(\.1) }
    }

    /// A requester's other tickets, newest first; for an agent (`readableBy`) only those it may read.
    public func history(
        requesterID: UUID, excluding ticketID: UUID?, readableBy agent: AgentIdentity? = nil, limit: Int = 20, on executor: some DatabaseExecutor,
        logger: Logger
    ) async throws -> [TicketSummary] {
        try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.requester_id = $1 AND t.id IS DISTINCT FROM $2 AND ($4::uuid IS NULL OR \(Self.agentMayRead("$4", tiers: "$5", actor: "$6")))
                    ORDER BY t.created_at DESC LIMIT $3
                    """,
                binds: try PostgresBindings(requesterID, ticketID, limit, agent?.id, agent.map(Self.tierList), agent.map(Self.actor))), logger: logger,
            TicketSummary.init(row:))
    }

    /// Whether an agent may read a ticket: it is at one of the agent's levels, assigned to the
    /// agent, or the agent has worked on it (an event of the trail names it as actor). Anything else
    /// is answered as if the ticket did not exist, so ids cannot be probed.
    public func agentMayRead(_ ticket: Ticket, agent: AgentIdentity, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        if let tier = ticket.tier, agent.tiers.contains(tier) { return true }
        if ticket.assigneeId == agent.id { return true }
        return try await executor.first(
            """
            SELECT 1 AS worked WHERE EXISTS (SELECT 1 FROM ticket_events WHERE ticket_id = \(ticket.id) AND actor = \(Self.actor(agent)))
                OR EXISTS (SELECT 1 FROM ticket_collaborators WHERE ticket_id = \(ticket.id) AND agent_id = \(agent.id))
            """, logger: logger
        ) { _ in true } ?? false
    }

    /// The same rule in SQL over a ticket row `t`, with the agent's id, levels and actor name as parameters.
    public static func agentMayRead(_ id: String, tiers: String, actor: String) -> String {
        """
        (t.tier = ANY(\(tiers)::smallint[]) OR t.assignee_id = \(id) OR EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.actor = \(actor))
            OR EXISTS (SELECT 1 FROM ticket_collaborators c WHERE c.ticket_id = t.id AND c.agent_id = \(id)))
        """
    }

    public static func tierList(_ agent: AgentIdentity) -> [Int16] { agent.tiers.map { Int16($0.rawValue) } }

    /// How the trail names an agent's actions.
    public static func actor(_ agent: AgentIdentity) -> String { "agent:\(agent.id.uuidString.lowercased())" }

    /// A tier's queue in claim order (priority, then resolution due time), a page at a time,
    /// narrowed by `filter`: the tickets waiting at the level (`tickets_queue_idx` keeps this fast at
    /// any history size), or with `filter.unassigned == false` those its agents hold (working or paused).
    public func queue(
        tier: Tier, filter: QueueFilter = QueueFilter(), limit: Int, after cursor: QueueCursor?, now: Date, on executor: some DatabaseExecutor,
        logger: Logger
    ) async throws -> Page<TicketSummary> {
        let after = cursor ?? .start
        let statuses = filter.unassigned == false ? "t.status IN ('in_progress', 'pending_customer', 'pending_vendor')" : "t.status = 'queued'"
        let tickets = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.tier = $1 AND \(statuses)
                        AND (t.priority, t.resolution_due_at, t.id) > ($2, timestamptz 'epoch' + $3 * interval '1 microsecond', $4)
                        AND ($6::text IS NULL OR $6 = ANY(t.required_skills)) AND ($7::text IS NULL OR t.category = $7)
                        AND ($8::smallint IS NULL OR t.priority = $8) AND ($9::boolean IS NULL OR (t.resolution_due_at < $10) = $9)
                    ORDER BY t.priority, t.resolution_due_at, t.id LIMIT $5
                    """,
                binds: try PostgresBindings(
                    Int16(tier.rawValue), Int16(after.priority), after.dueAtMicroseconds, after.id, limit + 1, filter.skill, filter.category,
                    filter.priority.map { Int16($0.rank) }, filter.breached, now)), logger: logger,
            TicketSummary.init(row:))
        return Self.page(tickets, limit: limit)
    }

    /// An agent's open tickets, those it holds and those it helps on (`ticket_collaborators`), in
    /// queue order (priority, then resolution due time), a page at a time.
    public func worklist(of agentID: UUID, limit: Int, after cursor: QueueCursor?, on executor: some DatabaseExecutor, logger: Logger) async throws
        -> Page<TicketSummary>
    {
        let after = cursor ?? .start
        let tickets = try await executor.all(
            PostgresQuery(
                unsafeSQL: Self.selectSummary + """
                     WHERE t.status NOT IN ('resolved', 'closed')
                        AND t.id IN (SELECT id FROM tickets WHERE assignee_id = $1 AND status NOT IN ('resolved', 'closed')
                                     UNION SELECT ticket_id FROM ticket_collaborators WHERE agent_id = $1)
                        AND (t.priority, COALESCE(t.resolution_due_at, timestamptz '4001-01-01 00:00:00+00'), t.id)
                            > ($2, timestamptz 'epoch' + $3 * interval '1 microsecond', $4)
                    ORDER BY t.priority, COALESCE(t.resolution_due_at, timestamptz '4001-01-01 00:00:00+00'), t.id LIMIT $5
                    """,
                binds: try PostgresBindings(agentID, Int16(after.priority), after.dueAtMicroseconds, after.id, limit + 1)), logger: logger,
            TicketSummary.init(row:))
        return Self.page(tickets, limit: limit)
    }

    /// A page of tickets in queue order, with the cursor after its last one.
    static func page(_ tickets: [TicketSummary], limit: Int) -> Page<TicketSummary> {
        Page(fetched: tickets, limit: limit) {
            QueueCursor(priority: $0.priority.rank, dueAtMicroseconds: ($0.resolutionDueAt ?? .distantFuture).epochMicroseconds, id: $0.id).encoded
        }
    }

    // The store's hot statements, prepared once per connection.

    /// A submission: `submit_ticket` (migration 0014).
    struct SubmitTicket: HotStatement {
        static let sql = """
            SELECT ticket_id, ticket_reference, ticket_status, duplicate FROM submit_ticket(
                $1, $2, $3, $4::text, $5::text, $6::text, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18::jsonb, $19, $20, $21, $22,
                $23::text, $24::jsonb, $25, $26::jsonb, $27)
            """
        let bindings: PostgresBindings
    }

    /// A claim: `claim_next_ticket` (migration 0004) with the ticket's requester.
    struct ClaimNextTicket: HotStatement {
        static let sql = """
            SELECT \(ticketColumns) FROM claim_next_ticket($1, $2, $3, $4, $5, $6, $7, $8::jsonb) t JOIN requesters r ON r.id = t.requester_id
            """
        let bindings: PostgresBindings
    }

    /// A batch's tickets, read and locked in id order.
    struct LockTickets: HotStatement {
        static let sql = selectTicket + " WHERE t.id = ANY($1) ORDER BY t.id FOR UPDATE OF t"
        let bindings: PostgresBindings
    }

    /// A batch's changes (one JSON document of `SavedRow`s) with their events and hand-offs.
    struct SaveTickets: HotStatement {
        static let sql = """
            WITH u AS (
                SELECT * FROM jsonb_to_recordset($1::jsonb) AS u(
                    id uuid, version integer, status text, tier smallint, priority smallint, impact text, urgency text, category text,
                    assignee_id uuid, required_skills text[], vendor_id uuid, first_response_due_us bigint, resolution_due_us bigint,
                    event_id uuid, event_type text, actor text, public boolean, data jsonb, hand_off text[], payload jsonb)),
            updated AS (
                UPDATE tickets t SET status = u.status, tier = u.tier, priority = u.priority, impact = u.impact, urgency = u.urgency,
                    category = u.category, assignee_id = u.assignee_id, required_skills = u.required_skills, vendor_id = u.vendor_id,
                    first_response_due_at = timestamptz 'epoch' + u.first_response_due_us * interval '1 microsecond',
                    resolution_due_at = timestamptz 'epoch' + u.resolution_due_us * interval '1 microsecond',
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

/// One ticket's due times in `TicketStore.setDueTimes`'s document, in microseconds.
private struct DueRow: Encodable {
    var id: UUID
    var fr: Int64?
    var res: Int64?
}

/// A batch that changes one ticket twice: a bug of the caller (the second change would be lost).
struct SameTicketTwice: Error {}

/// A row that breaks what the schema promises: a bug or a hand edit, answered as a logged 500.
public struct CorruptRow: Error, CustomStringConvertible {
    public var table: String
    public var detail: String
    public var description: String { "corrupt row in \(table): \(detail)" }

    public init(table: String, detail: String) {
        self.table = table
        self.detail = detail
    }
}

/// What a queue listing keeps: tickets needing a skill, of a category or priority, past their
/// resolution due time (or not), held by nobody (or by someone). Nil keeps all.
public struct QueueFilter: Sendable, Equatable {
    public var skill: String?
    public var category: String?
    public var priority: Priority?
    public var breached: Bool?
    public var unassigned: Bool?

    public init(skill: String? = nil, category: String? = nil, priority: Priority? = nil, breached: Bool? = nil, unassigned: Bool? = nil) {
        self.skill = skill
        self.category = category
        self.priority = priority
        self.breached = breached
        self.unassigned = unassigned
    }
}

/// Where a queue page ends: the last ticket's sort key, opaque to clients.
public struct QueueCursor: Sendable, Equatable {
    public var priority: Int
    public var dueAtMicroseconds: Int64
    public var id: UUID

    public init(priority: Int, dueAtMicroseconds: Int64, id: UUID) {
        self.priority = priority
        self.dueAtMicroseconds = dueAtMicroseconds
        self.id = id
    }

    /// Before every ticket: where the first page begins.
    public static let start = QueueCursor(
        priority: 0, dueAtMicroseconds: Date.distantPast.epochMicroseconds, id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))

    public var encoded: String { Cursor.encode(["\(priority)", "\(dueAtMicroseconds)", id.uuidString]) }

    /// Parses a cursor; nil for anything this service did not hand out.
    public init?(encoded: String) {
        guard let parts = Cursor.decode(encoded, count: 3), let priority = Int(parts[0]), let micros = Int64(parts[1]),
            let id = UUID(uuidString: parts[2])
        else { return nil }
        self.init(priority: priority, dueAtMicroseconds: micros, id: id)
    }
}

/// Opaque keyset cursors: `|`-joined parts in base64url.
public enum Cursor {
    public static func encode(_ parts: [String]) -> String { Secrets.base64URL(Data(parts.joined(separator: "|").utf8)) }

    public static func decode(_ text: String, count: Int) -> [String]? {
        guard let data = Secrets.fromBase64URL(text), let string = String(data: data, encoding: .utf8) else { return nil }
        let parts = string.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return parts.count == count ? parts : nil
    }
}

extension TicketEvent {
    /// A row of `ticket_events` with `data` as text.
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), type: try row.get("type", as: EventType.self), at: try row.get("at"), actor: try row.get("actor"),
            data: try JSONCoding.decoder.decode(JSONValue.self, from: Data(try row.get("data", as: String.self).utf8)),
            status: try row.get("status", as: String?.self).flatMap(TicketStatus.init(rawValue:)),
            tier: try row.get("tier", as: Int16?.self).flatMap { Tier(rawValue: Int($0)) })
    }
}

extension TicketSummary {
    /// A row of `TicketStore.selectSummary`.
    init(row: PostgresRandomAccessRow) throws {
        let priorityRank = Int(try row.get("priority", as: Int16.self))
        guard let priority = Priority(rank: priorityRank) else { throw CorruptRow(table: "tickets", detail: "priority rank \(priorityRank)") }
        self.init(
            id: try row.get("id"), reference: Ticket.reference(number: try row.get("reference_number")), status: try row.get("status"),
            tier: try row.get("tier", as: Int16?.self).flatMap { Tier(rawValue: Int($0)) }, priority: priority, category: try row.get("category"),
            subject: try row.get("subject"), assigneeId: try row.get("assignee_id"), resolutionDueAt: try row.get("resolution_due_at"),
            createdAt: try row.get("created_at"))
    }
}

extension Ticket {
    /// A row of `TicketStore.selectTicket`.
    init(row: PostgresRandomAccessRow) throws {
        let priorityRank = Int(try row.get("priority", as: Int16.self))
        guard let priority = Priority(rank: priorityRank) else { throw CorruptRow(table: "tickets", detail: "priority rank \(priorityRank)") }
        let tier = try row.get("tier", as: Int16?.self)
        self.init(
            id: try row.get("id"), reference: Ticket.reference(number: try row.get("reference_number")), status: try row.get("status"),
            tier: tier.flatMap { Tier(rawValue: Int($0)) }, priority: priority, impact: try row.get("impact"),
            urgency: try row.get("urgency"), category: try row.get("category"), channel: try row.get("channel"), subject: try row.get("subject"),
            description: try row.get("description"),
            requester: Requester(
                id: try row.get("r_id"), email: try row.get("r_email"), name: try row.get("r_name"), phone: try row.get("r_phone"),
                organization: try row.get("r_organization")),
            assigneeId: try row.get("assignee_id"), requiredSkills: try row.get("required_skills"), vendorId: try row.get("vendor_id"),
            firstResponseDueAt: try row.get("first_response_due_at"), resolutionDueAt: try row.get("resolution_due_at"),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"), version: Int(try row.get("version", as: Int32.self)),
            metadata: try Self.jsonObject(row.get("metadata", as: String.self)),
            channelDetails: try Self.jsonObject(row.get("channel_details", as: String.self)))
    }

    static func jsonObject(_ text: String) throws -> [String: JSONValue] {
        try JSONCoding.decoder.decode([String: JSONValue].self, from: Data(text.utf8))
    }
}
