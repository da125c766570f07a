import Foundation

/// Collects field errors so a request reports every problem at once.
public struct Validation: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public var isValid: Bool { errors.isEmpty }

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    /// Text that must be present (after trimming), within `maxLength` characters, with no control
    /// characters other than newline and tab when `multiline`.
    public mutating func text(_ value: String?, field: String, required: Bool = true, maxLength: Int, multiline: Bool = false) {
        guard let value else {
            if required { fail(field, "is required") }
            return
        }
        if required && value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            fail(field, "must not be empty")
        } else if value.count > maxLength {
            fail(field, "must be at most \(maxLength) characters")
        } else if value.unicodeScalars.contains(where: { Validation.isForbiddenControl($0, multiline: multiline) }) {
            fail(field, "must not contain control characters")
        }
    }

    /// A slug (lowercase letters, digits, '-' or '_') of at most `maxLength` characters, when given.
    public mutating func slug(_ value: String?, field: String, maxLength: Int) {
        if let value, !SubmitTicketRequest.isSlug(value) || value.count > maxLength {
            fail(field, "must be lowercase letters, digits, '-' or '_' (at most \(maxLength))")
        }
    }

    /// A plausible email address: one `@`, a dotted domain, no spaces, at most 254 characters.
    public mutating func email(_ value: String?, field: String) {
        guard let value else { return fail(field, "is required") }
        if !Validation.isEmail(value) { fail(field, "must be an email address") }
    }

    public static func isEmail(_ value: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 254, !trimmed.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }) else { return false }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") }
            && !trimmed.unicodeScalars.contains(where: { isForbiddenControl($0, multiline: false) })
    }

    static func isForbiddenControl(_ scalar: Unicode.Scalar, multiline: Bool) -> Bool {
        if multiline && (scalar == "\n" || scalar == "\t" || scalar == "\r") { return false }
        return scalar.properties.generalCategory == .control
    }

    /// Throws the collected errors as one 422 problem.
    public func check() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}

extension Problem {
    /// 422 with the offending fields.
    public static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            type: typeBase + "validation", title: "Request failed validation", status: 422,
            detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: errors)
    }
}
