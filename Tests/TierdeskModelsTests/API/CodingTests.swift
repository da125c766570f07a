import Foundation
import Testing
import TierdeskModels

@Suite struct CodingTests {
    static let ticket = Ticket(
        id: UUID(), reference: "TD-1000", status: .queued, tier: .firstLine, priority: .p2, impact: .medium, urgency: .high, category: "network",
        channel: .web, subject: "s", description: "d", requester: Requester(id: UUID(), email: "a@b.co"), assigneeId: nil, requiredSkills: [],
        vendorId: nil, firstResponseDueAt: nil, resolutionDueAt: Date(timeIntervalSince1970: 1_800_000_000),
        createdAt: Date(timeIntervalSince1970: 1_700_000_000),
        updatedAt: Date(timeIntervalSince1970: 1_700_000_000), version: 3)

    @Test func ticketDetailIsFlatAndRoundTrips() throws {
        let detail = TicketDetail(
            ticket: Self.ticket,
            events: [TicketEvent(id: UUID(), type: .ticketQueued, at: Date(timeIntervalSince1970: 1_700_000_001), actor: "system", data: ["tier": 1])],
            requesterHistory: [], suggestedArticles: nil)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(detail)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["reference"] as? String == "TD-1000")
        #expect(object["status"] as? String == "queued")
        #expect(object["tier"] as? Int == 1)
        #expect(object["priority"] as? String == "P2")
        #expect((object["events"] as? [Any])?.count == 1)
        #expect(object["suggestedArticles"] == nil)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode(TicketDetail.self, from: data) == detail)
    }

    @Test func eventEnvelopeCarriesAnyJSON() throws {
        let envelope = EventEnvelope(
            type: .ticketEscalated, ticketId: UUID(), occurredAt: Date(timeIntervalSince1970: 0),
            data: ["toTier": 4, "reason": "x", "vendorId": nil, "nested": ["a": [true]]])
        let data = try JSONEncoder().encode(envelope)
        let decoded = try JSONDecoder().decode(EventEnvelope.self, from: data)
        #expect(decoded == envelope)
        #expect(decoded.data["toTier"]?.intValue == 4)
        #expect(String(decoding: data, as: UTF8.self).contains("\"type\":\"ticket.escalated\""))
    }

    @Test func pageWritesNullCursorOnTheLastPage() throws {
        let text = String(decoding: try JSONEncoder().encode(Page<Int>(items: [1], nextCursor: nil)), as: UTF8.self)
        #expect(text.contains("\"nextCursor\":null"))
    }
}
