import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskModels

/// One row of `mail_outbox` as the admin list shows it: what was sent to whom, and where it stands.
public struct OutgoingMailEntry: Sendable, Codable, Equatable {
    /// `queued` (waiting or being sent), `retrying` (an attempt failed; `lastError` says why),
    /// `sent`, or `dead` (refused for good, or out of attempts: only a resend sends it again).
    public enum Status: String, Sendable, Codable, CaseIterable {
        case queued, retrying, sent, dead
    }

    public var id: UUID
    /// The service whose replicas send it (`intake`, `tier-queue`).
    public var source: String
    public var kind: String
    public var ticketId: UUID?
    public var recipient: String
    public var subject: String
    public var messageId: String
    public var status: Status
    public var attempts: Int
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    public var deadAt: Date?
    public var createdAt: Date

    public init(
        id: UUID, source: String, kind: String, ticketId: UUID?, recipient: String, subject: String, messageId: String, status: Status, attempts: Int,
        lastError: String?, nextAttemptAt: Date?, sentAt: Date?, deadAt: Date?, createdAt: Date
    ) {
        self.id = id
        self.source = source
        self.kind = kind
        self.ticketId = ticketId
        self.recipient = recipient
        self.subject = subject
        self.messageId = messageId
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.sentAt = sentAt
        self.deadAt = deadAt
        self.createdAt = createdAt
    }
}

/// Every service's outgoing mail, for the admin: listed newest first, and sent again on request.
/// Intake serves it (its role owns `mail_outbox` like tier-queue's); a resent row keeps its source,
/// so the replicas of the service that wrote it send it.
public struct OutgoingMailStore: Sendable {
    public init() {}

    /// The status in SQL, as `OutgoingMailEntry.Status` defines it.
    static let status = """
        CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN dead_at IS NOT NULL THEN 'dead' WHEN last_error IS NOT NULL THEN 'retrying' ELSE 'queued' END
        """

    /// Mail newest first (creation time, then id), optionally of one status and one ticket, a page at a time after `cursor`.
    public func list(
        status: OutgoingMailEntry.Status?, ticketID: UUID?, limit: Int, after cursor: (Date, UUID)?, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> Page<OutgoingMailEntry> {
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, source, kind, ticket_id, recipient, subject, message_id, attempts, last_error, next_attempt_at, sent_at, dead_at,
                           created_at, \(Self.status) AS status
                    FROM mail_outbox
                    WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1, $2))
                      AND ($3::uuid IS NULL OR ticket_id = $3)
                      AND ($4::text IS NULL OR \(Self.status) = $4)
                    ORDER BY created_at DESC, id DESC LIMIT $5
                    """, binds: try PostgresBindings(cursor?.0, cursor?.1, ticketID, status?.rawValue, limit + 1)), logger: logger,
            OutgoingMailEntry.init(row:))
        return Page(fetched: rows, limit: limit) { Cursor.encode(at: $0.createdAt, id: $0.id) }
    }

    /// What a resend found.
    public enum ResendResult: Sendable, Equatable {
        case queued(OutgoingMailEntry)
        /// Still waiting to be sent (queued or retrying): nothing to do.
        case alreadyQueued
        /// It carried a one-time secret (`MailOutbox.oneTimeKinds`), removed once it left: never sent again.
        case oneTime
        case notFound
    }

    /// Queues a sent or dead mail again, as it was written (same Message-ID), due now with its attempts reset.
    public func resend(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> ResendResult {
        let updated = try await executor.first(
            """
            UPDATE mail_outbox SET sent_at = NULL, dead_at = NULL, last_error = NULL, attempts = 0, next_attempt_at = now()
            WHERE id = \(id) AND (sent_at IS NOT NULL OR dead_at IS NOT NULL) AND kind <> ALL(\(MailOutbox.oneTimeKinds))
            RETURNING id, source, kind, ticket_id, recipient, subject, message_id, attempts, last_error, next_attempt_at, sent_at, dead_at,
                      created_at, 'queued' AS status
            """, logger: logger, OutgoingMailEntry.init(row:))
        if let updated { return .queued(updated) }
        let kind = try await executor.first("SELECT kind FROM mail_outbox WHERE id = \(id)", logger: logger) { try $0.get("kind", as: String.self) }
        guard let kind else { return .notFound }
        return MailOutbox.oneTimeKinds.contains(kind) ? .oneTime : .alreadyQueued
    }
}

extension OutgoingMailEntry {
    init(row: PostgresRandomAccessRow) throws {
        let status = try row.get("status", as: String.self)
        let sentAt: Date? = try row.get("sent_at")
        let deadAt: Date? = try row.get("dead_at")
        let next: Date = try row.get("next_attempt_at")
        self.init(
            id: try row.get("id"), source: try row.get("source"), kind: try row.get("kind"), ticketId: try row.get("ticket_id"),
            recipient: try row.get("recipient"), subject: try row.get("subject"), messageId: try row.get("message_id"),
            status: Status(rawValue: status) ?? .queued, attempts: Int(try row.get("attempts", as: Int32.self)), lastError: try row.get("last_error"),
            nextAttemptAt: sentAt == nil && deadAt == nil ? next : nil, sentAt: sentAt, deadAt: deadAt, createdAt: try row.get("created_at"))
    }
}

/// `GET /v1/admin/mail` and `POST /v1/admin/mail/{id}/resend`: the administrator's view of outgoing mail.
public struct OutgoingMailController: Sendable {
    let store = OutgoingMailStore()
    let client: PostgresClient
    let clock: any WallClock
    /// A mail as the audit trail records a resend: where it went and how it fared, never its body
    /// (it may carry a link meant for the requester alone).
    static let mail = AuditObject(
        type: "mail", table: "mail_outbox",
        columns: ["id", "source", "kind", "ticket_id", "recipient", "subject", "message_id", "attempts", "last_error", "next_attempt_at", "sent_at", "dead_at"])

    public init(client: PostgresClient, clock: any WallClock) {
        self.client = client
        self.clock = clock
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/admin/mail") { request, context in
            try context.requireAdmin()
            let query = request.uri.queryParameters
            var v = Validation()
            var status: OutgoingMailEntry.Status?
            if let text = query["status"] {
                status = OutgoingMailEntry.Status(rawValue: String(text))
                if status == nil { v.fail("status", "must be one of queued, retrying, sent, dead") }
            }
            var ticketID: UUID?
            if let text = query["ticketId"] {
                ticketID = UUID(uuidString: String(text))
                if ticketID == nil { v.fail("ticketId", "must be a ticket id (a UUID)") }
            }
            try v.check()
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, Cursor.instantAndID)
            return JSONResponse(try await store.list(status: status, ticketID: ticketID, limit: limit, after: cursor, on: client, logger: context.logger))
        }
        router.post("v1/admin/mail/{id}/resend") { _, context in
            try context.requireAdmin()
            guard let id = context.parameters.get("id", as: UUID.self) else { throw Problem.notFound("mail") }
            let actor = try AuditActor(context)
            let result = try await client.transaction(logger: context.logger) { connection in
                let before = try await AuditTrail.snapshot(Self.mail, id: "\(id)", on: connection, logger: context.logger)
                let result = try await store.resend(id, on: connection, logger: context.logger)
                if case .queued = result {
                    try await AuditTrail.record(
                        "mail.resent", Self.mail, id: "\(id)", before: before, by: actor, on: connection, now: clock.now(), logger: context.logger)
                }
                return result
            }
            switch result {
            case .queued(let entry): return JSONResponse(entry, status: .accepted)
            case .alreadyQueued: throw Problem.conflict("this mail is still waiting to be sent; a resend would send it twice", type: "mail-already-queued")
            case .oneTime:
                throw Problem.conflict(
                    "this mail carried a one-time link, removed once it left; the requester asks for a new one", type: "mail-one-time")
            case .notFound: throw Problem.notFound("mail")
            }
        }
    }
}
