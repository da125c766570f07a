import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TierdeskModels

/// What a read of the audit trail asks for: every filter optional, all of them together.
public struct AuditFilter: Sendable, Equatable {
    public var personID: UUID?
    public var objectType: String?
    public var objectID: String?
    public var action: String?
    /// From this instant on (inclusive).
    public var from: Date?
    /// Before this instant.
    public var to: Date?

    public init(personID: UUID? = nil, objectType: String? = nil, objectID: String? = nil, action: String? = nil, from: Date? = nil, to: Date? = nil) {
        self.personID = personID
        self.objectType = objectType
        self.objectID = objectID
        self.action = action
        self.from = from
        self.to = to
    }

    /// `?person=&objectType=&objectId=&action=&from=&to=`; 422 naming each field that is not one.
    public init(_ request: Request) throws {
        let query = request.uri.queryParameters
        var v = Validation()
        func text(_ name: String, maxLength: Int) -> String? {
            guard let value = query[name[...]].map(String.init) else { return nil }
            v.text(value, field: name, maxLength: maxLength)
            return value
        }
        func instant(_ name: String) -> Date? {
            guard let text = query[name[...]] else { return nil }
            guard let date = JSONCoding.parseDate(String(text)) else {
                v.fail(name, "must be an ISO 8601 instant such as 2026-11-01T00:00:00Z")
                return nil
            }
            return date
        }
        self.init(objectType: text("objectType", maxLength: 64), objectID: text("objectId", maxLength: 200), action: text("action", maxLength: 100))
        if let person = query["person"] {
            personID = UUID(uuidString: String(person))
            if personID == nil { v.fail("person", "must be a person's id (a UUID)") }
        }
        from = instant("from")
        to = instant("to")
        if let from, let to, from >= to { v.fail("from", "must be before to") }
        try v.check()
    }
}

/// The reader of `audit_events`: newest first, a page at a time (keyset on the instant and id).
public struct AuditStore: Sendable {
    public init() {}

    /// A page of the trail that `filter` selects, after `cursor` (`Cursor.instantAndID`).
    public func list(_ filter: AuditFilter, limit: Int, after cursor: (Date, UUID)?, on executor: some DatabaseExecutor, logger: Logger) async throws
        -> Page<AuditEvent>
    {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        func add(_ condition: String, _ values: (any PostgresEncodable & Sendable)...) throws {
            var text = condition
            for value in values {
                try bindings.append(value)
                text = text.replacingOccurrences(of: "$?", with: "$\(bindings.count)", options: [], range: text.range(of: "$?"))
            }
            conditions.append(text)
        }
        if let person = filter.personID { try add("person_id = $?", person) }
        if let type = filter.objectType { try add("object_type = $?", type) }
        if let id = filter.objectID { try add("object_id = $?", id) }
        if let action = filter.action { try add("action = $?", action) }
        if let from = filter.from { try add("at >= $?", from) }
        if let to = filter.to { try add("at < $?", to) }
        if let (at, id) = cursor { try add("(at, id) < ($?, $?)", at, id) }
        try bindings.append(limit + 1)
        let sql = """
            SELECT id, at, person_id, actor, action, object_type, object_id, before::text AS before, after::text AS after, request_id, client_address
            FROM audit_events \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY at DESC, id DESC LIMIT $\(bindings.count)
            """
        let rows = try await executor.all(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger, AuditEvent.init(row:))
        return Page(fetched: rows, limit: limit) { Cursor.encode(at: $0.at, id: $0.id) }
    }
}

extension AuditEvent {
    init(row: PostgresRandomAccessRow) throws {
        func json(_ column: String) throws -> JSONValue? {
            try row.get(column, as: String?.self).map { try JSONCoding.decoder.decode(JSONValue.self, from: Data($0.utf8)) }
        }
        self.init(
            id: try row.get("id"), at: try row.get("at"), personId: try row.get("person_id"), actor: try row.get("actor"), action: try row.get("action"),
            objectType: try row.get("object_type"), objectId: try row.get("object_id"), before: try json("before"), after: try json("after"),
            requestId: try row.get("request_id"), clientAddress: try row.get("client_address"))
    }
}

/// `GET /v1/audit`: the audit trail, for administrators and auditors (tier-queue serves it; every
/// service's rows are in the one table). Filters `AuditFilter`, pages `?limit=&cursor=`, newest first.
public struct AuditController: Sendable {
    let client: PostgresClient
    let store = AuditStore()

    public init(client: PostgresClient) { self.client = client }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/audit") { request, context in
            try context.requireAdminOrAuditor()
            let filter = try AuditFilter(request)
            let limit = try Pagination.limit(request)
            let cursor = try Pagination.cursor(request, Cursor.instantAndID)
            return JSONResponse(try await store.list(filter, limit: limit, after: cursor, on: client, logger: context.logger))
        }
    }
}
