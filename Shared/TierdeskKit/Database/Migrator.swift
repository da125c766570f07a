import Crypto
import Foundation
import Logging
import PostgresNIO

/// Versioned SQL migrations shipped in `Migrations/NNNN_name.sql`, applied in order, each in its
/// own transaction, recorded in `schema_migrations`. An advisory lock lets many migrators race.
/// Shipped migrations are never edited: one whose recorded checksum differs stops `migrate` and
/// shows in `status`, and a missing or empty set of migrations makes every operation throw.
public struct Migrator: Sendable {
    /// One `NNNN_name.sql` file: its version, its name (the file name without `.sql`) and the SHA-256 of its SQL.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String
        public var checksum: String

        /// A migration whose checksum is computed from `sql`.
        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
            checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// The `pg_advisory_lock` key every migrator takes before reading or applying migrations. Services
    /// and `tierdesk migrate` may start together (docker compose, several replicas), so migrators race:
    /// the lock lets exactly one apply each migration while the others wait and then find nothing to do.
    /// It is a session lock (held across each migration's own transaction) on one connection. The number
    /// is arbitrary (in use since 2026-11-23, named in issue 12) and must not change: advisory keys are
    /// shared by everything using the database, and an old and a new migrator would then run at once.
    public static let advisoryLockKey: Int64 = 7_355_608

    /// The migrations, in version order (empty when they could not be loaded).
    public let migrations: [Migration]
    /// Why `migrations` cannot be used, if so: every database operation throws it rather than run
    /// (or report ready) without a schema.
    private let problem: MigrationError?

    /// The migrations shipped with this build. Never throws, so that building a service does not; a
    /// missing, unreadable or empty bundle is thrown by every operation instead (see `bundled()`).
    public init() {
        switch Self.loadedBundle {
        case .success(let migrations): self.init(migrations: migrations)
        case .failure(let error): self.init(migrations: [], problem: error)
        }
    }

    private init(migrations: [Migration], problem: MigrationError?) {
        self.migrations = migrations
        self.problem = problem
    }

    /// These migrations (tests use edited or partial sets); none, or two with one version, make
    /// every operation throw.
    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        problem = Self.problem(in: self.migrations)
    }

    /// The migrations shipped with this build, in version order; throws when the bundle is missing,
    /// unreadable, empty, or holds a file without a version number or two files with one version.
    public static func bundled() throws(MigrationError) -> [Migration] {
        try loadedBundle.get()
    }

    private static let loadedBundle: Result<[Migration], MigrationError> = {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            return .failure(.bundle("this build has no Migrations folder in its resources"))
        }
        return Result { () throws(MigrationError) in try load(from: folder) }
    }()

    /// The `NNNN_name.sql` files in `folder`, in version order, checked as `bundled()` is.
    public static func load(from folder: URL) throws(MigrationError) -> [Migration] {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        } catch {
            throw .bundle("cannot read the migrations folder \(folder.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for url in files where url.pathExtension == "sql" {
            let name = url.deletingPathExtension().lastPathComponent
            guard let version = Int(name.prefix(while: \.isNumber)) else {
                throw .bundle("migration file \(url.lastPathComponent) does not start with a version number")
            }
            let sql: String
            do {
                sql = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw .bundle("cannot read migration file \(url.lastPathComponent): \(error.localizedDescription)")
            }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        if let problem = problem(in: migrations) {
            throw problem.describingFolder(folder)
        }
        return migrations
    }

    private static func problem(in migrations: [Migration]) -> MigrationError? {
        guard !migrations.isEmpty else { return .bundle("there are no migrations") }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            return .bundle("migrations \(previous.name) and \(next.name) share version \(next.version)")
        }
        return nil
    }

    private func checkUsable() throws(MigrationError) {
        if let problem { throw problem }
    }

    /// The newest version this build knows.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration not yet recorded, in order, then the service roles' grants
    /// (`DatabaseGrants`, every time); returns the names applied. Throws
    /// `MigrationError.edited`, applying nothing, when a recorded migration's SQL has changed.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [String] {
        try checkUsable()
        return try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await apply(on: connection, logger: logger)
                // Every run, not only one that applied something: the grants follow this build's declaration.
                try await DatabaseGrants.apply(on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
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
        let status = MigrationStatus(migrations: migrations, recorded: try await recorded(on: connection, logger: logger))
        if !status.edited.isEmpty { throw MigrationError.edited(status.edited) }
        var applied: [String] = []
        for migration in migrations where status.pending.contains(migration.name) {
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
                throw MigrationError.failed(migration: migration.name, underlying: String(reflecting: error))
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            applied.append(migration.name)
        }
        return applied
    }

    /// What `migrate` would apply, in order, without applying or creating anything (`migrate --dry-run`).
    /// Throws `MigrationError.edited` as `migrate` would.
    public func plan(client: PostgresClient, logger: Logger) async throws -> [String] {
        let status = try await status(client: client, logger: logger)
        if !status.edited.isEmpty { throw MigrationError.edited(status.edited) }
        return status.pending
    }

    /// The database's migrations compared with this build's, read without the lock and without
    /// creating anything; services check it before serving (`/health/ready`).
    public func status(client: PostgresClient, logger: Logger) async throws -> MigrationStatus {
        try checkUsable()
        return MigrationStatus(migrations: migrations, recorded: try await recorded(on: client, logger: logger))
    }

    /// The highest applied version, 0 on an empty database.
    public func currentVersion(client: PostgresClient, logger: Logger) async throws -> Int {
        try await status(client: client, logger: logger).currentVersion
    }

    /// The rows of `schema_migrations` by version; none when the table does not exist yet.
    private func recorded(on executor: some DatabaseExecutor, logger: Logger) async throws -> [Int: MigrationStatus.Recorded] {
        let exists = try await executor.first("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", logger: logger) {
            try $0.get("present", as: Bool.self)
        }
        guard exists == true else { return [:] }
        let rows = try await executor.all("SELECT version, name, checksum FROM schema_migrations", logger: logger) {
            MigrationStatus.Recorded(version: try $0.get("version", as: Int.self), name: try $0.get("name"), checksum: try $0.get("checksum"))
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.version, $0) })
    }
}

/// The database's recorded migrations compared with a build's; the build is ready to serve only
/// when `problem` is nil (nothing pending, nothing edited).
public struct MigrationStatus: Sendable, Equatable {
    /// One row of `schema_migrations`.
    struct Recorded: Sendable {
        var version: Int
        var name: String
        var checksum: String
    }

    /// The highest version recorded in the database; 0 when it has none.
    public var currentVersion: Int
    /// The newest version the build ships.
    public var latestVersion: Int
    /// Shipped migrations not recorded yet, in order: what `migrate` would apply.
    public var pending: [String]
    /// Shipped migrations whose SQL differs from what was applied: the schema may not be what the code expects.
    public var edited: [String]
    /// Migrations recorded in the database that the build does not ship (a newer build migrated it):
    /// reported, not an error, so an older build keeps serving during a rolling deploy.
    public var unknown: [String]

    init(migrations: [Migrator.Migration], recorded: [Int: Recorded]) {
        currentVersion = recorded.keys.max() ?? 0
        latestVersion = migrations.last?.version ?? 0
        pending = migrations.filter { recorded[$0.version] == nil }.map(\.name)
        edited = migrations.filter { migration in recorded[migration.version].map { $0.checksum != migration.checksum } ?? false }.map(\.name)
        let shipped = Set(migrations.map(\.version))
        unknown = recorded.values.filter { !shipped.contains($0.version) }.sorted { $0.version < $1.version }.map(\.name)
    }

    /// Why the build should not serve on this database, as a message for a 503 and the logs; nil when ready.
    public var problem: String? {
        if !edited.isEmpty { return MigrationError.edited(edited).description }
        if !pending.isEmpty {
            return "the database schema is at version \(currentVersion); this build needs \(latestVersion) "
                + "(pending: \(pending.joined(separator: ", "))): run `tierdesk migrate`"
        }
        return nil
    }
}

/// Why migrations could not be checked or applied.
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    /// A migration failed; nothing of it was applied.
    case failed(migration: String, underlying: String)
    /// Shipped migrations were edited after they were applied; nothing was applied.
    case edited([String])
    /// The build's migrations cannot be used: missing, unreadable or empty.
    case bundle(String)

    public var description: String {
        switch self {
        case .failed(let migration, let underlying): "migration \(migration) failed: \(underlying)"
        case .edited(let names):
            "shipped migration\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")) "
                + "\(names.count == 1 ? "was" : "were") edited after being applied (checksum differs from schema_migrations): "
                + "restore the shipped file and put the change in a new migration"
        case .bundle(let problem): "cannot load this build's migrations: \(problem)"
        }
    }

    fileprivate func describingFolder(_ folder: URL) -> MigrationError {
        guard case .bundle(let problem) = self else { return self }
        return .bundle("\(problem) in \(folder.path)")
    }
}
