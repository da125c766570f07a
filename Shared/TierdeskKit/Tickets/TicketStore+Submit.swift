import Foundation
import Logging
import PostgresNIO
import TierdeskModels

extension TicketStore {
    /// Stores a new ticket with its first event; `handOff` names the peers the event goes to.
    public func insert(
        _ draft: TicketDraft, event: EventDraft, handOff: [String] = [], on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> Ticket {
        var bindings = PostgresBindings()
        for column in TicketColumns.inserted { try column.bind(draft, now, &bindings) }
        let ticket = try await connection.first(PostgresQuery(unsafeSQL: Self.insertTicket, binds: bindings), logger: logger, Ticket.init(row:))
        guard let ticket else { throw TicketStoreError.notFound }
        try await record(event, ticketID: draft.id, handOff: handOff, on: connection, now: now, logger: logger)
        return ticket
    }

    /// What a submission needs to answer: the ticket opened (or the identical one opened before).
    public struct Opened: Sendable, Equatable {
        public var id: UUID
        public var reference: String
        public var status: TicketStatus
        /// An identical ticket of the same requester was opened since `duplicateSince`: this is it.
        public var duplicate: Bool

        init(row: PostgresRandomAccessRow) throws {
            id = try row.get("ticket_id")
            reference = Ticket.reference(number: try row.get("ticket_reference"))
            status = try row.get("ticket_status")
            duplicate = try row.get("duplicate")
        }
    }

    /// Whom a submission comes from: found by `normalizedEmail`, or created with these details (and
    /// the draft's `requesterID`); an existing requester is left exactly as it is.
    public struct Submitter: Sendable {
        public var email: String
        public var normalizedEmail: String
        public var name: String?
        public var phone: String?
        public var organization: String?

        public init(email: String, normalizedEmail: String, name: String?, phone: String?, organization: String?) {
            self.email = email
            self.normalizedEmail = normalizedEmail
            self.name = name
            self.phone = phone
            self.organization = organization
        }
    }

    /// A submission in one statement and one round trip, atomic without a transaction of the
    /// caller's (`submit_ticket`, migration 0014): the requester, then the ticket with its first
    /// (public) event and hand-offs (`insert_ticket`, migration 0006). With `duplicateSince`, a
    /// ticket of the same requester with the same channel, subject and description opened since
    /// then is answered instead; submissions of one requester are serialised so two identical ones
    /// never both open a ticket. The first event (`ticket.created`, the ticket's id) names `actor`,
    /// or the requester when nil (its id is known only inside the statement).
    public func submit(
        _ draft: TicketDraft, by submitter: Submitter, actor: String?, eventData: JSONValue, handOff: [String], duplicateSince: Date?,
        on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws -> Opened {
        let envelope = EventEnvelope(id: draft.id, type: .ticketCreated, ticketId: draft.id, occurredAt: now, data: eventData)
        let opened = try await executor.first(
            SubmitTicket(
                bindings: try PostgresBindings(
                    draft.requesterID, submitter.email, submitter.normalizedEmail, submitter.name, submitter.phone, submitter.organization, draft.id,
                    draft.status.rawValue, draft.tier.map { Int16($0.rawValue) }, Int16(Priority(impact: draft.impact, urgency: draft.urgency).rank),
                    draft.impact.rawValue, draft.urgency.rawValue, draft.category, draft.channel.rawValue, draft.subject, draft.description,
                    try JSONCoding.string(draft.metadata), try JSONCoding.string(draft.channelDetails), now, duplicateSince, draft.id,
                    EventType.ticketCreated.rawValue, actor, try JSONCoding.string(eventData), source, handOff.isEmpty ? "{}" : try JSONCoding.string(envelope),
                    handOff)), logger: logger, Opened.init(row:))
        guard let opened else { throw TicketStoreError.notFound }
        return opened
    }

    /// A new ticket with the columns of `TicketColumns.inserted`, read back as `Ticket.init(row:)` reads it.
    static let insertTicket = """
        WITH t AS (
            INSERT INTO tickets (\(TicketColumns.inserted.map(\.name).joined(separator: ", ")))
            VALUES (\(TicketColumns.inserted.enumerated().map { "$\($0 + 1)" + ($1.cast.map { "::\($0)" } ?? "") }.joined(separator: ", ")))
            RETURNING *)
        SELECT \(ticketColumns) FROM t JOIN requesters r ON r.id = t.requester_id
        """

    /// A submission: `submit_ticket` (migration 0014).
    struct SubmitTicket: HotStatement {
        static let sql = """
            SELECT ticket_id, ticket_reference, ticket_status, duplicate FROM submit_ticket(
                $1, $2, $3, $4::text, $5::text, $6::text, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18::jsonb, $19, $20, $21, $22,
                $23::text, $24::jsonb, $25, $26::jsonb, $27)
            """
        let bindings: PostgresBindings
    }
}
