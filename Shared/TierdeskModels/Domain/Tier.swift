import Foundation

/// A support level. Level 0 is self-service, level 4 an external vendor.
public enum Tier: Int, Sendable, Codable, CaseIterable, Comparable, Hashable {
    case selfService = 0
    case firstLine, backOffice, specialist, vendor

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The levels human agents work (1 to 3).
    public static let agentTiers: [Tier] = [.firstLine, .backOffice, .specialist]

    /// The next level up, or nil at the top.
    public var next: Tier? { Tier(rawValue: rawValue + 1) }

    /// Parses comma-separated `level:value` pairs such as `1:least-loaded,2:round-robin`, each value
    /// read by `value`; nil when any pair is not a level and a value it accepts (empty text: no pairs).
    public static func parsePairs<Value>(_ text: String, _ value: (String) -> Value?) -> [Tier: Value]? {
        var pairs: [Tier: Value] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let tier = Int(parts[0]).flatMap(Tier.init(rawValue:)), let parsed = value(parts[1]) else { return nil }
            pairs[tier] = parsed
        }
        return pairs
    }

    /// Parses a comma-separated list such as `1,2,3`; nil when any element is not a level.
    public static func parseList(_ text: String) -> Set<Tier>? {
        var tiers = Set<Tier>()
        for part in text.split(separator: ",") {
            guard let number = Int(part.trimmingCharacters(in: .whitespaces)), let tier = Tier(rawValue: number) else { return nil }
            tiers.insert(tier)
        }
        return tiers.isEmpty ? nil : tiers
    }
}
