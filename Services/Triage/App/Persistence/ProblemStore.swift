import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// When recurring incidents open a problem, and when a burst of them is a storm. Only tickets whose
/// category somebody vouched for (a rule, the classifier, an agent or an integration) count.
public struct ProblemThresholds: Sendable, Equatable {
    /// This many tickets of one requester in one category within `recurringDays` open a problem.
    public var recurringCount: Int
    public var recurringDays: Int
    /// Tickets of one category from at least this many distinct requesters within `stormMinutes`
    /// are a storm, and from at least `stormFactor` times as many as the category's normal rate
    /// (its tickets of the week before, scaled to `stormMinutes`): a busy category is not a storm
    /// for being busy.
    public var stormCount: Int
    public var stormMinutes: Int
    public var stormFactor: Double

    public init(recurringCount: Int = 3, recurringDays: Int = 30, stormCount: Int = 10, stormMinutes: Int = 60, stormFactor: Double = 5) {
        self.recurringCount = recurringCount
        self.recurringDays = recurringDays
        self.stormCount = stormCount
        self.stormMinutes = stormMinutes
        self.stormFactor = stormFactor
    }

    /// How far back a category's normal rate is read.
    public static let baselineDays = 7

    /// The distinct requesters a storm of a category needs, given its tickets of the baseline week.
    public func stormThreshold(baseline: Int) -> Int {
        let perWindow = Double(baseline) * Double(stormMinutes) / Double(Self.baselineDays * 1440)
        return max(stormCount, Int((perWindow * stormFactor).rounded(.up)))
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
    /// Each category's tickets of the baseline week, per replica for ten minutes.
    let baselines: TimedCache<String, Int>

    /// The baselines expire by `clock` (the service's).
    init(tickets: TicketStore, thresholds: ProblemThresholds, clock: any WallClock) {
        self.tickets = tickets
        self.thresholds = thresholds
        baselines = TimedCache(clock: clock)
    }

    static let columns = """
        p.id, p.title, p.status, p.category, p.root_cause, p.workaround, p.known_error, p.storm, p.storm_confirmed_at, p.resolution, p.created_at,
        p.updated_at,
        p.resolved_at, p.version,
        ARRAY(SELECT i.ticket_id FROM problem_incidents i WHERE i.problem_id = p.id ORDER BY i.linked_at, i.ticket_id) AS incident_ids
        """

    static func problem(_ row: PostgresRandomAccessRow) throws -> ProblemRecord {
        ProblemRecord(
            id: try row.get("id"), title: try row.get("title"), status: try row.get("status"), category: try row.get("category"),
            incidentIds: try row.get("incident_ids"), rootCause: try row.get("root_cause"), workaround: try row.get("workaround"),
            knownError: try row.get("known_error"), storm: try row.get("storm"),
            stormConfirmedAt: try row.get("storm_confirmed_at"), resolution: try row.get("resolution"), createdAt: try row.get("created_at"),
            updatedAt: try row.get("updated_at"), resolvedAt: try row.get("resolved_at"), version: Int(try row.get("version", as: Int32.self)))
    }

    // MARK: triage

    /// Checks a batch's decisions against problems, in triage's transaction, before they are saved.
    /// Only decisions whose category somebody vouched for count. A storm links its tickets to a storm
    /// problem and tells level 3 (`problem.storm`); it moves or raises nothing until a level 2 or 3
    /// agent confirms it (`confirmStorm`), after which the tickets that join it are raised in their
    /// decisions. The answer holds the events to record on each ticket afterwards. A category's
    /// problems are decided under a lock on the category, so two replicas never open two problems
    /// for one category.
    func review(
        _ decisions: inout [UUID: TriageDecision], tickets: [UUID: Ticket], on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> [UUID: [LinkedEvent]] {
        var events: [UUID: [LinkedEvent]] = [:]
        let candidates = decisions.filter { $0.value.reject == nil && $0.value.category != nil && $0.value.categorySource?.trusted == true }
        guard !candidates.isEmpty else { return [:] }
        let batch = Set(tickets.keys)
        let byCategory = Dictionary(grouping: candidates.keys.sorted { (tickets[$0]!.createdAt, $0.uuidString) < (tickets[$1]!.createdAt, $1.uuidString) }) {
            candidates[$0]!.category!
        }
        let thresholds = try await stormThresholds(Array(byCategory.keys), now: now, on: connection, logger: logger)
        // Everyone's recent tickets per category, and each requester's, in two statements for the batch;
        // only as many as a threshold needs (plus the batch's own), however busy the category is.
        let storms = try await recentTickets(
            pairs: byCategory.keys.map { ($0, nil) }, within: TimeInterval(self.thresholds.stormMinutes * 60),
            limit: 4 * (thresholds.values.max() ?? self.thresholds.stormCount) + tickets.count, now: now, on: connection, logger: logger)
        let pairs = Set(candidates.map { PairKey(category: $0.value.category!, requester: tickets[$0.key]!.requester.id) })
        let repeats = try await recentTickets(
            pairs: pairs.map { ($0.category, $0.requester) }, within: TimeInterval(self.thresholds.recurringDays * 86_400),
            limit: self.thresholds.recurringCount + tickets.count, now: now, on: connection, logger: logger)
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
                // A storm: the category's tickets from many distinct requesters within minutes.
                let members =
                    storms.filter { $0.category == category && !batch.contains($0.id) }.map { ($0.id, $0.requester) }
                    + earlier.map { ($0, tickets[$0]!.requester.id) }
                let requesters = Set(members.map(\.1)).count
                let threshold = thresholds[category] ?? self.thresholds.stormCount
                if requesters >= threshold {
                    let problem = try await openOrJoin(
                        open, category: category, storm: true,
                        title: "Storm: \(category) tickets from \(requesters) requesters within \(self.thresholds.stormMinutes) minutes", on: connection,
                        now: now, logger: logger)
                    open = problem
                    let newlyLinked = try await link(members.map(\.0), to: problem.id, reason: "storm", on: connection, now: now, logger: logger)
                    for linkedID in Set(newlyLinked).union([id]) {
                        let storm = Self.storm(problem, requesters: requesters)
                        guard batch.contains(linkedID) else {
                            // A stored ticket is flagged, never moved: level 3 decides.
                            try await self.tickets.record(storm.event, ticketID: linkedID, handOff: storm.handOff, on: connection, now: now, logger: logger)
                            continue
                        }
                        guard decisions[linkedID] != nil else { continue }
                        var explanation =
                            "storm: \(category) tickets from \(requesters) requesters within \(self.thresholds.stormMinutes) minutes; level 3 told"
                        if problem.stormConfirmedAt != nil {
                            decisions[linkedID]!.priority = .p1
                            if decisions[linkedID]!.vendorId == nil { decisions[linkedID]!.tier = Tier.backOffice.rawValue }
                            explanation += "; the storm is confirmed: raised to P1 at level 2"
                        }
                        decisions[linkedID]!.explanation.problem = explanation
                        events[linkedID, default: []].append(Self.linked(problem, reason: "storm", workaround: problem.workaround))
                        events[linkedID, default: []].append(storm)
                    }
                    continue
                }
                // Recurring: the same requester, the same category, again and again.
                let requester = ticket.requester.id
                let recurring =
                    repeats.filter { $0.category == category && $0.requester == requester && !batch.contains($0.id) }.map(\.id)
                    + earlier.filter { tickets[$0]!.requester.id == requester }
                if recurring.count >= self.thresholds.recurringCount {
                    // The title names no requester: problems are read by every level.
                    let problem = try await openOrJoin(
                        open, category: category, storm: false,
                        title: "Recurring: \(category) tickets of one requester within \(self.thresholds.recurringDays) days", on: connection, now: now,
                        logger: logger)
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
                        "recurring: \(recurring.count) \(category) tickets of this requester within \(self.thresholds.recurringDays) days"
                }
            }
        }
        return events
    }

    /// Each category's storm threshold from its normal rate (`ProblemThresholds.stormThreshold`): the
    /// vouched-for tickets of the week before the storm window, counted once per category and replica
    /// every ten minutes (`baselines`).
    func stormThresholds(_ categories: [String], now: Date, on executor: some DatabaseExecutor, logger: Logger) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let missing = categories.filter { category in
            guard let cached = baselines.value(for: category) else { return true }
            counts[category] = cached
            return false
        }
        if !missing.isEmpty {
            let until = now.addingTimeInterval(-TimeInterval(thresholds.stormMinutes * 60))
            let since = until.addingTimeInterval(-TimeInterval(ProblemThresholds.baselineDays * 86_400))
            let rows = try await executor.all(
                """
                SELECT p.category, (SELECT count(*) FROM tickets t WHERE t.category = p.category AND t.category_source IN ('principal', 'rule', 'classifier')
                    AND t.created_at >= \(since) AND t.created_at < \(until)) AS baseline
                FROM unnest(\(missing)::text[]) AS p(category)
                """, logger: logger
            ) { (try $0.get("category", as: String.self), Int(try $0.get("baseline", as: Int64.self))) }
            for (category, baseline) in rows {
                counts[category] = baseline
                baselines.remember(baseline, for: category, lifetime: .seconds(600))
            }
        }
        return counts.mapValues(thresholds.stormThreshold(baseline:))
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
                ProblemLinked(problemId: problem.id, title: problem.title, reason: reason, knownError: problem.knownError, workaround: workaround),
                actor: "system:triage", isPublic: false))
    }

    static func storm(_ problem: ProblemRecord, requesters: Int) -> LinkedEvent {
        LinkedEvent(
            event: EventDraft(
                ProblemStorm(
                    problemId: problem.id, category: problem.category, requesters: requesters, confirmed: problem.stormConfirmedAt != nil,
                    notify: Tier.specialist.rawValue), actor: "system:triage", isPublic: false),
            // tier-queue tells the level's agents (once per problem, however many tickets it links).
            handOff: ["tier-queue:\(Tier.specialist.rawValue)"])
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
                    AND category_source IN ('principal', 'rule', 'classifier')
                ORDER BY created_at DESC LIMIT \(limit)) t
            ORDER BY t.created_at, t.id
            """
            : """
            SELECT t.id, t.category, t.requester_id FROM unnest(\(pairs.map(\.0))::text[], \(pairs.compactMap(\.1))::uuid[]) AS p(category, requester)
            CROSS JOIN LATERAL (
                SELECT id, category, requester_id, created_at FROM tickets
                WHERE requester_id = p.requester AND created_at >= \(since) AND category = p.category AND status <> 'closed'
                    AND category_source IN ('principal', 'rule', 'classifier')
                ORDER BY created_at DESC LIMIT \(limit)) t
            ORDER BY t.created_at, t.id
            """
        return try await executor.all(query, logger: logger) {
            (try $0.get("id", as: UUID.self), try $0.get("category", as: String.self), try $0.get("requester_id", as: UUID.self))
        }
    }

    /// A storm's open ticket when a level 2 or 3 agent confirms the storm: raised to P1, and moved
    /// to level 2 when it waits at level 1. Recorded as the system's change, naming the confirming
    /// agent only inside `internal`: working a problem grants no read access to its incidents.
    func raise(_ id: UUID, for problem: ProblemRecord, by actor: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        guard let ticket = try await tickets.find(id, forUpdate: true, on: connection, logger: logger), ticket.status.isOpen else { return }
        let event = EventDraft(
            ProblemStorm(problemId: problem.id, category: problem.category, confirmed: true, internal: .init(confirmedBy: actor)), actor: "system:triage",
            isPublic: false)
        let change: TicketChange
        if ticket.status == .queued {
            let tier: Tier = ticket.tier == .firstLine ? .backOffice : ticket.tier ?? .backOffice
            change = try TicketChange(ticket, to: .queued, event: event) { ticket in
                ticket.priority = .p1
                ticket.firstResponseDueAt = nil
                ticket.resolutionDueAt = nil
                ticket.requeue(tier: tier, now: now)
            }
        } else {
            change = try TicketChange(ticket, event: event) { $0.priority = .p1 }
        }
        _ = try await tickets.save([change], on: connection, now: now, logger: logger)
    }

    /// Confirms an open storm's mass change (`raise` on each of its open incidents); 409 when the
    /// problem is no open storm or was confirmed already.
    public func confirmStorm(_ id: UUID, by actor: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> ProblemRecord {
        guard
            let current = try await connection.first(
                PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM problems p WHERE p.id = $1 FOR UPDATE", binds: try PostgresBindings(id)),
                logger: logger, Self.problem)
        else { throw TriageError.notFound("problem") }
        guard current.storm, current.status == .open else { throw Problem.conflict("this problem is no open storm", type: "not-a-storm") }
        guard current.stormConfirmedAt == nil else { throw Problem.conflict("this storm was confirmed already", type: "storm-confirmed") }
        try await connection.execute(
            """
            UPDATE problems SET storm_confirmed_at = \(now), storm_confirmed_by = \(actor), updated_at = \(now), version = version + 1 WHERE id = \(id)
            """, logger: logger)
        for ticketID in current.incidentIds {
            try await raise(ticketID, for: current, by: actor, on: connection, now: now, logger: logger)
        }
        guard let confirmed = try await find(id, on: connection, logger: logger) else { throw TriageError.notFound("problem") }
        return confirmed
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
        return Page(fetched: rows, limit: limit) { Cursor.encode(at: $0.createdAt, id: $0.id) }
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
        guard var problem = try await find(id, on: executor, logger: logger) else { return nil }
        let incidents = try await tickets.summaries(of: problem.incidentIds, readableBy: agent, on: executor, logger: logger)
        problem.incidentIds = incidents.map(\.id)
        return ProblemDetail(problem: problem, incidents: incidents)
    }

    /// Problems as an agent may see them: only the incidents it may read (the ticket read rule, in
    /// one statement for all of them); the admin (nil) sees every incident.
    public func readable(_ problems: [ProblemRecord], by agent: AgentIdentity?, on executor: some DatabaseExecutor, logger: Logger) async throws
        -> [ProblemRecord]
    {
        guard let agent else { return problems }
        let all = problems.flatMap(\.incidentIds)
        let readable = Set(try await tickets.summaries(of: all, readableBy: agent, on: executor, logger: logger).map(\.id))
        return problems.map { problem in
            var shown = problem
            shown.incidentIds = problem.incidentIds.filter(readable.contains)
            return shown
        }
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
        // The system's comment, naming who resolved the problem only inside `internal`: working a
        // problem grants no read access to its incidents (the read rule counts the trail's actors).
        let comment = EventDraft(
            type: .ticketCommented, actor: "system:triage", isPublic: false,
            data: [
                "message": .string("Problem \"\(problem.title)\" was resolved: \(problem.resolution ?? ""). This ticket is back in its queue."),
                "problemId": .string(problem.id.uuidString.lowercased()), "internal": ["resolvedBy": .string(actor)],
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
