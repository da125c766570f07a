import Foundation

/// A staff person's role: one each. Agents and team leads work their levels; administrators and
/// auditors have none.
public enum StaffRole: String, Sendable, Codable, CaseIterable {
    case agent, lead, admin, auditor

    /// The scopes a token of this role may have: never more than the role.
    public var scopes: Set<TokenScope> {
        switch self {
        case .agent, .lead: [.read, .work]
        case .admin: [.read, .admin]
        case .auditor: [.read]
        }
    }

    /// The scope of the token a new person is given: all the role may.
    public var widestScope: TokenScope {
        switch self {
        case .agent, .lead: .work
        case .admin: .admin
        case .auditor: .read
        }
    }
}

/// What a staff token may do: `read` only reads (GET and HEAD), `work` and `admin` all the role may.
public enum TokenScope: String, Sendable, Codable, CaseIterable {
    case read, work, admin
}
