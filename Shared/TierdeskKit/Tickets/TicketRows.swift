import Foundation
import PostgresNIO
import TierdeskModels

extension TicketEvent {
    /// A row of `ticket_events` with `data` as text.
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), type: try row.get("type", as: EventType.self), at: try row.get("at"), actor: try row.get("actor"),
            data: try JSONCoding.decoder.decode(JSONValue.self, from: Data(try row.get("data", as: String.self).utf8)),
            status: try row.get("status", as: String?.self).flatMap(TicketStatus.init(rawValue:)),
            tier: try row.get("tier", as: Int16?.self).flatMap { Tier(rawValue: Int($0)) })
    }
}

extension TicketSummary {
    /// A row of `TicketStore.selectSummary`.
    init(row: PostgresRandomAccessRow) throws {
        let priorityRank = Int(try row.get("priority", as: Int16.self))
        guard let priority = Priority(rank: priorityRank) else { throw CorruptRow(table: "tickets", detail: "priority rank \(priorityRank)") }
        self.init(
            id: try row.get("id"), reference: Ticket.reference(number: try row.get("reference_number")), status: try row.get("status"),
            tier: try row.get("tier", as: Int16?.self).flatMap { Tier(rawValue: Int($0)) }, priority: priority, category: try row.get("category"),
            subject: try row.get("subject"), assigneeId: try row.get("assignee_id"), resolutionDueAt: try row.get("resolution_due_at"),
            createdAt: try row.get("created_at"))
    }
}

extension Ticket {
    /// A row of `TicketStore.selectTicket`.
    init(row: PostgresRandomAccessRow) throws {
        let priorityRank = Int(try row.get("priority", as: Int16.self))
        guard let priority = Priority(rank: priorityRank) else { throw CorruptRow(table: "tickets", detail: "priority rank \(priorityRank)") }
        let tier = try row.get("tier", as: Int16?.self)
        self.init(
            id: try row.get("id"), reference: Ticket.reference(number: try row.get("reference_number")), status: try row.get("status"),
            tier: tier.flatMap { Tier(rawValue: Int($0)) }, priority: priority, impact: try row.get("impact"),
            urgency: try row.get("urgency"), category: try row.get("category"), channel: try row.get("channel"), subject: try row.get("subject"),
            description: try row.get("description"),
            requester: Requester(
                id: try row.get("r_id"), email: try row.get("r_email"), name: try row.get("r_name"), phone: try row.get("r_phone"),
                organization: try row.get("r_organization")),
            assigneeId: try row.get("assignee_id"), requiredSkills: try row.get("required_skills"), vendorId: try row.get("vendor_id"),
            firstResponseDueAt: try row.get("first_response_due_at"), resolutionDueAt: try row.get("resolution_due_at"),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"), version: Int(try row.get("version", as: Int32.self)),
            metadata: try Self.jsonObject(row.get("metadata", as: String.self)),
            channelDetails: try Self.jsonObject(row.get("channel_details", as: String.self)))
    }

    static func jsonObject(_ text: String) throws -> [String: JSONValue] {
        try JSONCoding.decoder.decode([String: JSONValue].self, from: Data(text.utf8))
    }
}
