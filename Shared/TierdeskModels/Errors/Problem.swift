/// An RFC 9457 problem document: every error any service answers has this shape.
public struct Problem: Sendable, Codable, Equatable, Error {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    /// The offending fields, for validation failures.
    public var errors: [FieldError]?
    /// For 429 and 503: seconds to wait before trying again (also sent as `Retry-After`).
    public var retryAfter: Int?

    public init(type: String, title: String, status: Int, detail: String? = nil, errors: [FieldError]? = nil, retryAfter: Int? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
        self.retryAfter = retryAfter
    }

    /// The base of every problem `type` URI.
    public static let typeBase = "https://tierdesk.dev/problems/"
}

/// One field that failed validation, with a message safe to show.
public struct FieldError: Sendable, Codable, Equatable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
