import Foundation
import Testing
import TierdeskKit

@Suite struct JSONCodingTests {
    /// Foundation's ISO 8601 parser alone took trailing text, June 31 and hour 24 (found by the fuzzer).
    @Test func datesAreRFC3339AndReal() {
        #expect(JSONCoding.parseDate("2026-11-30T06:19:33Z") == Date(timeIntervalSince1970: 1_796_019_573))
        #expect(JSONCoding.parseDate("2026-11-30T06:19:33.250+01:00") != nil)
        #expect(JSONCoding.parseDate("2028-02-29T00:00:00Z") != nil)
        for bad in [
            "2026-06-31T06:19:33Z", "2026-06-30T06:19:33Z*", "2026-06-30T24:00:00Z", "2026-06-30T06:60:00Z", "2027-02-29T00:00:00Z",
            "2026-06-30T06:19:33GMT", "2026-13-01T00:00:00Z", "yesterday",
        ] {
            #expect(JSONCoding.parseDate(bad) == nil, "\(bad)")
        }
    }
}
