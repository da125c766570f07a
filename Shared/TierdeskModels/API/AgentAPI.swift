import Foundation

/// `POST /v1/agents` (admin): a staff person. `role` is `agent` unless given; agents and team
/// leads work at least one level, administrators and auditors none (`tiers: []`).
public struct CreateAgentRequest: Sendable, Codable, Equatable {
    public var name: String
    public var email: String
    public var tiers: [Int]
    public var skills: [String]?
    public var wipLimit: Int?
    public var role: StaffRole?

    public init(name: String, email: String, tiers: [Int], skills: [String]? = nil, wipLimit: Int? = nil, role: StaffRole? = nil) {
        self.name = name
        self.email = email
        self.tiers = tiers
        self.skills = skills
        self.wipLimit = wipLimit
        self.role = role
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(name, field: "name", maxLength: 200)
        v.email(email, field: "email")
        Self.validate(tiers: tiers, role: role ?? .agent, into: &v)
        Self.validate(tiers: tiers, skills: skills, wipLimit: wipLimit, into: &v)
        try v.check()
    }

    /// Agents and team leads have levels, administrators and auditors none.
    static func validate(tiers: [Int], role: StaffRole, into v: inout Validation) {
        switch role {
        case .agent, .lead: if tiers.isEmpty { v.fail("tiers", "an agent or team lead must work at least one level") }
        case .admin, .auditor: if !tiers.isEmpty { v.fail("tiers", "an administrator or auditor works no level: give []") }
        }
    }

    /// The rules an agent's levels, skills and WIP limit follow, when given (creation and `PATCH` alike).
    static func validate(tiers: [Int]?, skills: [String]?, wipLimit: Int?, into v: inout Validation) {
        if let tiers, tiers.contains(where: { !(1...3).contains($0) }) { v.fail("tiers", "levels are 1, 2 or 3") }
        for (index, skill) in (skills ?? []).enumerated() { v.slug(skill, field: "skills[\(index)]", maxLength: 50) }
        if let wipLimit, !(1...100).contains(wipLimit) { v.fail("wipLimit", "must be between 1 and 100") }
    }
}

/// `POST /v1/bootstrap` (the bootstrap token): the first administrator.
public struct BootstrapRequest: Sendable, Codable, Equatable {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(name, field: "name", maxLength: 200)
        v.email(email, field: "email")
        try v.check()
    }
}

/// An agent; `token` is present only in the answer that created it.
public struct Agent: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var email: String
    public var tiers: [Tier]
    public var skills: [String]
    public var wipLimit: Int
    public var role: StaffRole
    /// False once deactivated: its tokens and sessions no longer open anything.
    public var active: Bool
    public var token: String?

    public init(
        id: UUID, name: String, email: String, tiers: [Tier], skills: [String], wipLimit: Int, role: StaffRole = .agent, active: Bool = true,
        token: String? = nil
    ) {
        self.role = role
        self.active = active
        self.id = id
        self.name = name
        self.email = email
        self.tiers = tiers
        self.skills = skills
        self.wipLimit = wipLimit
        self.token = token
    }
}

/// `POST /v1/tickets/{id}/escalate`: without `toTier` one level up; `toTier: 4` needs a vendor.
public struct EscalateRequest: Sendable, Codable, Equatable {
    public var reason: String
    public var toTier: Int?
    public var vendorId: UUID?
    /// What the receiving level's hand-off contract asks for (`GET /v1/escalation-contracts`), by field name.
    public var handOff: [String: String]?

    public init(reason: String, toTier: Int? = nil, vendorId: UUID? = nil, handOff: [String: String]? = nil) {
        self.reason = reason
        self.toTier = toTier
        self.vendorId = vendorId
        self.handOff = handOff
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(reason, field: "reason", maxLength: 2000, multiline: true)
        if let toTier, !(2...4).contains(toTier) { v.fail("toTier", "must be 2, 3 or 4") }
        let fields = handOff ?? [:]
        if fields.count > 20 { v.fail("handOff", "holds at most 20 fields") }
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if !EscalationContract.isFieldName(name) { v.fail("handOff.\(name)", "field names are letters and digits, starting with a letter, at most 50") }
            v.text(value, field: "handOff.\(name)", required: false, maxLength: 4000, multiline: true)
        }
        try v.check()
    }
}

/// How a ticket was resolved, for reports and problem management.
public enum ResolutionCode: String, Sendable, Codable, CaseIterable, Hashable {
    case fixed, workaround, duplicate
    case userError = "user_error"
    case noFaultFound = "no_fault_found"
    case vendorFixed = "vendor_fixed"
    case wontFix = "wont_fix"
}

/// `POST /v1/tickets/{id}/resolve`: what was done and its code; an `article` is published to the knowledge base.
public struct ResolveRequest: Sendable, Codable, Equatable {
    public struct Article: Sendable, Codable, Equatable {
        public var title: String
        public var body: String
        public init(title: String, body: String) {
            self.title = title
            self.body = body
        }
    }

    public var resolution: String
    public var code: ResolutionCode
    public var article: Article?

    public init(resolution: String, code: ResolutionCode = .fixed, article: Article? = nil) {
        self.resolution = resolution
        self.code = code
        self.article = article
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(resolution, field: "resolution", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        if let article {
            v.text(article.title, field: "article.title", maxLength: 200)
            v.text(article.body, field: "article.body", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        }
        try v.check()
    }
}

/// Why a ticket waits; the SLA clock does not run meanwhile.
public enum PendingReason: String, Sendable, Codable, CaseIterable, Hashable {
    case awaitingCustomerInfo = "awaiting_customer_info"
    case awaitingCustomerConfirmation = "awaiting_customer_confirmation"
    case awaitingVendor = "awaiting_vendor"
    case scheduledChange = "scheduled_change"

    /// Who the ticket waits on.
    public var on: PendingRequest.On { self == .awaitingVendor ? .vendor : .customer }
}

/// `POST /v1/tickets/{id}/pending`: waiting on the customer or a vendor, for a typed reason, with
/// an optional note; `on` follows from the reason and, when given, must agree with it.
public struct PendingRequest: Sendable, Codable, Equatable {
    public enum On: String, Sendable, Codable { case customer, vendor }
    public var reason: PendingReason
    public var on: On?
    public var note: String?

    public init(reason: PendingReason, on: On? = nil, note: String? = nil) {
        self.reason = reason
        self.on = on
        self.note = note
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(note, field: "note", required: false, maxLength: 2000, multiline: true)
        if let on, on != reason.on { v.fail("on", "the reason \(reason.rawValue) waits on the \(reason.on.rawValue)") }
        try v.check()
    }
}

/// `GET /v1/agents/colleagues`: an active agent as any other agent sees it, to hand a ticket to or
/// to invite to a swarm: no email, no token.
public struct Colleague: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var tiers: [Tier]
    public var skills: [String]
    public var wipLimit: Int
    /// The tickets it works on now (`in_progress`), which its WIP limit counts.
    public var working: Int

    public init(id: UUID, name: String, tiers: [Tier], skills: [String], wipLimit: Int, working: Int) {
        self.id = id
        self.name = name
        self.tiers = tiers
        self.skills = skills
        self.wipLimit = wipLimit
        self.working = working
    }
}
