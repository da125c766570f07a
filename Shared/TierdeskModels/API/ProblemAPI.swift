import Foundation

/// Where a problem is: `open` while its root cause is worked on, `resolved` once fixed.
public enum ProblemStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case open, resolved
}

/// A problem record: the cause behind several incidents. Opened by triage when incidents recur or
/// storm in; worked by level 3 (root cause, workaround, known error, resolution).
public struct ProblemRecord: Sendable, Codable, Equatable {
    public var id: UUID
    public var title: String
    public var status: ProblemStatus
    public var category: String
    /// The linked tickets, oldest link first.
    public var incidentIds: [UUID]
    public var rootCause: String?
    public var workaround: String?
    /// Level 3's verdict that the cause is understood and documented (ITIL's known error). Whether or
    /// not it is set, an open problem's workaround goes to level 1 with every new ticket that matches it.
    public var knownError: Bool
    /// Opened (or joined) by a storm: many tickets of one category, from many requesters, at once.
    /// Its tickets are flagged and level 3 told; nothing is moved until a level 2 or 3 agent confirms.
    public var storm: Bool
    /// When a level 2 or 3 agent (or the admin) confirmed the storm's mass change: its open tickets
    /// raised to P1 at level 2, and the tickets that join it afterwards too.
    public var stormConfirmedAt: Date?
    public var resolution: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var resolvedAt: Date?
    public var version: Int

    public init(
        id: UUID, title: String, status: ProblemStatus, category: String, incidentIds: [UUID], rootCause: String?, workaround: String?, knownError: Bool,
        storm: Bool, stormConfirmedAt: Date? = nil, resolution: String?, createdAt: Date, updatedAt: Date, resolvedAt: Date?, version: Int
    ) {
        self.stormConfirmedAt = stormConfirmedAt
        self.id = id
        self.title = title
        self.status = status
        self.category = category
        self.incidentIds = incidentIds
        self.rootCause = rootCause
        self.workaround = workaround
        self.knownError = knownError
        self.storm = storm
        self.resolution = resolution
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.resolvedAt = resolvedAt
        self.version = version
    }
}

/// `GET /v1/problems/{id}`: the problem with its incidents.
public struct ProblemDetail: Sendable, Codable, Equatable {
    public var problem: ProblemRecord
    public var incidents: [TicketSummary]

    public init(problem: ProblemRecord, incidents: [TicketSummary]) {
        self.problem = problem
        self.incidents = incidents
    }
}

/// `PATCH /v1/problems/{id}` (level 3 agents and the admin): every field optional; an empty string
/// clears a text. `status: resolved` needs a `resolution` (given now or before) and puts the open
/// incidents back in their queues with a comment saying so. `version`, when given, must be current.
public struct UpdateProblemRequest: Sendable, Codable, Equatable {
    public var title: String?
    public var rootCause: String?
    public var workaround: String?
    public var knownError: Bool?
    public var status: ProblemStatus?
    public var resolution: String?
    public var version: Int?

    public init(
        title: String? = nil, rootCause: String? = nil, workaround: String? = nil, knownError: Bool? = nil, status: ProblemStatus? = nil,
        resolution: String? = nil, version: Int? = nil
    ) {
        self.title = title
        self.rootCause = rootCause
        self.workaround = workaround
        self.knownError = knownError
        self.status = status
        self.resolution = resolution
        self.version = version
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if let title { v.text(title, field: "title", maxLength: 200) }
        v.text(rootCause, field: "rootCause", required: false, maxLength: 10_000, multiline: true)
        v.text(workaround, field: "workaround", required: false, maxLength: 10_000, multiline: true)
        v.text(resolution, field: "resolution", required: false, maxLength: 10_000, multiline: true)
        if let version, version < 1 { v.fail("version", "must be at least 1") }
        if self == UpdateProblemRequest() || self == UpdateProblemRequest(version: version) {
            v.fail("body", "change at least one of title, rootCause, workaround, knownError, status or resolution")
        }
        try v.check()
    }
}

/// triage's `GET /internal/v1/tickets/{id}/problem`: the problem a ticket is linked to, if any.
public struct TicketProblem: Sendable, Codable, Equatable {
    public var problem: ProblemRecord?
    public init(problem: ProblemRecord?) { self.problem = problem }
}
