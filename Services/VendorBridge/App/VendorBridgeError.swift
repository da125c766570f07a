import TierdeskKit
import TierdeskModels

/// Everything vendor-bridge's stores and domain operations refuse, each with a stable problem
/// `type`; mapped to HTTP here and nowhere else.
public enum VendorBridgeError: Error, Equatable, ProblemConvertible {
    case caseNotFound
    case vendorNotFound
    case ticketNotFound
    case deliveryNotFound
    /// The ticket has no vendor case that is not closed.
    case noOpenCase
    /// Only a resolved case (waiting for the company's verification) can be reopened.
    case notReopenable(status: VendorCaseStatus)
    case duplicateVendor(name: String)
    /// A closed case, or a resolved one waiting for the company's verification, takes no more updates.
    case caseClosed(status: VendorCaseStatus)
    /// An event vendor-bridge will not apply (the sender dead-letters it with this reason).
    case eventRefused(String)

    public var problem: Problem {
        switch self {
        case .caseNotFound: .notFound("vendor case")
        case .vendorNotFound: .notFound("vendor")
        case .ticketNotFound: .notFound("ticket")
        case .deliveryNotFound: .notFound("webhook delivery")
        case .noOpenCase: .conflict("the ticket has no open vendor case", type: "no-vendor-case")
        case .notReopenable(let status): .conflict("the case is \(status.rawValue); only a resolved case can be reopened", type: "not-reopenable")
        case .duplicateVendor: .conflict("a vendor with this name exists", type: "duplicate")
        case .caseClosed(let status):
            .conflict(
                status == .resolved
                    ? "the case is resolved and waits for the company's verification; it takes no more updates"
                    : "the case is \(status.rawValue) and closed; it takes no more updates", type: "case-closed")
        case .eventRefused(let detail): Problem(type: Problem.typeBase + "event-refused", title: "Unprocessable event", status: 422, detail: detail)
        }
    }
}
