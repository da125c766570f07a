import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// Failures of the ticket store, each with its HTTP meaning.
public enum TicketStoreError: Error, ProblemConvertible, Equatable {
    case notFound
    case staleVersion(current: Int)
    case invalidTransition(from: TicketStatus, to: TicketStatus)
    /// The agent already holds as many tickets in progress as its WIP limit.
    case wipLimitReached(limit: Int)

    public var problem: Problem {
        switch self {
        case .notFound: .notFound("ticket")
        case .staleVersion(let current):
            .conflict("the ticket changed since you read it (now version \(current)); read it again", type: "stale-version")
        case .invalidTransition(let from, let to):
            .conflict("a ticket that is \(from.rawValue) cannot become \(to.rawValue)", type: "invalid-transition")
        case .wipLimitReached(let limit):
            .conflict("you hold \(limit) tickets in progress, your WIP limit; finish one before claiming another", type: "wip-limit-reached")
        }
    }
}

/// The only writer of `tickets` and `ticket_events`. Every change is a lifecycle transition checked
/// by `TicketStatus`, guarded by the row's `version`, and recorded in `ticket_events` (and, for
/// hand-offs, the outbox) in the caller's transaction.
///
/// One file per job: `TicketStore+Submit` (new tickets), `TicketStore+Save` (checked changes and
/// events), `TicketStore+Claims`, `TicketStore+Reads` (queues, worklists, summaries, trails),
/// `ReadRule` (what an agent may read), `TicketStore+Import` (tickets worked elsewhere);
/// `TicketColumns` lists the columns they read and write, `TicketRows` turns rows into models.
public struct TicketStore: Sendable {
    /// The service writing; outbox rows carry it so its own dispatcher delivers them.
    public let source: String

    public init(source: String) { self.source = source }

    /// A ticket by id, or nil.
    public func find(_ id: UUID, forUpdate: Bool = false, on executor: some DatabaseExecutor, logger: Logger) async throws -> Ticket? {
        let lock = forUpdate ? " FOR UPDATE OF t" : ""
        return try await executor.first(
            PostgresQuery(unsafeSQL: Self.selectTicket + " WHERE t.id = $1" + lock, binds: try PostgresBindings(id)), logger: logger, Ticket.init(row:))
    }
}

/// A batch that changes one ticket twice: a bug of the caller (the second change would be lost).
struct SameTicketTwice: Error {}

/// A row that breaks what the schema promises: a bug or a hand edit, answered as a logged 500.
public struct CorruptRow: Error, CustomStringConvertible {
    public var table: String
    public var detail: String
    public var description: String { "corrupt row in \(table): \(detail)" }

    public init(table: String, detail: String) {
        self.table = table
        self.detail = detail
    }
}
