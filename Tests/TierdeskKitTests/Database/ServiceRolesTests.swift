import Foundation
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskTestSupport

/// Issue 23, item 7: each service connects as its own PostgreSQL role, granted only what it owns and
/// reads, so "the only writer of X" is enforced by PostgreSQL itself. (Every service test and the
/// end-to-end cluster connect as these roles: that the whole suite passes shows the grants are complete.)
@Suite struct ServiceRolesTests {
    /// Runs `sql` on the test's database as `role`; the SQLSTATE PostgreSQL answered, or nil when it succeeded.
    static func sqlState(as role: ServiceRole, _ sql: String) async throws -> String? {
        try await TestDatabase.settings().with(username: role.rawValue).withClient(poolSize: 1, logger: TestDatabase.logger) { client in
            do {
                try await client.execute(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
                return nil
            } catch let error as PSQLError {
                return error.serverInfo?[.sqlState] ?? "no sqlstate: \(String(reflecting: error))"
            }
        }
    }

    @Test(.freshDatabase) func aServiceThatWritesATableItDoesNotOwnGetsAPermissionError() async throws {
        let refused: [(ServiceRole, String)] = [
            // agents belong to tier-queue
            (
                .triage,
                "INSERT INTO agents (id, name, email, tiers, skills, wip_limit, created_at) VALUES (gen_random_uuid(), 'x', 'x@example.com', '{1}', '{}', 5, now())"
            ),
            (.intake, "UPDATE staff_tokens SET revoked_at = NULL"),
            (.intake, "UPDATE agents SET active = false"),
            // vendors belong to vendor-bridge, requesters to intake, triage rules to triage
            (.tierQueue, "UPDATE vendors SET name = name"),
            (.vendorBridge, "UPDATE requesters SET name = 'someone else'"),
            (.intake, "DELETE FROM triage_rules"),
            (.triage, "DELETE FROM webhook_deliveries"),
            (.vendorBridge, "INSERT INTO sla_policies (priority, first_response_seconds, resolution_seconds, business_hours) VALUES (1, 1, 2, false)"),
            // only intake creates tickets; the trail is appended, never changed; the console owns no ticket data
            (.triage, "INSERT INTO tickets (id) VALUES (gen_random_uuid())"),
            (.tierQueue, "UPDATE ticket_events SET actor = 'forged'"),
            (.vendorBridge, "DELETE FROM ticket_events"),
            (.console, "SELECT count(*) FROM tickets"),
        ]
        for (role, sql) in refused {
            #expect(try await Self.sqlState(as: role, sql) == "42501", "\(role.rawValue): \(sql)")
        }
    }

    @Test(.freshDatabase) func eachServiceWritesWhatItOwns() async throws {
        let allowed: [(ServiceRole, String)] = [
            (.tierQueue, "UPDATE agents SET active = active"),
            (.vendorBridge, "UPDATE vendors SET name = name"),
            (.intake, "UPDATE requesters SET name = name"),
            (.triage, "DELETE FROM triage_rules WHERE false"),
            (.triage, "SELECT count(*) FROM agents"),
            (.vendorBridge, "UPDATE tickets SET version = version WHERE false"),
        ]
        for (role, sql) in allowed {
            #expect(try await Self.sqlState(as: role, sql) == nil, "\(role.rawValue): \(sql)")
        }
    }

    /// Every table of the schema has its entry in `DatabaseGrants`: a migration's new table cannot go
    /// without one (no service could use it). Every entry names a table the migrations made, save the
    /// console's sessions (migration 0016, its own work).
    @Test(.freshDatabase) func everyTableHasAnEntryAndEveryEntryATable() async throws {
        try await TestDatabase.withClient { client in
            let tables = try await client.all(
                "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'", logger: TestDatabase.logger
            ) { try $0.get("name", as: String.self) }
            #expect(tables.count >= 30)
            let missing = Set(tables).subtracting(DatabaseGrants.tables.keys)
            #expect(missing.isEmpty, "tables without an entry in DatabaseGrants.tables: \(missing.sorted())")
            let unknown = Set(DatabaseGrants.tables.keys).subtracting(tables).subtracting(["console_sessions"])
            #expect(unknown.isEmpty, "DatabaseGrants names tables no migration made: \(unknown.sorted())")
        }
    }

    /// `migrate` applies the declaration every time: a privilege granted by hand is taken back, one
    /// revoked by hand comes back.
    @Test(.freshDatabase) func migrateReappliesTheGrants() async throws {
        try await TestDatabase.withClient { client in
            try await client.execute("GRANT INSERT ON agents TO tierdesk_triage", logger: TestDatabase.logger)
            try await client.execute("REVOKE UPDATE ON agents FROM tierdesk_tier_queue", logger: TestDatabase.logger)
            #expect(try await Self.sqlState(as: .triage, "DELETE FROM agents WHERE false") == "42501")
            #expect(try await Self.sqlState(as: .tierQueue, "UPDATE agents SET active = active") == "42501")
            #expect(try await Migrator().migrate(client: client, logger: TestDatabase.logger).isEmpty)
            let privileges = try await client.all(
                """
                SELECT grantee::text || ' ' || privilege_type::text AS grant FROM information_schema.role_table_grants
                WHERE table_name = 'agents' AND grantee::text LIKE 'tierdesk\\_%' ORDER BY 1
                """, logger: TestDatabase.logger
            ) { try $0.get("grant", as: String.self) }
            #expect(
                privileges == [
                    "tierdesk_intake SELECT", "tierdesk_tier_queue DELETE", "tierdesk_tier_queue INSERT", "tierdesk_tier_queue SELECT",
                    "tierdesk_tier_queue UPDATE", "tierdesk_triage SELECT", "tierdesk_vendor_bridge SELECT",
                ])
        }
    }

    @Test func rolesAreNamedAfterTheirServices() {
        #expect(ServiceRole(service: "tier-queue") == .tierQueue && ServiceRole(service: "vendor-bridge") == .vendorBridge)
        #expect(ServiceRole(service: "console") == .console && ServiceRole(service: "admin") == nil)
        #expect(ServiceRole.tierQueue.passwordVariable == "TIERDESK_TIER_QUEUE_DATABASE_PASSWORD")
    }
}
