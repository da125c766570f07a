import Foundation
import Testing
import TierdeskModels

/// Typed event data: what a writer puts in is what every reader gets out, ids in lowercase, and
/// another type's event (or data missing a field) is no payload rather than a silent null.
@Suite struct EventPayloadTests {
    @Test func aPayloadReadsBackAsItWasWrittenWithLowercaseIDs() throws {
        let vendor = UUID()
        let escalated = TicketEscalated(fromTier: 3, toTier: 4, reason: "firmware bug", vendorId: vendor, handOff: ["stepsTried": "reboot"])
        let data = escalated.data
        #expect(data["vendorId"]?.stringValue == vendor.uuidString.lowercased())
        #expect(data["toTier"]?.intValue == 4 && data["handOff"]?["stepsTried"]?.stringValue == "reboot")
        #expect(TicketEscalated(data: data) == escalated)
        let event = TicketEvent(id: UUID(), type: .ticketEscalated, at: Date(), actor: "agent:x", data: data)
        #expect(TicketEscalated(event) == escalated)
        #expect(TicketDeescalated(event) == nil, "another type's event is not this payload")
        #expect(TicketEscalated(data: ["toTier": 4]) == nil, "a required field missing is no payload")
        let update = VendorUpdated(caseId: UUID(), status: .needsInfo, message: "Which firmware?", eta: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(VendorUpdated(data: update.data) == update && update.data["eta"]?.stringValue == "2027-01-15T08:00:00Z")
        let pending = TicketPending(reason: .awaitingVendor, note: nil)
        #expect(pending.on == .vendor && pending.data["reason"]?.stringValue == "awaiting_vendor" && pending.data["note"] == nil)
    }

    /// The wire format stays what the trail has always held, so stored events and other readers (SQL,
    /// the requester's allow-list) read the typed payloads' data unchanged.
    @Test func theDataKeepsTheTrailsKeys() {
        let comment = TicketCommented(message: "Hello", audience: .agents).data
        #expect(comment == ["message": "Hello", "audience": "agents"])
        let closed = TicketClosed(rejected: true, reason: "not IT").data
        #expect(closed == ["rejected": true, "reason": "not IT"])
    }
}

/// The requester's allow-list drops values that name staff, never a message that merely reads so.
@Suite struct RequesterViewTests {
    @Test func anActorIsDroppedAndAMessageIsKept() {
        let event = TicketEvent(
            id: UUID(), type: .ticketCommented, at: Date(timeIntervalSince1970: 0), actor: "agent:abc",
            data: ["message": "admin rights restored; system: back", "from": "agent:0b5d"])
        let shown = RequesterView.event(event)
        #expect(shown?.data == ["message": "admin rights restored; system: back"] && shown?.actor == RequesterView.helpDesk)
    }
}
