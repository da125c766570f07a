import Foundation
import Testing
import TierdeskModels

@Suite struct VendorContractTests {
    func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    var fridayAt4pm: Date { at("2026-11-27T16:00:00Z") }

    @Test func businessTargetsRunOnTheStandardHoursWhenNoCalendarIsGiven() throws {
        let contract = try JSONDecoder().decode(VendorContract.self, from: Data(#"{"acknowledgeWithinMinutes": 120, "resolveWithinMinutes": 600}"#.utf8))
        #expect(contract.time == .business)
        let due = contract.dueTimes(openedAt: fridayAt4pm)
        // One hour on Friday, then Monday from 09:00; ten hours run into Tuesday.
        #expect(due.acknowledge == at("2026-11-30T10:00:00Z"))
        #expect(due.resolve == at("2026-12-01T10:00:00Z"))
    }

    @Test func wallClockTargetsRunAroundTheClock() {
        let due = VendorContract(acknowledgeWithinMinutes: 120, time: .wall).dueTimes(openedAt: fridayAt4pm)
        #expect(due.acknowledge == fridayAt4pm.addingTimeInterval(7200) && due.resolve == nil)
    }
}
