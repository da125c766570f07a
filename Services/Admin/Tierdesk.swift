import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TierQueueApp
import TierdeskKit
import TierdeskModels
import VendorBridgeApp

@main
struct Tierdesk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tierdesk",
        abstract: "Tierdesk administration: schema migrations, demo data, agents and vendors; mail in from an MTA.",
        discussion: ConfigSetting.help(settings), version: TierdeskVersion.current,
        subcommands: [Migrate.self, SeedDemo.self, CreateAgent.self, CreateVendor.self, MailInCommand.self])

    /// What the subcommands read from the environment (`withDatabase`, `environmentSecret`,
    /// `SeedDemo`, `DatabaseGrants.setPasswords`).
    static let settings =
        TierdeskConfiguration.databaseSettings
        + ConfigSetting.secret("TIERDESK_SECRET", "server secret, at least 16 characters: seals vendors' signing secrets (create-vendor, seed-demo)")
        + [
            ConfigSetting(
                "TIERDESK_DEMO_VENDOR_WEBHOOK_URL", "where seed-demo points the demo vendor's webhooks (default https://vendor.example.com/tierdesk/webhooks)")
        ] + ServiceRole.allCases.flatMap { ConfigSetting.secret($0.passwordVariable, "migrate sets \($0.rawValue)'s password to it, when set") }
        + MailInSettings.settings.map { ConfigSetting($0.name, "mail-in: " + $0.help) }
}

/// The database and logger every subcommand uses, opened for the duration of `body`.
func withDatabase<T: Sendable>(_ body: @Sendable (PostgresClient, Logger) async throws -> T) async throws -> T {
    var logger = Logger(label: "tierdesk")
    logger.logLevel = .notice
    let url: String
    do {
        url = try TierdeskConfiguration.databaseURL(in: ProcessInfo.processInfo.environment)
    } catch {
        throw ValidationError(error.description)
    }
    let log = logger
    return try await DatabaseSettings(url: url).withClient(logger: log) { client in try await body(client, log) }
}

func environmentSecret() throws -> String {
    let secret: String?
    do {
        secret = try TierdeskConfiguration.secret("TIERDESK_SECRET", in: ProcessInfo.processInfo.environment)
    } catch {
        throw ValidationError(error.description)
    }
    guard let secret, secret.count >= 16 else {
        throw ValidationError("TIERDESK_SECRET (or TIERDESK_SECRET_FILE) is required (at least 16 characters)")
    }
    return secret
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the database to the schema of this build (safe to run again, and concurrently).",
        discussion: """
            Stops, applying nothing, when a migration this build ships was edited after being applied. Then grants each \
            service's role (tierdesk_intake, ...) what it owns and reads, and sets the password of each role whose \
            TIERDESK_<SERVICE>_DATABASE_PASSWORD is set.
            """)

    @Flag(help: "Only print the current and the latest schema version, and any pending, edited or unknown migrations.") var status = false
    @Flag(help: "Only list the migrations that would be applied; apply nothing.") var dryRun = false

    func validate() throws {
        if status && dryRun { throw ValidationError("--status and --dry-run do not combine") }
    }

    func run() async throws {
        let (status, dryRun) = (status, dryRun)
        try await withDatabase { client, logger in
            let migrator = Migrator()
            if status {
                let current = try await migrator.status(client: client, logger: logger)
                print("schema version \(current.currentVersion); this build needs \(current.latestVersion)")
                if !current.pending.isEmpty { print("pending \(current.pending.joined(separator: ", "))") }
                if !current.unknown.isEmpty { print("unknown to this build \(current.unknown.joined(separator: ", "))") }
                if !current.edited.isEmpty { throw MigrationError.edited(current.edited) }
                return
            }
            if dryRun {
                let pending = try await migrator.plan(client: client, logger: logger)
                print(
                    pending.isEmpty
                        ? "schema is current (version \(migrator.latestVersion)); nothing to apply" : "would apply \(pending.joined(separator: ", "))")
                return
            }
            let applied = try await migrator.migrate(client: client, logger: logger)
            print(applied.isEmpty ? "schema is current (version \(migrator.latestVersion))" : "applied \(applied.joined(separator: ", "))")
            // The services' roles get the passwords given as TIERDESK_<SERVICE>_DATABASE_PASSWORD (compose).
            let changed = try await client.withConnection { connection in
                try await DatabaseGrants.setPasswords(from: ProcessInfo.processInfo.environment, on: connection, logger: logger)
            }
            if !changed.isEmpty { print("set the password of \(changed.map(\.rawValue).joined(separator: ", "))") }
        }
    }
}

struct CreateAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a staff person (an agent unless --role says otherwise) and print their first token (shown once).")

    @Option var name: String
    @Option var email: String
    @Option(help: "Levels, e.g. 1,2 (none for an admin or auditor)") var tiers: String = ""
    @Option(help: "Skills, e.g. network,accounts") var skills: String = ""
    @Option var wipLimit: Int?
    @Option(help: "agent, lead, admin or auditor") var role: String = "agent"

    func run() async throws {
        guard let role = StaffRole(rawValue: role) else { throw ValidationError("--role must be agent, lead, admin or auditor") }
        let input = CreateAgentRequest(
            name: name, email: email, tiers: tiers.split(separator: ",").compactMap { Int($0) },
            skills: skills.split(separator: ",").map(String.init), wipLimit: wipLimit, role: role)
        try input.validate()
        let agent = try await withDatabase { client, logger in
            try await client.transaction(logger: logger) { connection in
                let now = SystemClock().now()
                let agent = try await AgentStore().create(input, on: connection, now: now, logger: logger)
                try await AuditTrail.record(
                    "agent.created", AuditObject(type: "agent", table: "agents"), id: "\(agent.id)", before: nil, by: .commandLine("create-agent"),
                    on: connection, now: now, logger: logger)
                return agent
            }
        }
        print("\(agent.role.rawValue) \(agent.id) \(agent.email)\ntoken \(agent.token ?? "")")
    }
}

struct CreateVendor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Register a vendor and print its API key and signing secret (shown once).")

    @Option var name: String
    @Option var webhookUrl: String
    @Option(help: "Categories, e.g. network,hardware") var categories: String = ""

    func run() async throws {
        let input = CreateVendorRequest(name: name, webhookUrl: webhookUrl, categories: categories.split(separator: ",").map(String.init))
        try input.validate()
        let store = VendorStore(sealingKey: SealingKey(purpose: KeyPurpose.sealing.name, secret: try environmentSecret()))
        let vendor = try await withDatabase { client, logger in
            try await client.transaction(logger: logger) { connection in
                let now = SystemClock().now()
                let vendor = try await store.create(input, on: connection, now: now, logger: logger)
                try await AuditTrail.record(
                    "vendor.created", AuditObject(type: "vendor", table: "vendors"), id: "\(vendor.id)", before: nil, by: .commandLine("create-vendor"),
                    on: connection, now: now, logger: logger)
                return vendor
            }
        }
        print("vendor \(vendor.id) \(vendor.name)\napiKey \(vendor.apiKey ?? "")\nsigningSecret \(vendor.signingSecret ?? "")")
    }
}
