import Foundation
import Testing
import TierdeskKit
import TierdeskTestSupport

/// Cached answers expire by the service's clock: tests move it instead of sleeping.
@Suite struct TimedCacheTests {
    @Test func entriesLiveForTheirLifetimeByTheClock() {
        let clock = ManualClock()
        let cache = TimedCache<String, Int>(clock: clock)
        cache.remember(1, for: "a", lifetime: .seconds(5))
        clock.advance(by: 4.999)
        #expect(cache.value(for: "a") == 1)
        clock.advance(by: 0.001)
        #expect(cache.value(for: "a") == nil, "gone when its lifetime is over")
        cache.remember(2, for: "b", lifetime: .seconds(5))
        clock.advance(by: -60)
        #expect(cache.value(for: "b") == nil, "a clock set back does not stretch a lifetime")
    }
}
