import Foundation
import Synchronization
import TierdeskKit

/// A clock a test sets and moves; services read it through `ServiceRuntime.clock`.
public final class ManualClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_798_761_600)) {  // 2027-01-01T00:00:00Z
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward (or back, with a negative interval).
    public func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }

    /// Moves the clock forward by `duration` (past a cache's lifetime, say).
    public func advance(by duration: Duration) { advance(by: duration.seconds) }
}
