import Foundation

/// How a `PATCH` body's text field applies: absent keeps the value, an empty (or blank) string
/// clears it, anything else replaces it, trimmed.
extension Optional where Wrapped == String {
    public func patched(over old: String?) -> String? {
        guard let new = self else { return old }
        let trimmed = new.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
