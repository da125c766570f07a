import Foundation

/// What an escalation into a level must carry (`PUT /v1/escalation-contracts/{tier}`, admin): the
/// receiving level reads these first. Level 1 translates the requester's words into what level 2
/// needs ("steps tried", "affected users"); level 2 gives level 3 a reproduction and logs.
public struct EscalationContract: Sendable, Codable, Equatable {
    public struct Field: Sendable, Codable, Equatable {
        /// The key in `EscalateRequest.handOff`: `stepsTried`.
        public var name: String
        /// What agents read: "Steps tried".
        public var label: String

        public init(name: String, label: String) {
            self.name = name
            self.label = label
        }
    }

    public var tier: Tier
    public var fields: [Field]

    public init(tier: Tier, fields: [Field]) {
        self.tier = tier
        self.fields = fields
    }

    /// A field name: a letter, then letters and digits, at most 50.
    public static func isFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 50, CharacterSet.letters.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && CharacterSet.alphanumerics.contains($0) }
    }

    /// The required fields `handOff` leaves out or blank, in the contract's order.
    public func missing(in handOff: [String: String]?) -> [Field] {
        fields.filter { (handOff?[$0.name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }
}

/// The body of `PUT /v1/escalation-contracts/{tier}`.
public struct EscalationContractRequest: Sendable, Codable, Equatable {
    public var fields: [EscalationContract.Field]

    public init(fields: [EscalationContract.Field]) { self.fields = fields }

    public func validate() throws(Problem) {
        var v = Validation()
        if fields.count > 20 { v.fail("fields", "holds at most 20 fields") }
        if Set(fields.map(\.name)).count != fields.count { v.fail("fields", "names must be distinct") }
        for (index, field) in fields.enumerated() {
            if !EscalationContract.isFieldName(field.name) {
                v.fail("fields[\(index)].name", "a letter, then letters and digits, at most 50")
            }
            v.text(field.label, field: "fields[\(index)].label", maxLength: 200)
        }
        try v.check()
    }
}

/// How a category's hard tickets get help: handed up a level, or a swarm of agents of any level
/// joining the owner (`PUT /v1/work-modes/{category}`, admin).
public enum WorkMode: String, Sendable, Codable, CaseIterable, Hashable { case escalate, swarm }

public struct WorkModeSetting: Sendable, Codable, Equatable {
    public var category: String
    public var mode: WorkMode

    public init(category: String, mode: WorkMode) {
        self.category = category
        self.mode = mode
    }
}

/// The body of `PUT /v1/work-modes/{category}`.
public struct WorkModeRequest: Sendable, Codable, Equatable {
    public var mode: WorkMode
    public init(mode: WorkMode) { self.mode = mode }
}

/// `POST /v1/tickets/{id}/de-escalate`: back to a lower level with a note; a bounce in the reports.
public struct DeescalateRequest: Sendable, Codable, Equatable {
    public var note: String
    /// Default: one level down.
    public var toTier: Int?

    public init(note: String, toTier: Int? = nil) {
        self.note = note
        self.toTier = toTier
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(note, field: "note", maxLength: 4000, multiline: true)
        if let toTier, !(1...2).contains(toTier) { v.fail("toTier", "must be 1 or 2") }
        try v.check()
    }
}

/// `POST /v1/tickets/{id}/reassign`: to another agent of the ticket's level.
public struct ReassignRequest: Sendable, Codable, Equatable {
    public var agentId: UUID
    public var note: String?

    public init(agentId: UUID, note: String? = nil) {
        self.agentId = agentId
        self.note = note
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(note, field: "note", required: false, maxLength: 2000, multiline: true)
        try v.check()
    }
}

/// `POST /v1/tickets/{id}/close`: a resolved ticket is done.
public struct CloseRequest: Sendable, Codable, Equatable {
    public var note: String?

    public init(note: String? = nil) { self.note = note }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(note, field: "note", required: false, maxLength: 2000, multiline: true)
        try v.check()
    }
}

/// `POST /v1/tickets/{id}/reopen`: the level takes a resolved ticket back, saying why.
public struct ReopenRequest: Sendable, Codable, Equatable {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(reason, field: "reason", maxLength: 2000, multiline: true)
        try v.check()
    }
}

/// `POST /v1/tickets/{id}/collaborators`: an agent of any level joins the swarm.
public struct CollaboratorRequest: Sendable, Codable, Equatable {
    public var agentId: UUID
    public init(agentId: UUID) { self.agentId = agentId }
}

/// What the agent view adds for tier-queue: the SLA, the swarm, the hand-off and triage's problem.
public struct TicketWorkContext: Sendable, Codable, Equatable {
    /// What the latest escalation into the ticket's level carried, in its contract's order.
    public struct HandOff: Sendable, Codable, Equatable {
        public var fromTier: Int?
        public var toTier: Int?
        public var reason: String?
        public var fields: [Field]

        public init(fromTier: Int?, toTier: Int?, reason: String?, fields: [Field]) {
            self.fromTier = fromTier
            self.toTier = toTier
            self.reason = reason
            self.fields = fields
        }

        public struct Field: Sendable, Codable, Equatable {
            public var name: String
            public var label: String
            public var value: String

            public init(name: String, label: String, value: String) {
                self.name = name
                self.label = label
                self.value = value
            }
        }
    }

    public var sla: SLAState?
    public var workMode: WorkMode
    public var collaborators: [UUID]
    public var handOff: HandOff?
    /// The open problem the ticket is linked to, with its workaround when it is a known error
    /// (from triage; absent and logged when triage does not answer in time).
    public var problem: ProblemRecord?
    /// The vendor's question still waiting for the company's answer (`POST /v1/tickets/{id}/vendor-messages`).
    public var vendorQuestion: VendorQuestion?
    /// The parts a peer did not give in time, by name (`problem`: triage; `suggestedArticles`: intake), so
    /// a reader says they could not be read rather than showing none; absent when every peer answered.
    public var unavailable: [String]?
    /// Mail to the requester's address bounces (absent: it does not, as far as Tierdesk knows).
    public var requesterBouncing: MailBounce?

    public init(
        sla: SLAState?, workMode: WorkMode, collaborators: [UUID], handOff: HandOff?, problem: ProblemRecord?, vendorQuestion: VendorQuestion? = nil,
        unavailable: [String]? = nil, requesterBouncing: MailBounce? = nil
    ) {
        self.sla = sla
        self.workMode = workMode
        self.collaborators = collaborators
        self.handOff = handOff
        self.problem = problem
        self.vendorQuestion = vendorQuestion
        self.unavailable = unavailable
        self.requesterBouncing = requesterBouncing
    }
}

/// An address whose mail bounces: what the latest bounce said, since when, how often.
public struct MailBounce: Sendable, Codable, Equatable {
    public var address: String
    /// The enhanced status code (`5.1.1`).
    public var status: String?
    /// The remote server's answer.
    public var diagnostic: String?
    public var firstBouncedAt: Date
    public var lastBouncedAt: Date
    public var bounces: Int

    public init(address: String, status: String?, diagnostic: String?, firstBouncedAt: Date, lastBouncedAt: Date, bounces: Int) {
        self.address = address
        self.status = status
        self.diagnostic = diagnostic
        self.firstBouncedAt = firstBouncedAt
        self.lastBouncedAt = lastBouncedAt
        self.bounces = bounces
    }
}

/// A vendor's `needs_info` on a ticket's case, not yet answered.
public struct VendorQuestion: Sendable, Codable, Equatable {
    public var caseId: UUID
    public var question: String
    public var askedAt: Date

    public init(caseId: UUID, question: String, askedAt: Date) {
        self.caseId = caseId
        self.question = question
        self.askedAt = askedAt
    }

    /// The latest question on the trail with no message to the vendor after it, while the ticket
    /// still waits on the vendor.
    public static func open(in events: [TicketEvent], status: TicketStatus) -> VendorQuestion? {
        guard status == .pendingVendor,
            let index = events.lastIndex(where: { $0.type == .vendorUpdated || $0.type == .vendorMessageSent || $0.type == .vendorCaseClosed })
        else { return nil }
        guard let update = VendorUpdated(events[index]), update.status == .needsInfo else { return nil }
        return VendorQuestion(caseId: update.caseId, question: update.message, askedAt: events[index].at)
    }
}

/// `GET /v1/reports/summary?from=&to=`: how the department did between two instants. Levels are
/// keyed "0" to "4"; rates are shares between 0 and 1 (null when nothing was counted).
public struct ReportSummary: Sendable, Codable, Equatable {
    public struct Duration: Sendable, Codable, Equatable {
        public var meanSeconds: Double
        public var p90Seconds: Double
        public var count: Int

        public init(meanSeconds: Double, p90Seconds: Double, count: Int) {
            self.meanSeconds = meanSeconds
            self.p90Seconds = p90Seconds
            self.count = count
        }
    }

    public struct Backlog: Sendable, Codable, Equatable {
        public var open: Int
        public var oldestTicketId: UUID?
        public var oldestCreatedAt: Date?

        public init(open: Int, oldestTicketId: UUID?, oldestCreatedAt: Date?) {
            self.open = open
            self.oldestTicketId = oldestTicketId
            self.oldestCreatedAt = oldestCreatedAt
        }
    }

    public struct Compliance: Sendable, Codable, Equatable {
        public var resolved: Int
        public var withinTarget: Int
        public var rate: Double?

        public init(resolved: Int, withinTarget: Int, rate: Double?) {
            self.resolved = resolved
            self.withinTarget = withinTarget
            self.rate = rate
        }
    }

    public struct Cost: Sendable, Codable, Equatable {
        /// The configured cost of resolving one ticket at each level.
        public var perTicketByTier: [String: Double]
        public var totalByTier: [String: Double]
        public var total: Double
        /// What resolving every ticket of a level one level lower would have saved, by the level it left.
        public var shiftLeftSavingsByTier: [String: Double]

        public init(perTicketByTier: [String: Double], totalByTier: [String: Double], total: Double, shiftLeftSavingsByTier: [String: Double]) {
            self.perTicketByTier = perTicketByTier
            self.totalByTier = totalByTier
            self.total = total
            self.shiftLeftSavingsByTier = shiftLeftSavingsByTier
        }
    }

    public var from: Date
    public var to: Date
    public var resolvedByTier: [String: Int]
    public var firstContactResolutionRate: Double?
    public var meanTimeToResolveSecondsByTier: [String: Double]
    public var timeToResolveByTier: [String: Duration]
    public var slaCompliance: [String: Compliance]
    public var backlogByTier: [String: Backlog]
    /// Escalations out of a level per ticket that reached it.
    public var escalationRate: Double?
    public var escalationRateByTier: [String: Double]
    /// De-escalations back within 24 h of the escalation, per escalation of that pair ("2>1").
    public var bouncesByPair: [String: Int]
    public var bounceRateByTier: [String: Double]
    public var pausedSecondsByReason: [String: Double]
    public var vendorTurnaround: Duration?
    public var cost: Cost

    public init(
        from: Date,
        to: Date,
        resolvedByTier: [String: Int],
        firstContactResolutionRate: Double?,
        meanTimeToResolveSecondsByTier: [String: Double],
        timeToResolveByTier: [String: Duration],
        slaCompliance: [String: Compliance],
        backlogByTier: [String: Backlog],
        escalationRate: Double?,
        escalationRateByTier: [String: Double],
        bouncesByPair: [String: Int],
        bounceRateByTier: [String: Double],
        pausedSecondsByReason: [String: Double],
        vendorTurnaround: Duration?,
        cost: Cost
    ) {
        self.from = from
        self.to = to
        self.resolvedByTier = resolvedByTier
        self.firstContactResolutionRate = firstContactResolutionRate
        self.meanTimeToResolveSecondsByTier = meanTimeToResolveSecondsByTier
        self.timeToResolveByTier = timeToResolveByTier
        self.slaCompliance = slaCompliance
        self.backlogByTier = backlogByTier
        self.escalationRate = escalationRate
        self.escalationRateByTier = escalationRateByTier
        self.bouncesByPair = bouncesByPair
        self.bounceRateByTier = bounceRateByTier
        self.pausedSecondsByReason = pausedSecondsByReason
        self.vendorTurnaround = vendorTurnaround
        self.cost = cost
    }
}
