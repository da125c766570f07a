import Crypto
import Foundation
import Logging
import PostgresNIO

/// Versioned SQL migrations shipped in `Migrations/NNNN_name.sql`, applied in order, each in its
/// own transaction, recorded in `schema_migrations`. An advisory lock lets many migrators race.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
        public var checksum: String
    }

    public let migrations: [Migration]

    public init(migrations: [Migration] = Migrator.bundled) {
        self.migrations = migrations
    }

    /// The migrations shipped with this build, in version order.
    public static let bundled: [Migration] = {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        else { return [] }
        return files.filter { $0.pathExtension == "sql" }.compactMap { url -> Migration? in
            let file = url.deletingPathExtension().lastPathComponent
            guard let version = Int(file.prefix(while: \.isNumber)), let sql = try? String(contentsOf: url, encoding: .utf8) else { return nil }
            let checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
            return Migration(version: version, name: file, sql: sql, checksum: checksum)
        }.sorted { $0.version < $1.version }
    }()

    /// The newest version this build knows.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration not yet recorded; returns the names applied.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(7355608)", logger: logger)
            do {
                let applied = try await apply(on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(7355608)", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(7355608)", logger: logger)
                throw error
            }
        }
    }

    private func apply(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var recorded: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query("SELECT version, checksum FROM schema_migrations", logger: logger)
            .decode((Int, String).self)
        {
            recorded[version] = checksum
        }
        var applied: [String] = []
        for migration in migrations {
            if let checksum = recorded[migration.version] {
                if checksum != migration.checksum {
                    logger.warning("a shipped migration was edited", metadata: ["migration": "\(migration.name)"])
                }
                continue
            }
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError(migration: migration.name, underlying: String(reflecting: error))
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            applied.append(migration.name)
        }
        return applied
    }

    /// The highest applied version, 0 on an empty database.
    public func currentVersion(client: PostgresClient, logger: Logger) async throws -> Int {
        let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return 0 }
        let rows = try await client.query("SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger)
        for try await version in rows.decode(Int.self) { return version }
        return 0
    }
}

/// A migration that failed; nothing of it was applied.
public struct MigrationError: Error, CustomStringConvertible {
    public var migration: String
    public var underlying: String
    public var description: String { "migration \(migration) failed: \(underlying)" }
}
