import Foundation
import TierdeskModels

/// Who is calling, resolved from the bearer token.
public enum Principal: Sendable, Equatable {
    case admin
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

/// An authenticated agent and what it may do.
public struct AgentIdentity: Sendable, Equatable {
    public var id: UUID
    public var tiers: Set<Tier>
    public var skills: [String]
    public var wipLimit: Int

    public init(id: UUID, tiers: Set<Tier>, skills: [String], wipLimit: Int) {
        self.id = id
        self.tiers = tiers
        self.skills = skills
        self.wipLimit = wipLimit
    }
}

extension AppRequestContext {
    /// The caller, or 401.
    public func authenticated() throws -> Principal {
        guard let principal else { throw Problem.unauthorized }
        return principal
    }

    /// Admin only.
    public func requireAdmin() throws {
        guard try authenticated() == .admin else { throw Problem.forbidden("this needs the admin token") }
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

    /// An agent or the admin: the agent, or nil for the admin; 403 for any other caller.
    public func requireAgentOrAdmin() throws -> AgentIdentity? {
        switch try authenticated() {
        case .admin: return nil
        case .agent(let agent): return agent
        default: throw Problem.forbidden("this needs an agent token or the admin token")
        }
    }

    /// The calling vendor's id, or 403.
    public func requireVendor() throws -> UUID {
        guard case .vendor(let id) = try authenticated() else { throw Problem.forbidden("this needs a vendor API key") }
        return id
    }
}
