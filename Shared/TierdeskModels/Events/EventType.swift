/// Every event the services record or hand to each other.
public enum EventType: String, Sendable, Codable, CaseIterable, Hashable {
    case ticketCreated = "ticket.created"
    case ticketTriaged = "ticket.triaged"
    case ticketQueued = "ticket.queued"
    case ticketClaimed = "ticket.claimed"
    case ticketCommented = "ticket.commented"
    case ticketPending = "ticket.pending"
    case ticketEscalated = "ticket.escalated"
    case ticketResolved = "ticket.resolved"
    case ticketReopened = "ticket.reopened"
    case ticketClosed = "ticket.closed"
    case problemLinked = "problem.linked"
    /// Many tickets of one category at once: raised to P1 at level 2, and level 3 told.
    case problemStorm = "problem.storm"
    case kbPublished = "kb.published"
    case vendorCaseOpened = "vendor.case_opened"
    case vendorUpdated = "vendor.updated"
    case slaWarning = "sla.warning"
    case slaBreached = "sla.breached"
}
