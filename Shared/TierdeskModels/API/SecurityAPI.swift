import Foundation

/// `PATCH /v1/requesters/{id}` (agents, admin): the fields given replace the stored ones; an empty
/// string clears an optional field.
public struct UpdateRequesterRequest: Sendable, Codable, Equatable {
    public var name: String?
    public var phone: String?
    public var organization: String?

    public init(name: String? = nil, phone: String? = nil, organization: String? = nil) {
        self.name = name
        self.phone = phone
        self.organization = organization
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if name == nil && phone == nil && organization == nil { v.fail("name", "give at least one of name, phone, organization") }
        v.text(name, field: "name", required: false, maxLength: 200)
        v.text(phone, field: "phone", required: false, maxLength: 50)
        v.text(organization, field: "organization", required: false, maxLength: 200)
        try v.check()
    }
}

/// `POST /v1/tickets/{id}/requester-token` (admin): the ticket's new requester token; every earlier one is revoked.
public struct RequesterTokenResponse: Sendable, Codable, Equatable {
    public var ticketId: UUID
    public var requesterToken: String

    public init(ticketId: UUID, requesterToken: String) {
        self.ticketId = ticketId
        self.requesterToken = requesterToken
    }
}

/// `POST /v1/integrations` (admin): a monitoring system or portal that submits tickets.
public struct CreateIntegrationRequest: Sendable, Codable, Equatable {
    public var name: String
    public var channels: [Channel]
    public var ratePerMinute: Int?

    public init(name: String, channels: [Channel], ratePerMinute: Int? = nil) {
        self.name = name
        self.channels = channels
        self.ratePerMinute = ratePerMinute
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(name, field: "name", maxLength: 200)
        if channels.isEmpty { v.fail("channels", "must name at least one channel") }
        if channels.contains(.phone) { v.fail("channels", "phone tickets are entered by agents") }
        if let ratePerMinute, !(1...100_000).contains(ratePerMinute) { v.fail("ratePerMinute", "must be between 1 and 100000") }
        try v.check()
    }
}

/// An integration; `key` is present only in the answer that created it.
public struct Integration: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var channels: [Channel]
    public var ratePerMinute: Int
    public var active: Bool
    public var createdAt: Date
    public var key: String?

    public init(id: UUID, name: String, channels: [Channel], ratePerMinute: Int, active: Bool, createdAt: Date, key: String? = nil) {
        self.id = id
        self.name = name
        self.channels = channels
        self.ratePerMinute = ratePerMinute
        self.active = active
        self.createdAt = createdAt
        self.key = key
    }
}

/// `PATCH /v1/agents/{id}` (admin): the fields given replace the stored ones; `active: false`
/// deactivates the person (their tokens and sessions stop working within the auth cache's 5 s). A
/// new `role` of agent or team lead comes with its levels (`tiers`); an administrator or auditor has none.
public struct UpdateAgentRequest: Sendable, Codable, Equatable {
    public var tiers: [Int]?
    public var skills: [String]?
    public var wipLimit: Int?
    public var active: Bool?
    public var role: StaffRole?

    public init(tiers: [Int]? = nil, skills: [String]? = nil, wipLimit: Int? = nil, active: Bool? = nil, role: StaffRole? = nil) {
        self.tiers = tiers
        self.skills = skills
        self.wipLimit = wipLimit
        self.active = active
        self.role = role
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if tiers == nil && skills == nil && wipLimit == nil && active == nil && role == nil {
            v.fail("active", "give at least one of tiers, skills, wipLimit, active, role")
        }
        switch (role, tiers) {
        case (.admin?, _?), (.auditor?, _?): v.fail("tiers", "an administrator or auditor works no level: leave tiers out")
        case (.agent?, nil), (.lead?, nil): v.fail("tiers", "a new role of agent or team lead comes with its levels")
        case (_, let tiers?) where tiers.isEmpty: v.fail("tiers", "must name at least one level")
        default: break
        }
        CreateAgentRequest.validate(tiers: tiers, skills: skills, wipLimit: wipLimit, into: &v)
        try v.check()
    }
}
