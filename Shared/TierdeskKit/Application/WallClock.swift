import Foundation

/// Where services read the time of day: `SystemClock` in production, a clock tests set and move
/// (`ManualClock` in the test support). A request reads it once and uses that one instant for all
/// it writes, so a change and its event never disagree. This file is the only place that reads the
/// machine's time of day (`scripts/check-code` enforces it); caches expire by the clock too, so tests
/// move it instead of sleeping.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The machine's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

extension UUID {
    /// A version 7 UUID made now by the machine's clock: its time only orders ids in their indexes,
    /// it records nothing (a record's time comes from the injected clock).
    public static func timeOrdered() -> UUID { timeOrdered(at: SystemClock().now()) }
}
