import Foundation
import TierdeskModels

/// Who is calling, resolved from the bearer token.
public enum Principal: Sendable, Equatable {
    /// `TIERDESK_ADMIN_TOKEN`: it only creates the first administrator (`POST /v1/bootstrap`).
    case bootstrap
    /// An administrator, a named person: settings, staff, vendors, integrations.
    case admin(StaffRef)
    /// An auditor: reads reports and the audit trail, changes nothing.
    case auditor(StaffRef)
    /// Another Tierdesk service, with the internal token.
    case `internal`
    case agent(AgentIdentity)
    case vendor(id: UUID)
    /// A verified requester token: it opens this one ticket.
    case requester(ticketID: UUID)
    /// A requester signed in by an email link (intake only): it opens every ticket they filed.
    case requesterAccount(requesterID: UUID)
    /// A monitoring system or portal with an integration key (intake only).
    case integration(IntegrationIdentity)
    /// The mail gateway's token: it opens `POST /v1/inbound/email` and nothing else.
    case mailGateway
}

/// An integration key's holder and what it may do.
public struct IntegrationIdentity: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var channels: Set<TierdeskModels.Channel>
    public var ratePerMinute: Int

    public init(id: UUID, name: String, channels: Set<TierdeskModels.Channel>, ratePerMinute: Int) {
        self.id = id
        self.name = name
        self.channels = channels
        self.ratePerMinute = ratePerMinute
    }
}

/// An administrator or auditor behind a call, and whether its token only reads.
public struct StaffRef: Sendable, Equatable {
    public var id: UUID
    public var readOnly: Bool

    public init(id: UUID, readOnly: Bool = false) {
        self.id = id
        self.readOnly = readOnly
    }
}

/// An authenticated agent or team lead and what it may do.
public struct AgentIdentity: Sendable, Equatable {
    public var id: UUID
    public var tiers: Set<Tier>
    public var skills: [String]
    public var wipLimit: Int
    /// A team lead: also sees its levels' worklists and reports, and reassigns within its levels.
    public var isLead: Bool
    /// A token of scope `read`.
    public var readOnly: Bool

    public init(id: UUID, tiers: Set<Tier>, skills: [String], wipLimit: Int, isLead: Bool = false, readOnly: Bool = false) {
        self.id = id
        self.tiers = tiers
        self.skills = skills
        self.wipLimit = wipLimit
        self.isLead = isLead
        self.readOnly = readOnly
    }
}

extension Principal {
    /// The staff person behind the call (an agent, lead, administrator or auditor), for the audit trail.
    public var personID: UUID? {
        switch self {
        case .admin(let staff), .auditor(let staff): staff.id
        case .agent(let agent): agent.id
        default: nil
        }
    }

    /// How the ticket trail names a staff caller (`agent:<id>`, `admin:<id>`); nil for anyone else.
    public var trailName: String? {
        switch self {
        case .admin(let staff): "admin:\(staff.id.uuidString.lowercased())"
        case .agent(let agent): TicketStore.actor(agent)
        default: nil
        }
    }

    /// A token that may only read: refused on anything but GET and HEAD.
    public var readOnly: Bool {
        switch self {
        case .admin(let staff): staff.readOnly
        case .auditor: true
        case .agent(let agent): agent.readOnly
        default: false
        }
    }
}

extension AppRequestContext {
    /// The caller, or 401.
    public func authenticated() throws -> Principal {
        guard let principal else { throw Problem.unauthorized }
        return principal
    }

    /// An administrator only: the administrator.
    @discardableResult
    public func requireAdmin() throws -> StaffRef {
        guard case .admin(let admin) = try authenticated() else { throw Problem.forbidden("this needs an administrator") }
        return admin
    }

    /// An administrator or an auditor (reading): the person.
    @discardableResult
    public func requireAdminOrAuditor() throws -> StaffRef {
        switch try authenticated() {
        case .admin(let staff), .auditor(let staff): return staff
        default: throw Problem.forbidden("this needs an administrator or an auditor")
        }
    }

    /// Who reads reports: administrators, auditors, team leads and level 3 agents; 403 for others.
    public func requireReportReader() throws {
        switch try authenticated() {
        case .admin, .auditor: return
        case .agent(let agent) where agent.isLead || agent.tiers.contains(.specialist): return
        default: throw Problem.forbidden("reports are for administrators, auditors, team leads and level 3 agents")
        }
    }

    /// Internal token only: service-to-service endpoints.
    public func requireInternal() throws {
        guard try authenticated() == .internal else { throw Problem.forbidden("this endpoint is for Tierdesk services only") }
    }

    /// The calling agent, or 403 for any other caller.
    public func requireAgent() throws -> AgentIdentity {
        guard case .agent(let agent) = try authenticated() else { throw Problem.forbidden("this needs an agent token") }
        return agent
    }

    /// An agent or an administrator: the agent, or nil for an administrator; 403 for any other caller.
    public func requireAgentOrAdmin() throws -> AgentIdentity? {
        switch try authenticated() {
        case .admin: return nil
        case .agent(let agent): return agent
        default: throw Problem.forbidden("this needs an agent or an administrator")
        }
    }

    /// The calling vendor's id, or 403.
    public func requireVendor() throws -> UUID {
        guard case .vendor(let id) = try authenticated() else { throw Problem.forbidden("this needs a vendor API key") }
        return id
    }
}
