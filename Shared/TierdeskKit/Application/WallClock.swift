import Foundation

/// Where services read the time of day: `SystemClock` in production, a clock tests set and move
/// (`ManualClock` in the test support). A request reads it once and uses that one instant for all
/// it writes, so a change and its event never disagree.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The machine's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
