import TierdeskKit
import TierdeskModels

/// Everything tier-queue's stores and domain operations refuse, each with a stable problem
/// `type`; mapped to HTTP here and nowhere else.
public enum TierQueueError: Error, Equatable, ProblemConvertible {
    case ticketNotFound
    case agentNotFound
    case queueNotFound
    case duplicateAgent(email: String)
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

    public var problem: Problem {
        switch self {
        case .ticketNotFound: .notFound("ticket")
        case .agentNotFound: .notFound("agent")
        case .queueNotFound: .notFound("queue")
        case .duplicateAgent: .conflict("an agent with this email exists", type: "duplicate")
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
        }
    }
}
