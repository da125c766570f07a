import Foundation
import Logging

extension Logger.MetadataValue.StringInterpolation {
    /// `"\(id)"` in log metadata spells the id in lower case, as everywhere else (swift-log's own
    /// interpolation would take Foundation's upper-case `description`).
    public mutating func appendInterpolation(_ id: UUID) {
        appendLiteral(id.uuidString.lowercased())
    }
}
