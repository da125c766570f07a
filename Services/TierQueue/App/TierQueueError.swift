import TierdeskKit
import TierdeskModels

/// Everything tier-queue's stores and domain operations refuse, each with a stable problem
/// `type`; mapped to HTTP here and nowhere else.
public enum TierQueueError: Error, Equatable, ProblemConvertible {
    case ticketNotFound
    case agentNotFound
    case queueNotFound
    case duplicateAgent(email: String)
    /// The bootstrap token creates an administrator only while none is active.
    case alreadyBootstrapped
    /// This instance does not serve the level (another instance does).
    case tierNotServed(tier: Int, served: [Int])
    /// Pausing and resolving are the assignee's.
    case assigneeOnly
    /// The ticket is at a level the agent does not work.
    case notYourLevel(tier: Int)
    case ticketClosed
    /// An escalation must go above the ticket's level.
    case escalationTarget(current: Int)
    /// A level 4 escalation found no vendor for the ticket.
    case noVendor(String)
    /// The ticket moved while the escalation was being decided.
    case changedWhileEscalating
    /// An escalation left out what the receiving level's contract asks for.
    case handOffIncomplete(tier: Int, missing: [EscalationContract.Field])
    /// The category swarms: agents join the ticket instead of taking it up a level.
    case swarmCategory(String)
    /// A de-escalation must go below the ticket's level, to level 1 or 2.
    case deescalationTarget(current: Int)
    /// A reassignment names an agent that does not work the ticket's level.
    case notAnAgentOfTheLevel(tier: Int)
    /// A reassignment names an agent without the skills the ticket needs.
    case missingSkills([String])
    case collaboratorNotFound
    /// A policy, contract or mode names something that is not one (`PUT /v1/sla/policies/P9`).
    case unknownKey(String, field: String)
    case notificationNotFound
    /// This replica holds as many notification streams as it may.
    case tooManyStreams

    public var problem: Problem {
        switch self {
        case .ticketNotFound: .notFound("ticket")
        case .agentNotFound: .notFound("agent")
        case .queueNotFound: .notFound("queue")
        case .duplicateAgent: .conflict("an agent with this email exists", type: "duplicate")
        case .alreadyBootstrapped:
            .conflict("an administrator exists: the bootstrap token creates only the first; sign in as one", type: "already-bootstrapped")
        case .tierNotServed(let tier, let served):
            Problem(
                type: Problem.typeBase + "tier-not-served", title: "Not found", status: 404,
                detail: "this tier-queue instance serves levels \(served); ask the one for level \(tier)")
        case .assigneeOnly: .forbidden("only the agent working this ticket may do that; claim it first")
        case .notYourLevel(let tier): .forbidden("this ticket is at level \(tier), which you do not work")
        case .ticketClosed: .conflict("the ticket is closed", type: "invalid-transition")
        case .escalationTarget(let current): .validation([FieldError(field: "toTier", message: "must be above the ticket's level \(current)")])
        case .noVendor(let detail): .validation([FieldError(field: "vendorId", message: detail)])
        case .changedWhileEscalating: .conflict("the ticket changed while escalating; read it again", type: "stale-version")
        case .handOffIncomplete(let tier, let missing):
            Problem(
                type: Problem.typeBase + "hand-off-incomplete", title: "Unprocessable Content", status: 422,
                detail: "an escalation to level \(tier) must carry: \(missing.map(\.label).joined(separator: ", "))",
                errors: missing.map { FieldError(field: "handOff.\($0.name)", message: "level \(tier) needs \($0.label)") })
        case .swarmCategory(let category):
            .conflict("tickets of category '\(category)' are swarmed, not escalated: add collaborators instead", type: "swarm-mode")
        case .deescalationTarget(let current):
            .validation([FieldError(field: "toTier", message: "must be a level 1-2 below the ticket's level \(current)")])
        case .notAnAgentOfTheLevel(let tier): .validation([FieldError(field: "agentId", message: "must be an active agent of level \(tier)")])
        case .missingSkills(let skills):
            .validation([FieldError(field: "agentId", message: "the agent lacks skills the ticket needs: \(skills.joined(separator: ", "))")])
        case .collaboratorNotFound: .notFound("collaborator")
        case .unknownKey(let detail, let field): .validation([FieldError(field: field, message: detail)])
        case .notificationNotFound: .notFound("notification")
        case .tooManyStreams: .unavailable("this replica holds as many notification streams as it may; try again shortly", retryAfter: 5)
        }
    }
}
