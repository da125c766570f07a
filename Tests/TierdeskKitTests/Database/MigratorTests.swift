import Foundation
import Testing
import TierdeskKit
import TierdeskTestSupport

@Suite struct MigratorTests {
    @Test func bundledMigrationsAreNumberedInOrder() throws {
        let versions = try Migrator.bundled().map(\.version)
        #expect(!versions.isEmpty)
        #expect(versions == Array(1...versions.count))
    }

    @Test(.freshDatabase) func migrateIsIdempotentAndReportsVersion() async throws {
        try await TestDatabase.withClient { client throws in
            let migrator = Migrator()
            // The template is migrated already: nothing to apply, and the version is current.
            #expect(try await migrator.migrate(client: client, logger: TestDatabase.logger).isEmpty)
            #expect(try await migrator.currentVersion(client: client, logger: TestDatabase.logger) == migrator.latestVersion)
            let status = try await migrator.status(client: client, logger: TestDatabase.logger)
            #expect(status.problem == nil && status.pending.isEmpty && status.edited.isEmpty && status.unknown.isEmpty)
        }
    }

    @Test func migratesAnEmptyDatabaseFromNothing() async throws {
        try await TestDatabase.withEmpty("empty") { database in
            try await database.withClient(logger: TestDatabase.logger) { client in
                let migrator = Migrator()
                #expect(try await migrator.currentVersion(client: client, logger: TestDatabase.logger) == 0)
                // Two migrators racing: the advisory lock lets exactly one apply each migration.
                async let first = migrator.migrate(client: client, logger: TestDatabase.logger)
                async let second = migrator.migrate(client: client, logger: TestDatabase.logger)
                let applied = try await first + second
                #expect(applied.count == migrator.migrations.count)
                #expect(try await migrator.currentVersion(client: client, logger: TestDatabase.logger) == migrator.latestVersion)
            }
        }
    }

    @Test(.freshDatabase) func anEditedMigrationStopsMigrateAndFailsTheStatus() async throws {
        var shipped = try Migrator.bundled()
        let first = shipped[0]
        shipped[0] = Migrator.Migration(version: first.version, name: first.name, sql: first.sql + "\n-- edited after shipping\n")
        let next = try #require(shipped.last).version + 1
        let probe = Migrator.Migration(version: next, name: "\(next)_probe", sql: "CREATE TABLE edited_probe (x integer)")
        let migrator = Migrator(migrations: shipped + [probe])
        try await TestDatabase.withClient { client in
            await #expect(throws: MigrationError.edited([first.name])) { try await migrator.migrate(client: client, logger: TestDatabase.logger) }
            await #expect(throws: MigrationError.edited([first.name])) { try await migrator.plan(client: client, logger: TestDatabase.logger) }
            let status = try await migrator.status(client: client, logger: TestDatabase.logger)
            #expect(status.edited == [first.name] && status.pending == [probe.name])
            #expect(status.problem?.contains(first.name) == true)
            // Nothing after the check ran: the pending migration waits for the edit to be undone.
            let absent = try await client.first("SELECT to_regclass('edited_probe') IS NULL AS absent", logger: TestDatabase.logger) {
                try $0.get("absent", as: Bool.self)
            }
            #expect(absent == true)
        }
    }

    @Test(.freshDatabase) func aMigrationFromANewerBuildIsReportedButNotAProblem() async throws {
        let shipped = try Migrator.bundled()
        let newest = try #require(shipped.last)
        let older = Migrator(migrations: Array(shipped.dropLast()))
        try await TestDatabase.withClient { client in
            let status = try await older.status(client: client, logger: TestDatabase.logger)
            #expect(status.unknown == [newest.name])
            #expect(status.problem == nil)
        }
    }

    @Test(.freshDatabase) func anEmptyOrUnreadableBundleIsAnError() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-migrations-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: MigrationError.bundle("there are no migrations in \(folder.path)")) { try Migrator.load(from: folder) }
        #expect(throws: MigrationError.self) { try Migrator.load(from: folder.appendingPathComponent("missing")) }
        try Data("SELECT 1".utf8).write(to: folder.appendingPathComponent("foundation.sql"))
        #expect(throws: MigrationError.self) { try Migrator.load(from: folder) }

        let empty = Migrator(migrations: [])
        try await TestDatabase.withClient { client in
            await #expect(throws: MigrationError.bundle("there are no migrations")) { try await empty.migrate(client: client, logger: TestDatabase.logger) }
            await #expect(throws: MigrationError.bundle("there are no migrations")) { try await empty.status(client: client, logger: TestDatabase.logger) }
        }
    }

    @Test func dryRunListsPendingMigrationsAndAppliesNothing() async throws {
        try await TestDatabase.withEmpty("dryrun") { database in
            try await database.withClient(logger: TestDatabase.logger) { client in
                let migrator = Migrator()
                #expect(try await migrator.plan(client: client, logger: TestDatabase.logger) == migrator.migrations.map(\.name))
                let tables = try await client.first(
                    "SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'public'", logger: TestDatabase.logger
                ) { try $0.get("tables", as: Int64.self) }
                #expect(tables == 0)  // not even schema_migrations
            }
        }
    }

    @Test func sqlScriptSplitsOnlyBetweenStatements() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'no; never';
            END;
            $$;
            SELECT 1
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 3)
        #expect(statements[0].hasPrefix("CREATE TABLE a"))
        #expect(statements[1].contains("END;\n$$"))
        #expect(statements[2] == "SELECT 1")
    }
}
