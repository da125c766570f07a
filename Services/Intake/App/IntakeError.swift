import Foundation
import TierdeskKit
import TierdeskModels

/// Everything intake's stores and domain operations refuse, each with a stable problem `type`;
/// mapped to HTTP here and nowhere else.
public enum IntakeError: Error, Equatable, ProblemConvertible {
    case ticketNotFound
    case articleNotFound
    case requesterNotFound
    case integrationNotFound
    /// A reply to a ticket that is closed, or resolved longer ago than the reopen window.
    case ticketClosed(status: TicketStatus)
    case duplicateSlug(String)
    case duplicateIntegration(name: String)
    /// A self-service resolution naming an article that is not published.
    case notAPublishedArticle
    /// Slugs starting `ticket-` belong to articles published from tickets.
    case reservedSlug
    /// An event whose data this service cannot apply (the sender dead-letters it).
    case invalidEvent(String)
    /// A write lost a race with another one; the same request again succeeds.
    case concurrentChange(String)
    /// The ticket holds as many of its requester's replies as one ticket takes.
    case tooManyReplies(Int)
    /// A sign-in link's key that is unknown, used or expired.
    case signInLinkInvalid
    /// A satisfaction answer for a ticket that is not resolved or closed yet.
    case notResolvedYet(status: TicketStatus)
    /// A satisfaction answer changed more than `Satisfaction.changeableFor` after the first.
    case satisfactionFinal(since: Date)

    public var problem: Problem {
        switch self {
        case .ticketNotFound: .notFound("ticket")
        case .articleNotFound: .notFound("article")
        case .requesterNotFound: .notFound("requester")
        case .integrationNotFound: .notFound("active integration")
        case .ticketClosed(let status): .conflict("this ticket is \(status.rawValue); submit a new ticket instead", type: "ticket-closed")
        case .duplicateSlug(let slug): .conflict("an article with the slug '\(slug)' exists", type: "duplicate")
        case .duplicateIntegration(let name): .conflict("an integration named '\(name)' exists", type: "duplicate")
        case .notAPublishedArticle: .validation([FieldError(field: "articleId", message: "is not a published article")])
        case .reservedSlug: .validation([FieldError(field: "slug", message: "slugs starting 'ticket-' are kept for articles published from tickets")])
        case .invalidEvent(let detail): Problem(type: Problem.typeBase + "event-refused", title: "Unprocessable event", status: 422, detail: detail)
        case .concurrentChange(let detail): .conflict(detail, type: "concurrent-change")
        case .tooManyReplies(let limit):
            .conflict("this ticket holds \(limit) replies, as many as one ticket takes; submit a new ticket", type: "too-many-replies")
        case .signInLinkInvalid:
            Problem(
                type: Problem.typeBase + "sign-in-link-invalid", title: "Sign-in link not valid", status: 401,
                detail: "this sign-in link is unknown, already used or expired; ask for a new one")
        case .notResolvedYet(let status):
            .conflict("this ticket is \(status.rawValue); the question comes once it is resolved", type: "not-resolved")
        case .satisfactionFinal(let since):
            .conflict("the answer can be changed for 7 days; it is final since \(RFC3339.format(since))", type: "satisfaction-final")
        }
    }
}
