import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL role each service connects as (migration 0017 creates them, with LOGIN and no
/// password: an operator or `tierdesk migrate` sets one). Each is granted only what its service's
/// code does (`DatabaseGrants`), so "the only writer of X" is a fact PostgreSQL enforces.
public enum ServiceRole: String, CaseIterable, Sendable {
    case intake = "tierdesk_intake"
    case triage = "tierdesk_triage"
    case tierQueue = "tierdesk_tier_queue"
    case vendorBridge = "tierdesk_vendor_bridge"
    case console = "tierdesk_console"

    /// The role of a service by its name (`intake`, `tier-queue`, `console`).
    public init?(service: String) {
        self.init(rawValue: "tierdesk_" + service.replacingOccurrences(of: "-", with: "_"))
    }

    /// The environment variable `tierdesk migrate` reads this role's password from, when set
    /// (`TIERDESK_INTAKE_DATABASE_PASSWORD`, ...).
    public var passwordVariable: String {
        "TIERDESK_" + rawValue.dropFirst("tierdesk_".count).uppercased() + "_DATABASE_PASSWORD"
    }

    /// The four services that share the ticket store and the hand-offs.
    public static let ticketServices: [ServiceRole] = [.intake, .triage, .tierQueue, .vendorBridge]
}

/// Table privileges a role may hold.
public struct TablePrivileges: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let select = TablePrivileges(rawValue: 1)
    public static let insert = TablePrivileges(rawValue: 2)
    public static let update = TablePrivileges(rawValue: 4)
    public static let delete = TablePrivileges(rawValue: 8)
    /// What the owner of a table may do with its rows.
    public static let owner: TablePrivileges = [.select, .insert, .update, .delete]

    /// The SQL words, in GRANT's order.
    var words: [String] {
        [(TablePrivileges.select, "SELECT"), (.insert, "INSERT"), (.update, "UPDATE"), (.delete, "DELETE")].compactMap {
            contains($0.0) ? $0.1 : nil
        }
    }
}

/// Who may do what with every table, in one place. `DESIGN.md`'s ownership: each table has one
/// writing service, except the ticket's record and the hand-offs, which every service writes through
/// the shared ticket store (`tickets`: only intake creates; `ticket_events`: appended, never
/// changed) and the shared idempotency store (intake and vendor-bridge). Reads across ownership are
/// the few `DESIGN.md` names: tickets, their events, requesters, agents, vendors, and the
/// collaborators of the ticket read rule. `migrate` re-applies all of it after every run (revoking
/// first, so a privilege taken out here is gone), and a test fails when a table has no entry: a new
/// table cannot be forgotten silently. Tables that do not exist yet (a later migration's) are skipped.
public enum DatabaseGrants {
    /// Table → role → privileges.
    public static let tables: [String: [ServiceRole: TablePrivileges]] = {
        var tables: [String: [ServiceRole: TablePrivileges]] = [:]
        func own(_ role: ServiceRole, _ names: String...) {
            for name in names { tables[name, default: [:]][role] = .owner }
        }
        func everyService(_ name: String, _ privileges: TablePrivileges) {
            for role in ServiceRole.ticketServices { tables[name, default: [:]][role, default: []].formUnion(privileges) }
        }
        // The ticket's record, through the shared ticket store.
        everyService("tickets", [.select, .update])
        tables["tickets", default: [:]][.intake, default: []].insert(.insert)
        everyService("ticket_events", [.select, .insert])
        // Hand-offs: each service writes, delivers, dead-letters and prunes its own; receives into its inbox.
        everyService("outbox", .owner)
        everyService("inbox", [.select, .insert, .delete])
        // Read across ownership (authentication, the agent view, the ticket read rule, readiness).
        for name in ["requesters", "agents", "staff_tokens", "vendors", "ticket_collaborators", "schema_migrations"] { everyService(name, .select) }

        own(
            .intake, "requesters", "kb_articles", "kb_lexicon", "kb_votes", "idempotency_keys", "email_messages", "integrations",
            "requester_token_generations", "requester_changes", "requester_sign_in_links", "requester_sessions", "satisfaction_answers",
            "requester_reminders")
        own(.triage, "triage_rules", "vip_entries", "category_defaults", "classifier_models", "triage_policy_version", "problems", "problem_incidents")
        own(
            .tierQueue, "agents", "staff_tokens", "sla_policies", "calendars", "sla_clocks", "escalation_contracts", "work_modes", "ticket_collaborators",
            "push_assignments")
        // Agents are told (migration 0020): tier-queue alone writes and reads them.
        own(.tierQueue, "notifications")
        // Local accounts' passwords and TOTP secrets, sealed (migration 0024): tier-queue alone checks them.
        own(.tierQueue, "staff_credentials")
        own(.vendorBridge, "vendors", "vendor_cases", "vendor_case_updates", "webhook_deliveries", "webhook_delivery_attempts")
        // vendor-bridge's idempotent POSTs keep their keys through the shared idempotency store (scoped "vendor-bridge ...").
        own(.vendorBridge, "idempotency_keys")
        // Mail out (migration 0018): intake sends requesters' mail, tier-queue agents'; each its own rows.
        for role in [ServiceRole.intake, .tierQueue] { tables["mail_outbox", default: [:]][role] = .owner }
        // Mail in (migration 0019): intake marks addresses that bounce; tier-queue shows agents the requester's.
        own(.intake, "mail_bounces")
        tables["mail_bounces", default: [:]][.tierQueue] = .select
        // The audit trail (migration 0026): every service appends the changes it makes, none changes or
        // removes a row; tier-queue serves `GET /v1/audit`, triage a rule's history. Versions of
        // articles are appended by intake's trigger, never changed.
        everyService("audit_events", [.insert])
        tables["audit_events", default: [:]][.tierQueue, default: []].insert(.select)
        tables["audit_events", default: [:]][.triage, default: []].insert(.select)
        tables["kb_article_versions", default: [:]][.intake] = [.select, .insert]
        // The console's server-side sessions (migration 0016).
        own(.console, "console_sessions")
        // Single sign-on under way at the provider (migration 0025).
        own(.console, "console_sign_ins")
        tables["schema_migrations", default: [:]][.console] = .select
        return tables
    }()

    /// Sequences behind a column default (`nextval`) → the roles that insert those rows. Identity
    /// columns need no grant: PostgreSQL draws their values without checking the sequence's privileges.
    public static let sequences: [String: [ServiceRole]] = ["ticket_reference_seq": [.intake]]

    /// The statements that bring the existing roles' privileges on the existing tables to what is
    /// declared here: everything revoked, then granted (run in one transaction).
    static func statements(roles: Set<String>, tables existing: Set<String>, sequences existingSequences: Set<String>) -> [String] {
        var statements: [String] = []
        let roles = ServiceRole.allCases.filter { roles.contains($0.rawValue) }
        guard !roles.isEmpty else { return [] }
        let names = roles.map { quote($0.rawValue) }.joined(separator: ", ")
        statements.append("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(names)")
        statements.append("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \(names)")
        for (table, grants) in tables.sorted(by: { $0.key < $1.key }) where existing.contains(table) {
            for (role, privileges) in grants.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where roles.contains(role) {
                statements.append("GRANT \(privileges.words.joined(separator: ", ")) ON TABLE \(quote(table)) TO \(quote(role.rawValue))")
            }
        }
        for (sequence, users) in sequences.sorted(by: { $0.key < $1.key }) where existingSequences.contains(sequence) {
            for role in users where roles.contains(role) {
                statements.append("GRANT USAGE ON SEQUENCE \(quote(sequence)) TO \(quote(role.rawValue))")
            }
        }
        return statements
    }

    /// A text that changes whenever the declaration does (tests name their template database by it).
    public static var fingerprint: String {
        statements(roles: Set(ServiceRole.allCases.map(\.rawValue)), tables: Set(tables.keys), sequences: Set(sequences.keys)).joined(separator: ";")
    }

    static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Applies the grants on `connection` in one transaction; returns the tables of the schema that
    /// have no entry here (logged as a warning: a migration added a table this build does not know).
    @discardableResult
    public static func apply(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        let names = ServiceRole.allCases.map(\.rawValue)
        let roles = try await connection.all("SELECT rolname::text AS rolname FROM pg_roles WHERE rolname::text = ANY(\(names))", logger: logger) {
            try $0.get("rolname", as: String.self)
        }
        let tables = try await connection.all("SELECT tablename::text AS tablename FROM pg_tables WHERE schemaname = 'public'", logger: logger) {
            try $0.get("tablename", as: String.self)
        }
        let sequences = try await connection.all("SELECT sequencename::text AS sequencename FROM pg_sequences WHERE schemaname = 'public'", logger: logger) {
            try $0.get("sequencename", as: String.self)
        }
        let statements = statements(roles: Set(roles), tables: Set(tables), sequences: Set(sequences))
        if !statements.isEmpty {
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
        let unknown = tables.filter { self.tables[$0] == nil }.sorted()
        if !unknown.isEmpty {
            logger.warning("tables without a grant entry (DatabaseGrants): no service role may use them", metadata: ["tables": "\(unknown)"])
        }
        return unknown
    }

    /// Sets the password of every service role whose variable (`ServiceRole.passwordVariable`, or its
    /// `_FILE` form) is set in `environment`; returns the roles changed. For a server that checks passwords (the
    /// compose file's PostgreSQL); a local trust-authenticated cluster needs none.
    public static func setPasswords(from environment: [String: String], on connection: PostgresConnection, logger: Logger) async throws
        -> [ServiceRole]
    {
        var changed: [ServiceRole] = []
        for role in ServiceRole.allCases {
            guard let password = try TierdeskConfiguration.secret(role.passwordVariable, in: environment) else { continue }
            guard !password.contains("\0") else { throw ConfigurationError(key: role.passwordVariable, problem: "must not contain NUL") }
            let literal = "'" + password.replacingOccurrences(of: "'", with: "''") + "'"
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER ROLE \(quote(role.rawValue)) PASSWORD \(literal)"), logger: logger)
            changed.append(role)
        }
        return changed
    }
}
