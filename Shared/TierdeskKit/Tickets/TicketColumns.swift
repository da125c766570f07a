import Foundation
import PostgresNIO
import TierdeskModels

/// The ticket's columns, written out once: what a read selects (`Ticket.init(row:)`,
/// `TicketSummary.init(row:)`), what a new ticket is inserted with and what a saved change writes.
/// The statements of the store are built from these lists; the functions of the migrations
/// (`submit_ticket`, `claim_next_ticket`) keep their own, as shipped migrations never change.
enum TicketColumns {
    /// What `Ticket.init(row:)` reads of the ticket row `t`.
    static let ticket = [
        "id", "reference_number", "status", "tier", "priority", "impact", "urgency", "category", "channel", "subject", "description", "assignee_id",
        "required_skills", "vendor_id", "first_response_due_at", "resolution_due_at", "created_at", "updated_at", "version",
        "metadata::text AS metadata", "channel_details::text AS channel_details",
    ]

    /// What `Ticket.init(row:)` reads of the requester row `r`, each as `r_<column>`.
    static let requester = ["id", "email", "name", "phone", "organization"]

    /// What a list shows of a ticket (`TicketSummary`): no requester, text or JSON columns to read,
    /// send and decode (a queue page of 50 decoded 100 JSON documents it then dropped).
    static let summary = ["id", "reference_number", "status", "tier", "priority", "category", "subject", "assignee_id", "resolution_due_at", "created_at"]

    /// The select list of a ticket row `t` joined with its requester `r`.
    static let ticketSelectList = (ticket.map { "t.\($0)" } + requester.map { "r.\($0) AS r_\($0)" }).joined(separator: ", ")

    /// The columns a new ticket is written with (`TicketStore.insert`), each with its value.
    static let inserted: [Inserted] = [
        Inserted("id") { draft, _ in draft.id },
        Inserted("status") { draft, _ in draft.status.rawValue },
        Inserted("tier") { draft, _ in draft.tier.map { Int16($0.rawValue) } },
        Inserted("priority") { draft, _ in Int16(Priority(impact: draft.impact, urgency: draft.urgency).rank) },
        Inserted("impact") { draft, _ in draft.impact.rawValue },
        Inserted("urgency") { draft, _ in draft.urgency.rawValue },
        Inserted("category") { draft, _ in draft.category },
        Inserted("channel") { draft, _ in draft.channel.rawValue },
        Inserted("subject") { draft, _ in draft.subject },
        Inserted("description") { draft, _ in draft.description },
        Inserted("requester_id") { draft, _ in draft.requesterID },
        Inserted("metadata", cast: "jsonb") { draft, _ in try JSONCoding.string(draft.metadata) },
        Inserted("channel_details", cast: "jsonb") { draft, _ in try JSONCoding.string(draft.channelDetails) },
        Inserted("created_at") { _, now in now },
        Inserted("updated_at") { _, now in now },
    ]

    /// The columns a saved change writes (`TicketStore.save`), each a field of the saved document.
    static let saved: [Saved] = [
        Saved("status", "text") { $0.status.rawValue },
        Saved("tier", "smallint") { $0.tier?.rawValue },
        Saved("priority", "smallint") { $0.priority.rank },
        Saved("impact", "text") { $0.impact.rawValue },
        Saved("urgency", "text") { $0.urgency.rawValue },
        Saved("category", "text") { $0.category },
        Saved("assignee_id", "uuid") { $0.assigneeId },
        Saved("required_skills", "text[]") { $0.requiredSkills },
        Saved("vendor_id", "uuid") { $0.vendorId },
        Saved(microseconds: "first_response_due_at") { $0.firstResponseDueAt },
        Saved(microseconds: "resolution_due_at") { $0.resolutionDueAt },
    ]

    /// A column of a new ticket and how the draft (and the time) gives its value.
    struct Inserted: Sendable {
        let name: String
        let cast: String?
        let value: @Sendable (TicketDraft, Date) throws -> (any PostgresEncodable)?

        init(_ name: String, cast: String? = nil, _ value: @escaping @Sendable (TicketDraft, Date) throws -> (any PostgresEncodable)?) {
            self.name = name
            self.cast = cast
            self.value = value
        }

        /// Appends the column's value for `draft` (NULL for none).
        func bind(_ draft: TicketDraft, _ now: Date, _ bindings: inout PostgresBindings) throws {
            if let value = try value(draft, now) { try bindings.append(value) } else { bindings.appendNull() }
        }
    }

    /// A column a change writes: its type in the saved document, the SQL that takes it from the
    /// document's row `u`, and how the changed ticket gives its value.
    struct Saved: Sendable {
        let name: String
        let type: String
        let assignment: String
        let value: @Sendable (Ticket) -> any Encodable

        init(_ name: String, _ type: String, _ value: @escaping @Sendable (Ticket) -> any Encodable) {
            self.name = name
            self.type = type
            assignment = "u.\(name)"
            self.value = value
        }

        /// A time, carried in microseconds since the epoch so it round-trips exactly.
        init(microseconds name: String, _ value: @escaping @Sendable (Ticket) -> Date?) {
            self.name = name
            type = "bigint"
            assignment = "timestamptz 'epoch' + u.\(name) * interval '1 microsecond'"
            self.value = { value($0)?.epochMicroseconds }
        }

        /// Writes the column's value for `ticket` into a saved row.
        func encode(_ ticket: Ticket, _ container: inout KeyedEncodingContainer<ColumnKey>) throws {
            try container.encode(value(ticket), forKey: ColumnKey(name))
        }
    }

    /// A column's name as a key of a JSON document.
    struct ColumnKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension TicketStore {
    /// The columns of a ticket row `t` joined with its requester `r`, as `Ticket.init(row:)` reads them.
    static let ticketColumns = TicketColumns.ticketSelectList

    static let selectTicket = "SELECT \(ticketColumns) FROM tickets t JOIN requesters r ON r.id = t.requester_id"

    /// The columns of `TicketSummary.init(row:)` of the ticket row `t`.
    static let selectSummary = "SELECT \(TicketColumns.summary.map { "t.\($0)" }.joined(separator: ", ")) FROM tickets t"
}
