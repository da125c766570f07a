import Testing
import TierdeskModels

@Suite struct PriorityTests {
    @Test(arguments: [
        (Impact.high, Urgency.high, Priority.p1),
        (.high, .medium, .p2), (.medium, .high, .p2),
        (.high, .low, .p3), (.medium, .medium, .p3), (.low, .high, .p3),
        (.medium, .low, .p4), (.low, .medium, .p4),
        (.low, .low, .p5),
    ])
    func itilMatrix(impact: Impact, urgency: Urgency, expected: Priority) {
        #expect(Priority(impact: impact, urgency: urgency) == expected)
    }

    @Test func rankOrdersP1First() {
        #expect(Priority.allCases.map(\.rank) == [1, 2, 3, 4, 5])
        #expect(Priority.p1 < .p5)
        #expect(Priority(rank: 0) == nil && Priority(rank: 6) == nil)
    }

    @Test func tierListParsing() {
        #expect(Tier.parseList("1,2,3") == [.firstLine, .backOffice, .specialist])
        #expect(Tier.parseList(" 2 ") == [.backOffice])
        #expect(Tier.parseList("") == nil)
        #expect(Tier.parseList("1,x") == nil)
        #expect(Tier.parseList("7") == nil)
        #expect(Tier.specialist.next == .vendor && Tier.vendor.next == nil)
        #expect(Tier.parsePairs("0:2, 4:300", Double.init) == [.selfService: 2, .vendor: 300])
        #expect(Tier.parsePairs("", Double.init) == [:])
        #expect(Tier.parsePairs("5:1", Double.init) == nil && Tier.parsePairs("1:x", Double.init) == nil && Tier.parsePairs("1", Double.init) == nil)
    }
}
