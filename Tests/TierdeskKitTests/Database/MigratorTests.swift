import Foundation
import Testing
import TierdeskKit
import TierdeskTestSupport

@Suite struct MigratorTests {
    @Test func bundledMigrationsAreNumberedInOrder() {
        let versions = Migrator.bundled.map(\.version)
        #expect(!versions.isEmpty)
        #expect(versions == Array(1...versions.count))
    }

    @Test(.freshDatabase) func migrateIsIdempotentAndReportsVersion() async throws {
        try await TestDatabase.withClient { client throws in
            let migrator = Migrator()
            // The template is migrated already: nothing to apply, and the version is current.
            #expect(try await migrator.migrate(client: client, logger: TestDatabase.logger).isEmpty)
            #expect(try await migrator.currentVersion(client: client, logger: TestDatabase.logger) == migrator.latestVersion)
        }
    }

    @Test func migratesAnEmptyDatabaseFromNothing() async throws {
        let database = try await TestDatabase.createEmpty("empty")
        defer { Task { await TestDatabase.drop(database) } }
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
