import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `requesters` and `requester_changes`: one row per normalized email. What an
/// unauthenticated submission says about a person never changes their stored profile (it is kept on
/// the ticket instead); only agents and the admin edit a profile, and every edit is recorded.
public struct RequesterStore: Sendable {
    public init() {}

    /// Lowercased and trimmed: the identity of a requester.
    public static func normalize(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Every submission's first statement, prepared once per connection.
    struct FindOrCreate: HotStatement {
        static let sql = """
            WITH created AS (
                INSERT INTO requesters (id, email, email_normalized, name, phone, organization, created_at, updated_at)
                VALUES ($1, $2, $3, $4::text, $5::text, $6::text, $7, $7)
                ON CONFLICT (email_normalized) DO NOTHING RETURNING id)
            SELECT id FROM created UNION ALL SELECT id FROM requesters WHERE email_normalized = $3 LIMIT 1
            """
        let bindings: PostgresBindings
    }

    /// The requester with this email, created from `input` when there is none; an existing one is
    /// left exactly as it is.
    public func findOrCreate(_ input: RequesterInput, on connection: some DatabaseExecutor, now: Date, logger: Logger) async throws -> UUID {
        let email = input.email.trimmingCharacters(in: .whitespacesAndNewlines)
        let normalized = Self.normalize(email)
        let id = try await connection.first(
            FindOrCreate(bindings: try PostgresBindings(UUID(), email, normalized, input.name, input.phone, input.organization, now)), logger: logger
        ) { try $0.get("id", as: UUID.self) }
        if let id { return id }
        // Created by a concurrent transaction that committed after this statement's snapshot.
        guard
            let id = try await connection.first(
                "SELECT id FROM requesters WHERE email_normalized = \(normalized)", logger: logger, { try $0.get("id", as: UUID.self) })
        else {
            throw IntakeError.concurrentChange("the requester could not be stored; retry")
        }
        return id
    }

    /// Applies an agent's or the admin's edit and records it (who, when, before, after); nil when
    /// there is no such requester. An empty string clears a field.
    public func update(
        _ id: UUID, with change: UpdateRequesterRequest, actor: String, on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> RequesterProfile? {
        guard let before = try await find(id, forUpdate: true, on: connection, logger: logger) else { return nil }
        var after = before
        after.name = change.name.patched(over: before.name)
        after.phone = change.phone.patched(over: before.phone)
        after.organization = change.organization.patched(over: before.organization)
        let fields = { (p: RequesterProfile) -> JSONValue in
            ["name": .optional(p.name), "phone": .optional(p.phone), "organization": .optional(p.organization)]
        }
        try await connection.execute(
            """
            WITH changed AS (
                UPDATE requesters SET name = \(after.name), phone = \(after.phone), organization = \(after.organization), updated_at = \(now)
                WHERE id = \(id))
            INSERT INTO requester_changes (id, requester_id, actor, before, after, at)
            VALUES (\(UUID()), \(id), \(actor), \(try JSONCoding.string(fields(before)))::jsonb, \(try JSONCoding.string(fields(after)))::jsonb, \(now))
            """, logger: logger)
        return after
    }
}

extension RequesterStore {
    /// A requester by id, with no tickets filled in.
    public func find(_ id: UUID, forUpdate: Bool = false, on executor: some DatabaseExecutor, logger: Logger) async throws -> RequesterProfile? {
        let query: PostgresQuery =
            forUpdate
            ? "SELECT id, email, name, phone, organization, created_at FROM requesters WHERE id = \(id) FOR UPDATE"
            : "SELECT id, email, name, phone, organization, created_at FROM requesters WHERE id = \(id)"
        return try await executor.first(query, logger: logger) { row in
            RequesterProfile(
                id: try row.get("id"), email: try row.get("email"), name: try row.get("name"), phone: try row.get("phone"),
                organization: try row.get("organization"), createdAt: try row.get("created_at"), tickets: [])
        }
    }
}
