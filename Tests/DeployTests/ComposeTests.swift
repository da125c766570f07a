import Configuration
import Foundation
import Synchronization
import Testing
import IntakeApp
import TierQueueApp
import TierdeskKit
import Yams

/// Records every configuration key the code looks up.
final class KeyRecorder: AccessReporter {
    let keys = Mutex<Set<String>>([])
    func report(_ event: AccessEvent) {
        let name = event.metadata.key.components.joined(separator: "_").uppercased()
        keys.withLock { _ = $0.insert(name) }
    }
}

/// docker-compose.yml, the Dockerfile and the gateway must stay true to the code.
@Suite struct ComposeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let executables = ["intake": 8080, "triage": 8081, "tier-queue": 8082, "vendor-bridge": 8083, "tierdesk": 0]

    static func text(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }

    /// The environment variables the services really read, found by running their configuration.
    static func variablesRead() throws -> Set<String> {
        let recorder = KeyRecorder()
        let environment = [
            "TIERDESK_DATABASE_URL": "postgres://u@h:5432/d", "TIERDESK_ADMIN_TOKEN": String(repeating: "a", count: 20),
            "TIERDESK_INTERNAL_TOKEN": String(repeating: "i", count: 20), "TIERDESK_SECRET": String(repeating: "s", count: 20),
        ]
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment), accessReporter: recorder)
        _ = try TierdeskConfiguration(reader: reader, serviceName: "intake", defaultPort: 8080)
        _ = try TierQueueConfiguration(reader: reader)
        _ = try IntakeConfiguration(reader: reader)
        // The logging bootstrap reads these two straight from the environment, before configuration.
        return recorder.keys.withLock { $0 }.union(["TIERDESK_LOG_LEVEL", "TIERDESK_LOG_FORMAT"])
    }

    static func compose() throws -> [String: Any] {
        try #require(try Yams.load(yaml: text("docker-compose.yml")) as? [String: Any])
    }

    @Test func everyVariableComposeSetsIsReadByTheCode() throws {
        let read = try Self.variablesRead()
        #expect(read.contains("TIERDESK_TIER2_QUEUE_URL") && read.contains("TIERDESK_TIERS"))
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        for (name, service) in services {
            let environment = service["environment"] as? [String: Any] ?? [:]
            for key in environment.keys where key.hasPrefix("TIERDESK_") {
                #expect(read.contains(key), "\(name) sets \(key), which no Tierdesk code reads")
            }
        }
        #expect(try Self.text("README.md").contains("TIERDESK_TIERS"))
    }

    @Test func everyCommandIsAnExecutableOfThePackageOnItsPort() throws {
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        let package = try Self.text("Package.swift")
        var seen = Set<String>()
        for (name, service) in services where service["command"] != nil {
            let command = try #require(service["command"] as? [String])
            let executable = String(try #require(command.first).dropFirst(2))
            #expect(Self.executables[executable] != nil, "\(name) runs \(executable), which the package does not build")
            #expect(package.contains(".executable(name: \"\(executable)\""))
            seen.insert(executable)
            guard let port = Self.executables[executable], port > 0 else { continue }
            let environment = try #require(service["environment"] as? [String: Any])
            #expect("\(environment["TIERDESK_PORT"] ?? "")" == "\(port)", "\(name) listens on its default port")
            let health = try #require((service["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(health.joined(separator: " ").contains("/dev/tcp/127.0.0.1/\(port)") && health.joined().contains("/health/ready"))
            let dependsOn = try #require(service["depends_on"] as? [String: Any])
            #expect(dependsOn["postgres"] != nil && dependsOn["migrate"] != nil, "\(name) waits for the database and the migration")
        }
        #expect(seen == Set(Self.executables.keys), "compose runs every executable")
        let queues = services.filter { ($0.value["command"] as? [String])?.first == "./tier-queue" }
        let tiers = queues.compactMap { ($0.value["environment"] as? [String: Any])?["TIERDESK_TIERS"].map { "\($0)" } }
        #expect(Set(tiers) == ["1", "2", "3"], "one tier-queue per level")
        #expect(services["postgres"]?["healthcheck"] != nil && services["gateway"] != nil)
    }

    @Test func imageHoldsEveryExecutableAndItsResources() throws {
        let dockerfile = try Self.text("deploy/Dockerfile")
        for executable in Self.executables.keys { #expect(dockerfile.contains(executable)) }
        #expect(dockerfile.contains(".resources") && dockerfile.contains("USER tierdesk") && dockerfile.contains("--static-swift-stdlib"))
    }

    @Test func gatewayRoutesOnlyToComposeServices() throws {
        let nginx = try Self.text("deploy/nginx.conf")
        let services = try #require(try Self.compose()["services"] as? [String: Any])
        let regex = /http:\/\/([a-z0-9-]+):(\d+)/
        let targets = nginx.matches(of: regex).map { (String($0.1), Int($0.2)!) }
        #expect(!targets.isEmpty)
        for (host, port) in targets {
            #expect(services[host] != nil, "the gateway proxies to \(host), which compose does not define")
            #expect(Self.executables.values.contains(port))
        }
        #expect(nginx.contains("client_max_body_size 1m"))
        // Every public path prefix of intake reaches it through the gateway.
        for prefix in ["tickets", "kb", "self-service", "requesters", "inbound"] {
            #expect(nginx.contains("|\(prefix)") || nginx.contains("(\(prefix)|"), "the gateway routes /v1/\(prefix)")
        }
    }

    @Test func ciRunsTheReadmeTestCommand() throws {
        let readme = try Self.text("README.md")
        #expect(readme.contains("./scripts/dev") && readme.contains("./scripts/test"))
        #expect(try Self.text(".ci/run").contains("./scripts/test"))
    }
}
