import Testing
import TierdeskModels

@Suite struct TicketStatusTests {
    /// The lifecycle of DESIGN.md, written out independently of the implementation.
    static let allowed: Set<String> = [
        "new>triaged", "new>resolved",
        "triaged>queued", "triaged>pending_vendor", "triaged>closed",
        "queued>in_progress", "queued>queued", "queued>pending_vendor",
        "in_progress>pending_customer", "in_progress>pending_vendor", "in_progress>resolved", "in_progress>queued",
        "pending_customer>in_progress", "pending_customer>queued", "pending_customer>resolved", "pending_customer>pending_vendor",
        "pending_vendor>in_progress", "pending_vendor>queued", "pending_vendor>resolved",
        "resolved>closed", "resolved>queued",
    ]

    static let pairs = TicketStatus.allCases.flatMap { from in TicketStatus.allCases.map { (from, $0) } }

    @Test(arguments: pairs)
    func everyTransitionIsAllowedOrRefusedAsDesigned(from: TicketStatus, to: TicketStatus) {
        #expect(from.canTransition(to: to) == Self.allowed.contains("\(from.rawValue)>\(to.rawValue)"))
    }

    @Test func closedIsFinal() {
        #expect(TicketStatus.allCases.allSatisfy { !TicketStatus.closed.canTransition(to: $0) })
    }

    @Test func openAndPending() {
        #expect(TicketStatus.pendingVendor.isPending && TicketStatus.pendingCustomer.isPending && !TicketStatus.queued.isPending)
        #expect(!TicketStatus.resolved.isOpen && !TicketStatus.closed.isOpen && TicketStatus.new.isOpen)
    }
}
