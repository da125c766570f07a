import TierdeskKit
import TierdeskModels

/// What each caller may set on a submission: trust follows proof. `api` and `chat` need an
/// integration key allowed that channel (or an agent); `phone` is entered by an agent; `email` comes
/// only through the mail gateway (`POST /v1/inbound/email`); an anonymous caller (or a requester
/// token) files on the web. Metadata and a transcript come only from integrations and agents.
enum SubmissionRights {
    /// Who submits, or 403 for callers that never submit (vendors, services, the mail gateway here).
    static func submitter(_ principal: Principal?) throws -> SubmittedBy {
        switch principal {
        case nil, .requester, .requesterAccount: .requester
        case .agent: .agent
        case .admin: .admin
        case .integration: .integration
        case .vendor, .internal, .mailGateway, .bootstrap, .auditor:
            throw Problem.forbidden("tickets are submitted by requesters, agents, integrations and administrators")
        }
    }

    /// Refuses (403, nothing stored) what the caller cannot prove.
    static func check(_ input: SubmitTicketRequest, by principal: Principal?) throws {
        if input.channel == .email {
            throw Problem.forbidden("email tickets come only through the mail gateway (POST /v1/inbound/email)")
        }
        if input.channel == .phone, !isAgent(principal) {
            throw Problem.forbidden("phone tickets are entered by an agent: send an agent token")
        }
        switch principal {
        case .agent, .admin:
            return
        case .integration(let integration):
            guard integration.channels.contains(input.channel) else {
                throw Problem.forbidden(
                    "the integration '\(integration.name)' may submit on \(integration.channels.map(\.rawValue).sorted().joined(separator: ", ")) only")
            }
        default:
            switch input.channel {
            case .web: break
            default:
                throw Problem.forbidden(
                    "the \(input.channel.rawValue) channel needs an integration key allowed it, or an agent token; an anonymous submission is web")
            }
            if input.metadata != nil || input.transcript != nil {
                throw Problem.forbidden("metadata and transcripts come only from integrations and agents")
            }
        }
    }

    static func isAgent(_ principal: Principal?) -> Bool {
        if case .agent = principal { return true }
        return false
    }
}
