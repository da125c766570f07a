import Foundation

extension DefaultStringInterpolation {
    /// `"\(id)"` spells an id as RFC 9562 writes it, in lower case (Foundation's `description` is
    /// upper case), so ids read the same in paths, headers, log lines and messages as in bodies.
    public mutating func appendInterpolation(_ id: UUID) {
        appendLiteral(id.uuidString.lowercased())
    }
}
