import TierdeskKit
import TierdeskModels

/// Everything triage's stores and controllers refuse, each with a stable problem `type`; mapped to
/// HTTP here and nowhere else.
public enum TriageError: Error, Equatable, ProblemConvertible {
    case notFound(String)
    /// A rule the validation of its shape cannot catch (an unknown vendor).
    case invalidRule(field: String, String)
    /// The classifier has no resolved tickets with a category to learn from.
    case nothingToLearn
    /// The problem changed since the caller read it.
    case staleProblem(current: Int)

    public var problem: Problem {
        switch self {
        case .notFound(let what): .notFound(what)
        case .invalidRule(let field, let message): .validation([FieldError(field: field, message: message)])
        case .nothingToLearn:
            .conflict("there are no resolved tickets with a category to learn from yet", type: "nothing-to-learn")
        case .staleProblem(let current):
            .conflict("the problem changed since you read it (now version \(current)); read it again", type: "stale-version")
        }
    }
}
