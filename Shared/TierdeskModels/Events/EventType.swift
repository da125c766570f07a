/// Every event the services record or hand to each other.
public enum EventType: String, Sendable, Codable, CaseIterable, Hashable {
    case ticketCreated = "ticket.created"
    case ticketTriaged = "ticket.triaged"
    case ticketQueued = "ticket.queued"
    case ticketClaimed = "ticket.claimed"
    case ticketCommented = "ticket.commented"
    case ticketPending = "ticket.pending"
    case ticketEscalated = "ticket.escalated"
    /// Sent back to a lower level with a note: a bounce in the reports.
    case ticketDeescalated = "ticket.deescalated"
    /// Given to another agent of its level.
    case ticketReassigned = "ticket.reassigned"
    /// An agent of any level joins (or leaves) the ticket's swarm; the owner stays.
    case collaboratorAdded = "ticket.collaborator_added"
    case collaboratorRemoved = "ticket.collaborator_removed"
    case ticketResolved = "ticket.resolved"
    case ticketReopened = "ticket.reopened"
    case ticketClosed = "ticket.closed"
    case problemLinked = "problem.linked"
    /// Many tickets of one category at once: raised to P1 at level 2, and level 3 told.
    case problemStorm = "problem.storm"
    case kbPublished = "kb.published"
    case vendorCaseOpened = "vendor.case_opened"
    case vendorUpdated = "vendor.updated"
    /// The company's message to the vendor (an answer to its question, or a reopening).
    case vendorMessageSent = "vendor.message_sent"
    /// A vendor case passed a target of the vendor's contract (once per target).
    case vendorOverdue = "vendor.overdue"
    case vendorCaseClosed = "vendor.case_closed"
    case slaWarning = "sla.warning"
    case slaBreached = "sla.breached"
}
