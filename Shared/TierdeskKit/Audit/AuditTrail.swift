import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskModels

/// A kind of object the audit trail records: its type name in the trail, and the table rows that are
/// its state. `before` and `after` are those rows as JSON, never with a secret: columns whose name
/// says hash, secret, sealed, password or TOTP are always left out, and `columns` (when given) keeps
/// only the ones named, for rows that carry what the trail must not copy (a mail's body, an event's
/// payload, a trained model).
public struct AuditObject: Sendable {
    /// `object_type` in the trail (`triage_rule`).
    public let type: String
    /// The table whose rows are the object's state (a fixed name in code, never input).
    let table: String
    /// The condition on the table's rows (alias `t`) that picks the object; `{id}` stands for the id (text).
    let match: String
    /// The columns copied; nil: every column but the secret-named ones.
    let columns: [String]?

    public init(type: String, table: String, match: String = "t.id = {id}::uuid", columns: [String]? = nil) {
        self.type = type
        self.table = table
        self.match = match
        self.columns = columns
    }

    /// Column names never copied into the trail, whatever `columns` says.
    static let secretColumns = "hash|secret|sealed|password|totp|search_vector"

    /// The SQL whose one column `state` (jsonb) is the object's rows as they are, with `{id}` as the
    /// bind `parameter`: one row as an object, several as an array, none as NULL. `locking` takes
    /// the rows FOR UPDATE, so the state read before a change is the one the change replaces.
    func stateSQL(parameter: String, locking: Bool) -> String {
        let keep = columns.map { list in " AND e.key IN (" + list.map { "'\($0)'" }.joined(separator: ", ") + ")" } ?? ""
        let row = "(SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(to_jsonb(t)) AS e WHERE e.key !~ '\(Self.secretColumns)'\(keep))"
        let condition = match.replacingOccurrences(of: "{id}", with: parameter)
        return """
            SELECT CASE WHEN count(*) = 1 THEN (array_agg(r.state))[1] ELSE jsonb_agg(r.state ORDER BY r.state::text) END AS state
            FROM (SELECT \(row) AS state FROM \(table) t WHERE \(condition)\(locking ? " FOR UPDATE OF t" : "")) r
            """
    }
}

/// Who made a change and from where: the staff person behind the request's principal (nil for a
/// non-person actor: a vendor's key, an integration, the bootstrap token), a text naming the actor
/// either way, the request id the logs carry and the client's address.
public struct AuditActor: Sendable, Equatable {
    public var personID: UUID?
    public var actor: String
    public var requestID: String?
    public var clientAddress: String?

    public init(personID: UUID?, actor: String, requestID: String? = nil, clientAddress: String? = nil) {
        self.personID = personID
        self.actor = actor
        self.requestID = requestID
        self.clientAddress = clientAddress
    }

    /// The caller of the request `context` belongs to; 401 without one.
    public init(_ context: AppRequestContext) throws {
        let principal = try context.authenticated()
        self.init(
            personID: principal.personID, actor: Self.name(of: principal), requestID: context.logger[metadataKey: "hb.request.id"]?.description,
            clientAddress: context.clientAddress)
    }

    /// An operator at the `tierdesk` command (`tierdesk create-agent`): no person, no request.
    public static func commandLine(_ command: String) -> AuditActor {
        AuditActor(personID: nil, actor: "tierdesk \(command) (command line)")
    }

    /// The actor's name in the trail: `agent:<id>` and `admin:<id>` as in the ticket trail,
    /// `auditor:<id>`, `vendor:<id>`, `integration:<id>`, `bootstrap token`, ...
    static func name(of principal: Principal) -> String {
        switch principal {
        case .bootstrap: "bootstrap token"
        case .admin(let staff): "admin:\(staff.id.uuidString.lowercased())"
        case .auditor(let staff): "auditor:\(staff.id.uuidString.lowercased())"
        case .internal: "internal"
        case .agent(let agent): TicketStore.actor(agent)
        case .vendor(let id): "vendor:\(id.uuidString.lowercased())"
        case .requester(let ticketID): "requester of ticket:\(ticketID.uuidString.lowercased())"
        case .requesterAccount(let id): "requester:\(id.uuidString.lowercased())"
        case .integration(let integration): "integration:\(integration.id.uuidString.lowercased())"
        case .mailGateway: "mail gateway"
        }
    }
}

/// The writer of `audit_events` (migration 0026), the trail of every administrative change: one row
/// per change, appended on the change's own connection inside its transaction, so the row commits
/// with the change or not at all. A refused or failed change writes none.
///
/// The usual shape, in a transaction:
/// ```swift
/// try await AuditTrail.change("triage_rule.updated", .triageRule, id: "\(id)", by: actor, on: connection, now: now, logger: logger) {
///     try await store.save(input, id: id, on: connection, now: now, logger: logger)  // nil: no such rule, nothing recorded
/// }
/// ```
/// A creation records with no `before` (`record(…, before: nil)`), a deletion has no `after`.
public enum AuditTrail {
    /// The object's rows as they are now (no secrets), locked until the transaction ends, as JSON
    /// text for `record(before:)`; nil when there is none.
    public static func snapshot(_ object: AuditObject, id: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> String? {
        try await executor.first(
            PostgresQuery(
                unsafeSQL: "SELECT state::text AS state FROM (\(object.stateSQL(parameter: "$1", locking: true))) s", binds: try PostgresBindings(id)),
            logger: logger
        ) { try $0.get("state", as: String?.self) } ?? nil
    }

    /// Appends one row: `before` as `snapshot` read it before the change, `after` the object's rows
    /// as they are now (read by the same statement). A change that leaves neither is a mistake of
    /// the caller's and fails the transaction (the table's `audit_has_a_state`).
    public static func record(
        _ action: String, _ object: AuditObject, id: String, before: String?, by actor: AuditActor, on executor: some DatabaseExecutor, now: Date,
        logger: Logger
    ) async throws {
        let sql = """
            INSERT INTO audit_events (id, at, person_id, actor, action, object_type, object_id, before, after, request_id, client_address)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, (\(object.stateSQL(parameter: "$7", locking: false))), $9, $10)
            """
        try await executor.execute(
            PostgresQuery(
                unsafeSQL: sql,
                binds: try PostgresBindings(
                    UUID.timeOrdered(at: now), now, actor.personID, actor.actor, action, object.type, id, before, actor.requestID, actor.clientAddress)),
            logger: logger)
    }

    /// Runs `change` between a snapshot of the object and the row that records it, when `change`
    /// answers a value: nil means nothing changed (no such object), and nothing is recorded.
    public static func change<T>(
        _ action: String, _ object: AuditObject, id: String, by actor: AuditActor, on executor: some DatabaseExecutor, now: Date, logger: Logger,
        _ change: () async throws -> T?
    ) async throws -> T? {
        let before = try await snapshot(object, id: id, on: executor, logger: logger)
        guard let result = try await change() else { return nil }
        try await record(action, object, id: id, before: before, by: actor, on: executor, now: now, logger: logger)
        return result
    }

    /// `change` for a change that always happens (a setting written whether or not it existed).
    public static func set(
        _ action: String, _ object: AuditObject, id: String, by actor: AuditActor, on executor: some DatabaseExecutor, now: Date, logger: Logger,
        _ change: () async throws -> Void
    ) async throws {
        let before = try await snapshot(object, id: id, on: executor, logger: logger)
        try await change()
        try await record(action, object, id: id, before: before, by: actor, on: executor, now: now, logger: logger)
    }

    /// `change` for a change that answers whether it happened.
    public static func change(
        _ action: String, _ object: AuditObject, id: String, by actor: AuditActor, on executor: some DatabaseExecutor, now: Date, logger: Logger,
        _ change: () async throws -> Bool
    ) async throws -> Bool {
        try await self.change(action, object, id: id, by: actor, on: executor, now: now, logger: logger) { try await change() ? true : nil } ?? false
    }
}
