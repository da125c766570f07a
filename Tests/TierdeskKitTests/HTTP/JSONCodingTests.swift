import Foundation
import Logging
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

    /// The hand-written reader and writer agree with Foundation's on dates from 1583 to 9999.
    @Test func datesAreWrittenAndReadAsFoundationDoes() {
        let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -12_212_553_600...253_402_300_799, using: &generator))
            let written = RFC3339.format(date)
            #expect(written == date.formatted(foundation), "\(date.timeIntervalSince1970)")
            let read = RFC3339.parse(written)
            #expect(read.map { abs($0.timeIntervalSince(date)) < 0.0011 } == true, "\(written)")  // truncated to the millisecond
        }
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        let julian = Date(timeIntervalSince1970: -30_000_000_000)  // 1019: Foundation's, both ways
        #expect(RFC3339.format(julian) == julian.formatted(foundation) && RFC3339.parse(RFC3339.format(julian)) == julian)
        #expect(RFC3339.parse("2026-11-30T07:19:33.25+01:00") == Date(timeIntervalSince1970: 1_796_019_573.25))
        #expect(RFC3339.parse("2026-11-30T01:49:33-04:30") == Date(timeIntervalSince1970: 1_796_019_573))
        #expect(RFC3339.parse("2026-11-30T06:19:33.123456789Z").map { abs($0.timeIntervalSince1970 - 1_796_019_573.123456789) < 1e-6 } == true)
        for bad in ["2026-11-30T06:19:33.Z", "2026-11-30T06:19:33.1234567890Z", "2026-11-30T06:19:33+15:00", "2026-11-30t06:19:33Z", "2026-11-30T06:19:33", ""]
        {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }
}

/// Ids are written lower case (RFC 9562) wherever they are written, and read in either case.
@Suite struct CanonicalIDTests {
    static let id = UUID(uuidString: "01A242AF-1C2D-7E3F-8A4B-5C6D7E8F9A0B")!

    struct Answer: Codable, Equatable {
        var id: UUID
        var assigneeId: UUID?
        var ids: [UUID]
        var note: String
    }

    @Test func bodiesSpellIDsInLowerCase() throws {
        let answer = Answer(id: Self.id, assigneeId: Self.id, ids: [Self.id], note: "ticket \(Self.id.uuidString) is \"01A242AF-1C2D-7E3F-8A4B-5C6D7E8F9A0B\"")
        let text = try JSONCoding.string(answer)
        #expect(text.contains(#""id":"01a242af-1c2d-7e3f-8a4b-5c6d7e8f9a0b""#))
        #expect(text.contains(#""assigneeId":"01a242af-1c2d-7e3f-8a4b-5c6d7e8f9a0b""#))
        #expect(text.contains(#""ids":["01a242af-1c2d-7e3f-8a4b-5c6d7e8f9a0b"]"#))
        // Free text keeps its case, even where it quotes an id.
        #expect(text.contains(#"ticket 01A242AF-1C2D-7E3F-8A4B-5C6D7E8F9A0B is \"01A242AF-1C2D-7E3F-8A4B-5C6D7E8F9A0B\""#))
        #expect(try JSONCoding.decoder.decode(Answer.self, from: Data(text.utf8)) == answer)
        let shouted = #"{"id":"01A242AF-1C2D-7E3F-8A4B-5C6D7E8F9A0B","ids":[],"note":""}"#
        #expect(try JSONCoding.decoder.decode(Answer.self, from: Data(shouted.utf8)).id == Self.id, "either case is read")
        #expect(try JSONCoding.string(["a": "ABCDEF"]) == #"{"a":"ABCDEF"}"#)
    }

    @Test func interpolatedIDsAreLowerCase() {
        #expect("/v1/tickets/\(Self.id)" == "/v1/tickets/01a242af-1c2d-7e3f-8a4b-5c6d7e8f9a0b")
        let metadata: Logger.Metadata = ["ticket.id": "\(Self.id)"]
        #expect(metadata["ticket.id"]?.description == "01a242af-1c2d-7e3f-8a4b-5c6d7e8f9a0b")
        let message: Logger.Message = "ticket \(Self.id) claimed"
        #expect(message.description == "ticket 01a242af-1c2d-7e3f-8a4b-5c6d7e8f9a0b claimed")
    }
}
