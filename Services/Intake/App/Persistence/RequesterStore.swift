import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `requesters`: one row per normalized email, details kept current.
public struct RequesterStore: Sendable {
    public init() {}

    /// Lowercased and trimmed: the identity of a requester.
    public static func normalize(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Finds or creates the requester of `input`; supplied details replace stored ones.
    public func upsert(_ input: RequesterInput, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> UUID {
        let email = input.email.trimmingCharacters(in: .whitespacesAndNewlines)
        let id = try await connection.first(
            """
            INSERT INTO requesters (id, email, email_normalized, name, phone, organization, created_at, updated_at)
            VALUES (\(UUID()), \(email), \(Self.normalize(email)), \(input.name), \(input.phone), \(input.organization), \(now), \(now))
            ON CONFLICT (email_normalized) DO UPDATE SET
                name = COALESCE(EXCLUDED.name, requesters.name), phone = COALESCE(EXCLUDED.phone, requesters.phone),
                organization = COALESCE(EXCLUDED.organization, requesters.organization), updated_at = EXCLUDED.updated_at
            RETURNING id
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) }
        guard let id else { throw Problem.conflict("the requester could not be stored") }
        return id
    }
}

extension RequesterStore {
    /// A requester by id, with no tickets filled in.
    public func find(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> RequesterProfile? {
        try await executor.first("SELECT id, email, name, phone, organization, created_at FROM requesters WHERE id = \(id)", logger: logger) { row in
            RequesterProfile(
                id: try row.get("id"), email: try row.get("email"), name: try row.get("name"), phone: try row.get("phone"),
                organization: try row.get("organization"), createdAt: try row.get("created_at"), tickets: [])
        }
    }
}
