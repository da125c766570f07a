import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// When recurring incidents open a problem, and when a burst of them is a storm.
public struct ProblemThresholds: Sendable, Equatable {
    /// This many tickets of one requester in one category within `recurringDays` open a problem.
    public var recurringCount: Int
    public var recurringDays: Int
    /// This many tickets of one category within `stormMinutes`, from anyone, are a storm.
    public var stormCount: Int
    public var stormMinutes: Int

    public init(recurringCount: Int = 3, recurringDays: Int = 30, stormCount: Int = 10, stormMinutes: Int = 60) {
        self.recurringCount = recurringCount
        self.recurringDays = recurringDays
        self.stormCount = stormCount
        self.stormMinutes = stormMinutes
    }
}

/// An event to record on a ticket after its triage (a problem linked, a storm), with its hand-offs.
public struct LinkedEvent: Sendable {
    public var event: EventDraft
    public var handOff: [String] = []
}

/// The only writer of `problems` and `problem_incidents`. During triage (`review`) it links new
/// tickets to known errors, opens or joins a problem when incidents recur or storm in, and raises a
/// storm's tickets; level 3 and the admin then work the problem (`update`), and resolving it puts
/// its open incidents back in their queues.
public struct ProblemStore: Sendable {
    let tickets: TicketStore
    let thresholds: ProblemThresholds

    static let columns = """
        p.id, p.title, p.status, p.category, p.root_cause, p.workaround, p.known_error, p.storm, p.resolution, p.created_at, p.updated_at,
        p.resolved_at, p.version,
        ARRAY(SELECT i.ticket_id FROM problem_incidents i WHERE i.problem_id = p.id ORDER BY i.linked_at, i.ticket_id) AS incident_ids
        """

    static func problem(_ row: PostgresRandomAccessRow) throws -> ProblemRecord {
        ProblemRecord(
            id: try row.get("id"), title: try row.get("title"), status: try row.get("status"), category: try row.get("category"),
            incidentIds: try row.get("incident_ids"), rootCause: try row.get("root_cause"), workaround: try row.get("workaround"),
            knownError: try row.get("known_error"), storm: try row.get("storm"), resolution: try row.get("resolution"), createdAt: try row.get("created_at"),
            updatedAt: try row.get("updated_at"), resolvedAt: try row.get("resolved_at"), version: Int(try row.get("version", as: Int32.self)))
    }

    // MARK: triage

    /// Checks a batch's decisions against problems, in triage's transaction, before they are saved.
    /// A storm changes its decisions (P1 at level 2); the answer holds the events to record on each
    /// ticket afterwards. A category's problems are decided under a lock on the category, so two
    /// replicas never open two problems for one category.
    func review(
        _ decisions: inout [UUID: TriageDecision], tickets: [UUID: Ticket], on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> [UUID: [LinkedEvent]] {
        var events: [UUID: [LinkedEvent]] = [:]
        let candidates = decisions.filter { $0.value.reject == nil && $0.value.category != nil }
        guard !candidates.isEmpty else { return [:] }
        let batch = Set(tickets.keys)
        let byCategory = Dictionary(grouping: candidates.keys.sorted { (tickets[$0]!.createdAt, $0.uuidString) < (tickets[$1]!.createdAt, $1.uuidString) }) {
            candidates[$0]!.category!
        }
        // Everyone's recent tickets per category, and each requester's, in two statements for the batch;
        // only as many as a threshold needs (plus the batch's own), however busy the category is.
        let storms = try await recentTickets(
            pairs: byCategory.keys.map { ($0, nil) }, within: TimeInterval(thresholds.stormMinutes * 60), limit: thresholds.stormCount + tickets.count,
            now: now, on: connection, logger: logger)
        let pairs = Set(candidates.map { PairKey(category: $0.value.category!, requester: tickets[$0.key]!.requester.id) })
        let repeats = try await recentTickets(
            pairs: pairs.map { ($0.category, $0.requester) }, within: TimeInterval(thresholds.recurringDays * 86_400),
            limit: thresholds.recurringCount + tickets.count, now: now, on: connection, logger: logger)
        for (category, ids) in byCategory.sorted(by: { $0.key < $1.key }) {
            try await lock(category: category, on: connection, logger: logger)
            var open = try await openProblem(category: category, on: connection, logger: logger)
            for (index, id) in ids.enumerated() {
                let ticket = tickets[id]!
                let earlier = ids[...index]  // this ticket and the batch's earlier ones of the category
                // A known error: an open problem of the category with a workaround, about the same thing.
                if let problem = open, let workaround = problem.workaround, Self.similar(ticket, to: problem) {
                    try await link([id], to: problem.id, reason: "known error", on: connection, now: now, logger: logger)
                    events[id, default: []].append(Self.linked(problem, reason: "known error: the workaround applies", workaround: workaround))
                    decisions[id]!.explanation.problem = "known error \"\(problem.title)\": its workaround is attached for level 1"
                    continue
                }
                // A storm: many tickets of the category from anyone within minutes.
                let stormIDs = storms.filter { $0.category == category && !batch.contains($0.id) }.map(\.id) + earlier
                if stormIDs.count >= thresholds.stormCount {
                    let problem = try await openOrJoin(
                        open, category: category, storm: true,
                        title: "Storm: \(stormIDs.count) \(category) tickets within \(thresholds.stormMinutes) minutes", on: connection, now: now,
                        logger: logger)
                    open = problem
                    let newlyLinked = try await link(stormIDs, to: problem.id, reason: "storm", on: connection, now: now, logger: logger)
                    // This ticket and the batch's earlier ones are raised in their decisions; the stored ones now.
                    for linkedID in Set(newlyLinked).union([id]) {
                        guard batch.contains(linkedID) else {
                            try await raise(linkedID, for: problem, count: stormIDs.count, on: connection, now: now, logger: logger)
                            continue
                        }
                        guard decisions[linkedID] != nil else { continue }
                        decisions[linkedID]!.priority = .p1
                        if decisions[linkedID]!.vendorId == nil { decisions[linkedID]!.tier = Tier.backOffice.rawValue }
                        decisions[linkedID]!.explanation.problem =
                            "storm: \(stormIDs.count) \(category) tickets within \(thresholds.stormMinutes) minutes; raised to P1 at level 2, level 3 told"
                        events[linkedID, default: []].append(Self.linked(problem, reason: "storm", workaround: problem.workaround))
                        events[linkedID, default: []].append(Self.storm(problem, count: stormIDs.count))
                    }
                    continue
                }
                // Recurring: the same requester, the same category, again and again.
                let requester = ticket.requester.id
                let recurring =
                    repeats.filter { $0.category == category && $0.requester == requester && !batch.contains($0.id) }.map(\.id)
                    + earlier.filter { tickets[$0]!.requester.id == requester }
                if recurring.count >= thresholds.recurringCount {
                    let problem = try await openOrJoin(
                        open, category: category, storm: false,
                        title: "Recurring: \(recurring.count) \(category) tickets from \(ticket.requester.email) within \(thresholds.recurringDays) days",
                        on: connection, now: now, logger: logger)
                    open = problem
                    for linkedID in try await link(recurring, to: problem.id, reason: "recurring", on: connection, now: now, logger: logger) {
                        let event = Self.linked(problem, reason: "recurring incident", workaround: problem.workaround)
                        if batch.contains(linkedID) {
                            events[linkedID, default: []].append(event)
                        } else {
                            try await self.tickets.record(event.event, ticketID: linkedID, on: connection, now: now, logger: logger)
                        }
                    }
                    decisions[id]!.explanation.problem =
                        "recurring: \(recurring.count) \(category) tickets of this requester within \(thresholds.recurringDays) days"
                }
            }
        }
        return events
    }

    /// Whether a ticket is about what a problem is about: at least half of the words of the
    /// problem's title (or, when the title is generated, of its root cause and workaround) are in
    /// the ticket's subject or description.
    static func similar(_ ticket: Ticket, to problem: ProblemRecord) -> Bool {
        let about =
            problem.title.hasPrefix("Storm:") || problem.title.hasPrefix("Recurring:")
            ? [problem.rootCause, problem.workaround].compactMap { $0 }.joined(separator: " ") : problem.title
        let wanted = Set(TextClassifier.tokens(about).filter { !$0.contains(" ") })
        guard !wanted.isEmpty else { return false }
        let words = Set(TextClassifier.tokens(ticket.subject + "\n" + ticket.description))
        return Double(wanted.intersection(words).count) >= Double(wanted.count) / 2
    }

    static func linked(_ problem: ProblemRecord, reason: String, workaround: String?) -> LinkedEvent {
        LinkedEvent(
            event: EventDraft(
                type: .problemLinked, actor: "system:triage", isPublic: false,
                data: [
                    "problemId": .string(problem.id.uuidString.lowercased()), "title": .string(problem.title), "reason": .string(reason),
                    "knownError": .bool(problem.knownError), "workaround": .optional(workaround),
                ]))
    }

    static func storm(_ problem: ProblemRecord, count: Int) -> LinkedEvent {
        LinkedEvent(
            event: EventDraft(
                type: .problemStorm, actor: "system:triage", isPublic: false,
                data: [
                    "problemId": .string(problem.id.uuidString.lowercased()), "category": .string(problem.category), "tickets": .optional(count),
                    "notify": .optional(Tier.specialist.rawValue),
                ]))
    }

    /// Serialises, until the transaction ends, everything that may open or reopen a problem of `category`.
    func lock(category: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('tierdesk-problem:' || \(category), 0))", logger: logger)
    }

    func openProblem(category: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> ProblemRecord? {
        try await executor.first(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM problems p WHERE p.category = $1 AND p.status = 'open'", binds: try PostgresBindings(category)),
            logger: logger, Self.problem)
    }

    func openOrJoin(
        _ open: ProblemRecord?, category: String, storm: Bool, title: String, on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> ProblemRecord {
        if let open {
            guard storm && !open.storm else { return open }
            try await connection.execute("UPDATE problems SET storm = true, updated_at = \(now), version = version + 1 WHERE id = \(open.id)", logger: logger)
            return try await openProblem(category: category, on: connection, logger: logger) ?? open
        }
        try await connection.execute(
            """
            INSERT INTO problems (id, title, status, category, storm, created_at, updated_at)
            VALUES (\(UUID()), \(title), 'open', \(category), \(storm), \(now), \(now))
            """, logger: logger)
        guard let created = try await openProblem(category: category, on: connection, logger: logger) else { throw TriageError.notFound("problem") }
        return created
    }

    /// Links tickets to a problem; answers those that were not linked before.
    @discardableResult
    func link(_ ids: [UUID], to problem: UUID, reason: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> [UUID] {
        try await connection.all(
            """
            INSERT INTO problem_incidents (problem_id, ticket_id, reason, linked_at)
            SELECT \(problem), id, \(reason), \(now) FROM unnest(\(ids)::uuid[]) AS id
            ON CONFLICT DO NOTHING RETURNING ticket_id
            """, logger: logger
        ) { try $0.get("ticket_id", as: UUID.self) }
    }

    struct PairKey: Hashable {
        var category: String
        var requester: UUID
    }

    /// For each category, or each (category, requester) pair, its newest open tickets created since
    /// `within` ago, at most `limit` of them: one index walk per pair (`tickets_category_created_idx`
    /// for a category, `tickets_requester_idx` for a requester's), so a storm of thousands costs what
    /// its threshold does.
    func recentTickets(
        pairs: [(String, UUID?)], within: TimeInterval, limit: Int, now: Date, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> [(id: UUID, category: String, requester: UUID)] {
        guard !pairs.isEmpty else { return [] }
        let since = now.addingTimeInterval(-within)
        let query: PostgresQuery =
            pairs.allSatisfy({ $0.1 == nil })
            ? """
            SELECT t.id, t.category, t.requester_id FROM unnest(\(pairs.map(\.0))::text[]) AS p(category)
            CROSS JOIN LATERAL (
                SELECT id, category, requester_id, created_at FROM tickets
                WHERE category = p.category AND created_at >= \(since) AND status <> 'closed'
                ORDER BY created_at DESC LIMIT \(limit)) t
            ORDER BY t.created_at, t.id
            """
            : """
            SELECT t.id, t.category, t.requester_id FROM unnest(\(pairs.map(\.0))::text[], \(pairs.compactMap(\.1))::uuid[]) AS p(category, requester)
            CROSS JOIN LATERAL (
                SELECT id, category, requester_id, created_at FROM tickets
                WHERE requester_id = p.requester AND created_at >= \(since) AND category = p.category AND status <> 'closed'
                ORDER BY created_at DESC LIMIT \(limit)) t
            ORDER BY t.created_at, t.id
            """
        return try await executor.all(query, logger: logger) {
            (try $0.get("id", as: UUID.self), try $0.get("category", as: String.self), try $0.get("requester_id", as: UUID.self))
        }
    }

    /// A storm's earlier ticket, already queued at level 1: raised to P1 and moved to level 2.
    func raise(_ id: UUID, for problem: ProblemRecord, count: Int, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let ticket = try await tickets.find(id, forUpdate: true, on: connection, logger: logger), ticket.status.isOpen else { return }
        let storm = Self.storm(problem, count: count)
        let change: TicketChange
        if ticket.status == .queued {
            let tier: Tier = ticket.tier == .firstLine ? .backOffice : ticket.tier ?? .backOffice
            change = try TicketChange(ticket, to: .queued, event: storm.event) { ticket in
                ticket.priority = .p1
                ticket.firstResponseDueAt = nil
                ticket.resolutionDueAt = nil
                ticket.requeue(tier: tier, now: now)
            }
        } else {
            change = try TicketChange(ticket, event: storm.event) { $0.priority = .p1 }
        }
        _ = try await tickets.save([change], on: connection, now: now, logger: logger)
    }

    // MARK: level 3

    public func list(
        status: ProblemStatus?, category: String?, limit: Int, after cursor: (Date, UUID)?, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> Page<ProblemRecord> {
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns) FROM problems p
                    WHERE ($1::text IS NULL OR p.status = $1) AND ($2::text IS NULL OR p.category = $2)
                      AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3, $4))
                    ORDER BY p.created_at DESC, p.id DESC LIMIT $5
                    """,
                binds: try PostgresBindings(status?.rawValue, category, cursor?.0, cursor?.1, limit + 1)), logger: logger, Self.problem)
        return Page(fetched: rows, limit: limit) { Cursor.encode(["\($0.createdAt.epochMicroseconds)", $0.id.uuidString]) }
    }

    public func find(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> ProblemRecord? {
        try await executor.first(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM problems p WHERE p.id = $1", binds: try PostgresBindings(id)), logger: logger, Self.problem)
    }

    /// The problem a ticket is linked to, newest first (an open one before a resolved one).
    public func problem(ofTicket ticketID: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> ProblemRecord? {
        try await executor.first(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns) FROM problems p JOIN problem_incidents l ON l.problem_id = p.id WHERE l.ticket_id = $1
                    ORDER BY p.status = 'open' DESC, p.created_at DESC LIMIT 1
                    """, binds: try PostgresBindings(ticketID)), logger: logger, Self.problem)
    }

    /// The problem with its incidents; for an agent (`readableBy`) only the incidents it may read.
    public func detail(_ id: UUID, readableBy agent: AgentIdentity?, on executor: some DatabaseExecutor, logger: Logger) async throws -> ProblemDetail? {
        guard let problem = try await find(id, on: executor, logger: logger) else { return nil }
        let incidents = try await tickets.summaries(of: problem.incidentIds, readableBy: agent, on: executor, logger: logger)
        return ProblemDetail(problem: problem, incidents: incidents)
    }

    /// Applies level 3's change. Resolving puts the problem's open incidents back in their queues
    /// (level 4's stay with their vendor) with an internal comment saying so.
    public func update(
        _ id: UUID, with change: UpdateProblemRequest, actor: String, on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> ProblemRecord {
        guard let category = try await find(id, on: connection, logger: logger)?.category else { throw TriageError.notFound("problem") }
        // The category's lock, as triage takes it: a reopened problem and a newly opened one never race.
        try await lock(category: category, on: connection, logger: logger)
        guard
            let current = try await connection.first(
                PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM problems p WHERE p.id = $1 FOR UPDATE", binds: try PostgresBindings(id)),
                logger: logger, Self.problem)
        else { throw TriageError.notFound("problem") }
        if let version = change.version, version != current.version { throw TriageError.staleProblem(current: current.version) }
        var next = current
        next.title = change.title?.trimmingCharacters(in: .whitespacesAndNewlines) ?? current.title
        next.rootCause = change.rootCause.patched(over: current.rootCause)
        next.workaround = change.workaround.patched(over: current.workaround)
        next.resolution = change.resolution.patched(over: current.resolution)
        next.knownError = change.knownError ?? current.knownError
        next.status = change.status ?? current.status
        let resolving = current.status == .open && next.status == .resolved
        if next.status == .resolved && next.resolution == nil {
            throw Problem.validation([FieldError(field: "resolution", message: "a resolved problem says how it was resolved")])
        }
        if current.status == .resolved && next.status == .open,
            try await openProblem(category: current.category, on: connection, logger: logger) != nil
        {
            throw Problem.conflict("another problem of category \(current.category) is open; update that one", type: "problem-open")
        }
        try await connection.execute(
            """
            UPDATE problems SET title = \(next.title), root_cause = \(next.rootCause), workaround = \(next.workaround), resolution = \(next.resolution),
                known_error = \(next.knownError), status = \(next.status.rawValue),
                resolved_at = CASE WHEN \(next.status.rawValue) = 'resolved' THEN coalesce(resolved_at, \(now)) ELSE NULL END,
                updated_at = \(now), version = version + 1
            WHERE id = \(id)
            """, logger: logger)
        if resolving {
            for ticketID in current.incidentIds {
                try await requeue(ticketID, after: next, actor: actor, on: connection, now: now, logger: logger)
            }
        }
        guard let updated = try await find(id, on: connection, logger: logger) else { throw TriageError.notFound("problem") }
        return updated
    }

    /// An incident of a resolved problem: back in its queue (when someone works or waits on it), with a comment.
    func requeue(_ id: UUID, after problem: ProblemRecord, actor: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let ticket = try await tickets.find(id, forUpdate: true, on: connection, logger: logger), ticket.status.isOpen else { return }
        let comment = EventDraft(
            type: .ticketCommented, actor: actor, isPublic: false,
            data: [
                "message": .string("Problem \"\(problem.title)\" was resolved: \(problem.resolution ?? ""). This ticket is back in its queue."),
                "problemId": .string(problem.id.uuidString.lowercased()),
            ])
        let backToQueue: Set<TicketStatus> = [.inProgress, .pendingCustomer, .pendingVendor]
        if backToQueue.contains(ticket.status), let tier = ticket.tier, Tier.agentTiers.contains(tier) {
            let change = try TicketChange(ticket, to: .queued, event: comment) { $0.requeue(tier: tier, now: now) }
            _ = try await tickets.save([change], on: connection, now: now, logger: logger)
        } else {
            try await tickets.record(comment, ticketID: id, on: connection, now: now, logger: logger)
        }
    }
}
