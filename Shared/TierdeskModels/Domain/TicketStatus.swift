/// Where a ticket is in its lifecycle. Every change goes through `canTransition(to:)`.
public enum TicketStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case new, triaged, queued
    case inProgress = "in_progress"
    case pendingCustomer = "pending_customer"
    case pendingVendor = "pending_vendor"
    case resolved, closed

    /// The lifecycle's edges. `queued → queued` is a move to another tier (escalation);
    /// `new → resolved` is a Level 0 self-service resolution; from `triaged`, a rule sends a ticket
    /// straight to a vendor (`pending_vendor`) or closes it as not an IT matter; a ticket waiting on
    /// the customer goes back to the vendor when the company reopens the vendor's case.
    static let edges: [TicketStatus: Set<TicketStatus>] = [
        .new: [.triaged, .resolved],
        .triaged: [.queued, .pendingVendor, .closed],
        .queued: [.inProgress, .queued, .pendingVendor],
        .inProgress: [.pendingCustomer, .pendingVendor, .resolved, .queued],
        .pendingCustomer: [.inProgress, .queued, .resolved, .pendingVendor],
        .pendingVendor: [.inProgress, .queued, .resolved],
        .resolved: [.closed, .queued],
        .closed: [],
    ]

    /// Whether the lifecycle allows going from this status to `next`.
    public func canTransition(to next: TicketStatus) -> Bool {
        TicketStatus.edges[self, default: []].contains(next)
    }

    /// Open tickets still need work from someone.
    public var isOpen: Bool { self != .resolved && self != .closed }

    /// While pending, the SLA clock is paused.
    public var isPending: Bool { self == .pendingCustomer || self == .pendingVendor }
}
