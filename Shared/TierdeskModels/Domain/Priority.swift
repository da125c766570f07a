/// How many people or how much of the business a request affects.
public enum Impact: String, Sendable, Codable, CaseIterable, Hashable { case high, medium, low }

/// How soon the requester needs it.
public enum Urgency: String, Sendable, Codable, CaseIterable, Hashable { case high, medium, low }

/// ITIL priority, P1 (most urgent) to P5. `rank` is the number stored and sorted on.
public enum Priority: String, Sendable, Codable, CaseIterable, Comparable, Hashable {
    case p1 = "P1"
    case p2 = "P2"
    case p3 = "P3"
    case p4 = "P4"
    case p5 = "P5"

    /// 1 for P1 … 5 for P5; a queue sorts ascending.
    public var rank: Int { Priority.allCases.firstIndex(of: self)! + 1 }

    public init?(rank: Int) {
        guard (1...5).contains(rank) else { return nil }
        self = Priority.allCases[rank - 1]
    }

    /// The ITIL matrix: the sum of the two levels (high 0, medium 1, low 2) picks the priority.
    public init(impact: Impact, urgency: Urgency) {
        func level(_ raw: String) -> Int { ["high": 0, "medium": 1, "low": 2][raw]! }
        self = Priority(rank: level(impact.rawValue) + level(urgency.rawValue) + 1)!
    }

    /// One step more urgent (a VIP's ticket); P1 stays P1.
    public var raised: Priority { Priority(rank: max(1, rank - 1))! }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}
