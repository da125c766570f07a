import Foundation
import Logging
import PostgresNIO
import Testing
import TierdeskKit

/// Databases for tests: one migrated template per process (named by the migrations' checksums, so
/// a schema change makes a new one), cloned per test in milliseconds with `CREATE DATABASE … TEMPLATE`.
public enum TestDatabase {
    /// The database of the running test, set by `.freshDatabase`.
    @TaskLocal public static var current: DatabaseSettings?

    public static let logger: Logger = {
        var logger = Logger(label: "tierdesk-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TIERDESK_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// The server to create databases on: `TIERDESK_TEST_DATABASE_URL`, which the test command sets.
    public static func server() throws -> DatabaseSettings {
        guard let url = ProcessInfo.processInfo.environment["TIERDESK_TEST_DATABASE_URL"] else {
            throw TestSetupError("TIERDESK_TEST_DATABASE_URL is not set: run the tests with ./scripts/test")
        }
        return try DatabaseSettings(url: url)
    }

    /// The running test's database, or a failure naming the missing trait.
    public static func settings() throws -> DatabaseSettings {
        guard let current else { throw TestSetupError("this test needs the .freshDatabase trait") }
        return current
    }

    static func templateDatabaseName() throws -> String {
        let digest = try Migrator.bundled().map(\.checksum).joined() + DatabaseGrants.fingerprint + "admin-seed-1"
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in digest.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return "tierdesk_tpl_\(String(hash, radix: 16))"
    }

    private actor TemplateMaker {
        var made: Task<Void, any Error>?
        func ensure() async throws {
            if made == nil { made = Task { try await TestDatabase.makeTemplate() } }
            try await made!.value
        }
    }
    private static let maker = TemplateMaker()

    static func makeTemplate() async throws {
        let server = try server()
        let templateName = try templateDatabaseName()
        try await server.withClient(logger: logger) { client in
            let exists = try await client.first("SELECT 1 AS one FROM pg_database WHERE datname = \(templateName)", logger: logger) { _ in true }
            if exists == true { return }
            let building = "tierdesk_tplb_\(UUID().uuidString.lowercased().prefix(8))"
            try await client.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(building)"), logger: logger)
            try await server.with(database: building).withClient(logger: logger) { templateClient in
                try await Migrator().migrate(client: templateClient, logger: logger)
                try await seedAdministrator(templateClient)
            }
            do {
                try await client.execute(PostgresQuery(unsafeSQL: "ALTER DATABASE \(building) RENAME TO \(templateName)"), logger: logger)
            } catch {
                // Another process finished first; its template is as good as ours.
                try? await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(building)"), logger: logger)
            }
        }
    }

    /// "Test Administrator", whose personal token is `TestCredentials.adminToken`: tests act as a
    /// named administrator, as every administrative action names a person.
    static func seedAdministrator(_ client: PostgresClient) async throws {
        try await client.execute(
            """
            INSERT INTO agents (id, name, email, tiers, role, created_at)
            VALUES (\(TestCredentials.adminID), 'Test Administrator', 'test-admin@example.com', '{}', 'admin', now());
            """, logger: logger)
        try await client.execute(
            """
            INSERT INTO staff_tokens (id, person_id, kind, name, scope, token_hash, created_at)
            VALUES (gen_random_uuid(), \(TestCredentials.adminID), 'personal', 'tests', 'admin', \(Secrets.hash(TestCredentials.adminToken)), now())
            """, logger: logger)
    }

    /// A new database cloned from the migrated template.
    public static func create() async throws -> DatabaseSettings {
        try await maker.ensure()
        let server = try server()
        let templateName = try templateDatabaseName()
        let name = "tierdesk_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        try await server.withClient(logger: logger) { client in
            try await client.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(templateName)"), logger: logger)
        }
        return server.with(database: name)
    }

    /// A new database with nothing in it (not even the schema), for migrations and start-up checks.
    public static func createEmpty(_ prefix: String) async throws -> DatabaseSettings {
        let server = try server()
        let name = "tierdesk_\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try await server.withClient(logger: logger) { client in
            try await client.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return server.with(database: name)
    }

    /// Runs `body` with a new empty database (see `createEmpty`), dropped when `body` returns or throws.
    public static func withEmpty<T>(_ prefix: String, _ body: (DatabaseSettings) async throws -> T) async throws -> T {
        let database = try await createEmpty(prefix)
        let result: T
        do {
            result = try await body(database)
        } catch {
            await drop(database)
            throw error
        }
        await drop(database)
        return result
    }

    /// Removes a test's database, closing anything still connected.
    public static func drop(_ settings: DatabaseSettings) async {
        guard let server = try? server() else { return }
        _ = try? await server.withClient(logger: logger) { client in
            try await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(settings.database) WITH (FORCE)"), logger: logger)
        }
    }

    /// Runs `body` with a pool on the current test's database.
    public static func withClient(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        try await settings().withClient(poolSize: 8, logger: logger, body)
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Gives a test its own freshly migrated database (`TestDatabase.current`), dropped afterwards.
public struct FreshDatabaseTrait: TestTrait, TestScoping {
    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let database = try await TestDatabase.create()
        do {
            try await TestDatabase.$current.withValue(database) { try await function() }
        } catch {
            await TestDatabase.drop(database)
            throw error
        }
        await TestDatabase.drop(database)
    }
}

extension Trait where Self == FreshDatabaseTrait {
    /// A clean, migrated database for this test.
    public static var freshDatabase: Self { FreshDatabaseTrait() }
}
