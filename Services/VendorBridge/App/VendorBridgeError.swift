import TierdeskKit
import TierdeskModels

/// Everything vendor-bridge's stores and domain operations refuse, each with a stable problem
/// `type`; mapped to HTTP here and nowhere else.
public enum VendorBridgeError: Error, Equatable, ProblemConvertible {
    case caseNotFound
    case vendorNotFound
    case duplicateVendor(name: String)
    /// A resolved or rejected case takes no more updates.
    case caseClosed(status: VendorCaseStatus)
    /// An event vendor-bridge will not apply (the sender dead-letters it with this reason).
    case eventRefused(String)

    public var problem: Problem {
        switch self {
        case .caseNotFound: .notFound("vendor case")
        case .vendorNotFound: .notFound("vendor")
        case .duplicateVendor: .conflict("a vendor with this name exists", type: "duplicate")
        case .caseClosed(let status): .conflict("the case is \(status.rawValue); it takes no more updates", type: "case-closed")
        case .eventRefused(let detail): Problem(type: Problem.typeBase + "event-refused", title: "Unprocessable event", status: 422, detail: detail)
        }
    }
}
