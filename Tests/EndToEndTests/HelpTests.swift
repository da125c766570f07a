import Configuration
import ConsoleApp
import Foundation
import IntakeApp
import Synchronization
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskTestSupport
import TriageApp
import VendorBridgeApp

/// Each executable's `--help` lists exactly the settings it reads: a server's are found by building
/// its application on a recording configuration reader (its real start-up path), the admin
/// command's and the vendor simulator's by the reads in their sources.
@Suite struct HelpTests {
    @Test(arguments: ["intake", "triage", "tier-queue", "vendor-bridge", "console"])
    func serverHelpListsTheSettingsItReads(_ name: String) async throws {
        let read = try await Self.settingsRead(by: name)
        #expect(read.contains("TIERDESK_DATABASE_URL") && read.contains("TIERDESK_LOG_FORMAT"))
        let (status, output) = try ExecutableTests().run(name, ["--help"])
        #expect(status == 0)
        #expect(Self.listed(output) == read, "\(name) --help:\n\(output)")
    }

    @Test func adminHelpListsTheSettingsItReads() throws {
        // Secrets are read with their `_FILE` form: those the command names, the database's
        // (`TierdeskConfiguration.databaseURL(in:)`) and the roles' passwords (`DatabaseGrants.setPasswords`).
        let secrets = try Self.namesInSources("Services/Admin", /secret\("(TIERDESK_[A-Z0-9_]+)", in:/)
            .union(ServiceRole.allCases.map(\.passwordVariable)).union(["TIERDESK_DATABASE_URL", "TIERDESK_DATABASE_PASSWORD"])
        let read = try Self.namesInSources("Services/Admin", /environment\["(TIERDESK_[A-Z0-9_]+)"\]/)
            .union(secrets).union(secrets.map { $0 + "_FILE" }).union(try Self.settingsReadByMailIn())
        #expect(read.contains("TIERDESK_SECRET") && read.contains("TIERDESK_DEMO_VENDOR_WEBHOOK_URL"))
        let (status, output) = try ExecutableTests().run("tierdesk", ["--help"])
        #expect(status == 0 && output.contains("migrate"))
        #expect(Self.listed(output) == read, "tierdesk --help:\n\(output)")
    }

    @Test func vendorSimulatorHelpNamesEverySettingItReads() throws {
        let read = try Self.namesInSources("Tests/VendorSim", /"(tierdesk(?:\.[a-z0-9]+)+)"/).union(TierdeskLogging.settings.map(\.name))
        let (status, output) = try ExecutableTests().run("tierdesk-vendor-sim", ["--help"])
        #expect(status == 0)
        let named = Set(output.matches(of: /TIERDESK_[A-Z0-9_]+/).map { String($0.0) })
        #expect(named == read, "tierdesk-vendor-sim --help:\n\(output)")
    }

    /// Issue 29, item 3: every secret setting also reads a file (`_FILE`), as Docker and Kubernetes mount
    /// secrets, and `--help` says so.
    @Test(arguments: ["intake", "triage", "tier-queue", "vendor-bridge", "console", "tierdesk", "tierdesk-vendor-sim"])
    func everySecretSettingAlsoReadsAFile(_ name: String) throws {
        let (status, output) = try ExecutableTests().run(name, ["--help"])
        #expect(status == 0)
        let named = Set(output.matches(of: /TIERDESK_[A-Z0-9_]+/).map { String($0.0) })
        let secrets = named.filter { $0.wholeMatch(of: /TIERDESK_.*(TOKEN|SECRET|PASSWORD|_KEY)|TIERDESK_DATABASE_URL/) != nil }
        #expect(!secrets.isEmpty)
        for secret in secrets.sorted() { #expect(named.contains(secret + "_FILE"), "\(name) --help names \(secret) but not \(secret)_FILE") }
    }

    @Test(arguments: ["intake", "triage", "tier-queue", "vendor-bridge", "console", "tierdesk", "tierdesk-vendor-sim"])
    func answersVersion(_ name: String) throws {
        let (status, output) = try ExecutableTests().run(name, ["--version"])
        #expect(status == 0 && output.trimmingCharacters(in: .whitespacesAndNewlines) == TierdeskVersion.current)
    }

    /// The variables `tierdesk mail-in` reads (through a configuration reader), its token from a file.
    static func settingsReadByMailIn() throws -> Set<String> {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mail-in-token-\(UUID())")
        try Data(String(repeating: "t", count: 20).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }  // a leftover temporary file harms nothing
        let recorder = KeyRecorder()
        let environment = ["TIERDESK_MAIL_GATEWAY_TOKEN_FILE": file.path]
        _ = try MailInSettings(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment), accessReporter: recorder))
        let read = recorder.keys.withLock { $0 }
        #expect(read.contains("TIERDESK_MAIL_AUTHSERV_ID") && read.contains("TIERDESK_MAIL_GATEWAY_TOKEN"))
        return read
    }

    /// The variables a help text lists: each on a line of its own.
    static func listed(_ help: String) -> Set<String> {
        Set(help.split(separator: "\n").compactMap { $0.wholeMatch(of: /\s*(TIERDESK_[A-Z0-9_]+)\s*/).map { String($0.1) } })
    }

    /// The variables a server reads when its application is built with every required setting given.
    static func settingsRead(by name: String) async throws -> Set<String> {
        let recorder = KeyRecorder()
        let environment = [
            "TIERDESK_DATABASE_URL": "postgres://u@127.0.0.1:5432/d", "TIERDESK_ADMIN_TOKEN": String(repeating: "a", count: 20),
            "TIERDESK_INTERNAL_TOKEN": String(repeating: "i", count: 20), "TIERDESK_SECRET": String(repeating: "s", count: 20),
            "TIERDESK_CONSOLE_SECRET": String(repeating: "c", count: 20),
        ]
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment), accessReporter: recorder)
        switch name {
        case "intake": _ = try await IntakeApp.buildApplication(reader: reader)
        case "triage": _ = try await TriageApp.buildApplication(reader: reader)
        case "tier-queue": _ = try await TierQueueApp.buildApplication(reader: reader)
        case "vendor-bridge": _ = try await VendorBridgeApp.buildApplication(reader: reader)
        default:
            _ = try await ConsoleApp.buildApplication(reader: reader)
            // With single sign-on configured it reads its settings too (the client secret from a file).
            let secret = FileManager.default.temporaryDirectory.appendingPathComponent("oidc-secret-\(UUID())")
            try Data("client-secret\n".utf8).write(to: secret)
            defer { try? FileManager.default.removeItem(at: secret) }  // a leftover temporary file harms nothing
            let oidc = environment.merging([
                "TIERDESK_OIDC_ISSUER": "https://id.example.com", "TIERDESK_OIDC_CLIENT_ID": "tierdesk",
                "TIERDESK_OIDC_CLIENT_SECRET_FILE": secret.path, "TIERDESK_OIDC_GROUPS": "helpdesk-admins=admin",
            ]) { _, new in new }
            _ = try await ConsoleApp.buildApplication(
                reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: oidc), accessReporter: recorder))
        }
        // The logging bootstrap reads its two straight from the environment, before configuration.
        return recorder.keys.withLock { $0 }.union(TierdeskLogging.settings.map(\.name))
    }

    /// The variables named by `pattern`'s first capture (a variable or a dotted key) in the Swift files below `folder`.
    static func namesInSources(_ folder: String, _ pattern: Regex<(Substring, Substring)>) throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let files = try #require(FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil))
        var names = Set<String>()
        for case let file as URL in files where file.pathExtension == "swift" {
            for match in try String(contentsOf: file, encoding: .utf8).matches(of: pattern) {
                names.insert(TierdeskConfiguration.environmentName(String(match.1)))
            }
        }
        return names
    }
}

/// Records the environment variable of every key read through a `ConfigReader`.
final class KeyRecorder: AccessReporter {
    let keys = Mutex(Set<String>())

    func report(_ event: AccessEvent) {
        let name = TierdeskConfiguration.environmentName(event.metadata.key.components.joined(separator: "."))
        keys.withLock { _ = $0.insert(name) }
    }
}
