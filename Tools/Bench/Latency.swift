import Foundation
import Histogram
import Synchronization

/// Latencies in microseconds, in an HdrHistogram (3 significant digits, up to 10 minutes).
final class LatencyRecorder: Sendable {
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three))
    private let failures = Atomic<Int>(0)

    func record(_ duration: Duration) {
        let micros = UInt64(max(1, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000))
        histogram.withLock { _ = $0.record(min(micros, 600_000_000)) }
    }

    func fail() { failures.add(1, ordering: .relaxed) }

    func summary(seconds: Double) -> LatencySummary {
        histogram.withLock { histogram in
            func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
            let count = Int(histogram.totalCount)
            return LatencySummary(
                count: count, errors: failures.load(ordering: .relaxed), seconds: seconds, perSecond: seconds > 0 ? Double(count) / seconds : 0,
                p50Ms: ms(50), p90Ms: ms(90), p99Ms: ms(99), p999Ms: ms(99.9), maxMs: Double(histogram.max) / 1000, meanMs: histogram.mean / 1000)
        }
    }
}

/// What one measured run reports.
struct LatencySummary: Codable, Sendable {
    var count: Int
    var errors: Int
    var seconds: Double
    var perSecond: Double
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    var meanMs: Double
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A value shared by concurrent tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

/// A counter shared by concurrent tasks.
final class Counter: Sendable {
    private let atomic: Atomic<Int>
    init(_ value: Int = 0) { atomic = Atomic(value) }
    /// Adds `delta` and returns the value before.
    func add(_ delta: Int) -> Int { atomic.add(delta, ordering: .relaxed).oldValue }
}
