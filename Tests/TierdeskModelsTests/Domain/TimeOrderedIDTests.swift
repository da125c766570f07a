import Foundation
import Testing
import TierdeskModels

@Suite struct TimeOrderedIDTests {
    /// Version 7: the millisecond first, so ids sort as they were made (as PostgreSQL compares
    /// uuids, byte by byte), with the version and variant bits where RFC 9562 puts them.
    @Test func idsSortByTheirMomentAndCarryTheVersion() {
        let start = Date(timeIntervalSince1970: 1_796_019_573.25)
        let ids = (0..<1000).map { UUID.timeOrdered(at: start.addingTimeInterval(Double($0) / 100)) }
        func bytes(_ id: UUID) -> [UInt8] { withUnsafeBytes(of: id.uuid) { Array($0) } }
        #expect(
            zip(ids, ids.dropFirst()).allSatisfy { pair in
                let (a, b) = (bytes(pair.0), bytes(pair.1))
                return a.prefix(6).lexicographicallyPrecedes(b.prefix(6)) || a.prefix(6) == b.prefix(6)
            })
        #expect(ids[0].uuidString.lowercased().hasPrefix("01a22b1b-d202-7"))  // 1,796,019,573,250 ms
        #expect(ids.allSatisfy { bytes($0)[6] >> 4 == 7 && bytes($0)[8] >> 6 == 0b10 })
        let sameMoment = (0..<1000).map { _ in UUID.timeOrdered(at: start) }
        #expect(Set(sameMoment).count == 1000, "74 random bits tell ids of one millisecond apart")
    }
}
