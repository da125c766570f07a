import Configuration
import Foundation
import IntakeApp
import Synchronization
import Testing
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
    static let executables = [
        "intake": 8080, "triage": 8081, "tier-queue": 8082, "vendor-bridge": 8083, "console": 8084, "tierdesk": 0, "tierdesk-vendor-sim": 0,
    ]

    /// Executables that read none of the services' shared configuration (the database, the admin and internal tokens,
    /// the trusted proxies), with the reason. Every other one waits for the database and the migration.
    /// (None since the console keeps its sessions in `console_sessions`.)
    static let withoutDatabase: [String: String] = [:]

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
        _ = try MailSettings(reader: reader)
        // The logging bootstrap reads these two straight from the environment, before configuration.
        return recorder.keys.withLock { $0 }.union(["TIERDESK_LOG_LEVEL", "TIERDESK_LOG_FORMAT"])
    }

    /// The environment variables of keys the services' own code names (`"tierdesk.webhook.allowed.hosts"`
    /// in vendor-bridge, the vendor simulator's `"tierdesk.vendor.sim.*"`): read outside the shared
    /// configuration structs above, which cannot be run without the service.
    static func variablesNamedInServices() throws -> Set<String> {
        var names = Set<String>()
        for folder in ["Services", "Tests/VendorSim"] {
            let files = try #require(FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil))
            for case let file as URL in files where file.pathExtension == "swift" {
                for match in try String(contentsOf: file, encoding: .utf8).matches(of: /"(tierdesk(?:\.[a-z0-9]+)+)"/) {
                    names.insert(TierdeskConfiguration.environmentName(String(match.1)))
                }
            }
        }
        return names
    }

    /// Compose services that are not behind the gateway, with the reason: they take no client's requests.
    static let outsideTheGateway = ["vendor-sim": "the demo vendor: only vendor-bridge's webhooks reach it"]

    static func compose() throws -> [String: Any] {
        try #require(try Yams.load(yaml: text("docker-compose.yml")) as? [String: Any])
    }

    @Test func everyVariableComposeSetsIsReadByTheCode() throws {
        // `tierdesk migrate` sets the roles' passwords from these (DatabaseGrants.setPasswords).
        var read = try Self.variablesRead().union(try Self.variablesNamedInServices()).union(ServiceRole.allCases.map(\.passwordVariable))
        // Every secret is also read from a file (HelpTests.everySecretSettingAlsoReadsAFile holds each executable to it).
        read.formUnion(read.filter { $0.wholeMatch(of: /TIERDESK_.*(TOKEN|SECRET|PASSWORD)/) != nil }.map { $0 + "_FILE" })
        #expect(read.contains("TIERDESK_TIER2_QUEUE_URL") && read.contains("TIERDESK_TIERS"))
        #expect(read.contains("TIERDESK_WEBHOOK_ALLOWED_HOSTS") && read.contains("TIERDESK_VENDOR_SIM_SECRET"))
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
            guard Self.withoutDatabase[executable] != nil else {
                #expect(dependsOn["postgres"] != nil && dependsOn["migrate"] != nil, "\(name) waits for the database and the migration")
                continue
            }
            // No dependency it does not have: it waits, healthy, for every service whose URL it is given.
            #expect(dependsOn["postgres"] == nil && dependsOn["migrate"] == nil, "\(name) waits for no database it does not use")
            let peers = try Self.servicesCalled(with: environment)
            #expect(Set(peers).isSuperset(of: ["intake", "triage", "tier1-queue", "tier2-queue", "tier3-queue", "vendor-bridge"]))
            for peer in peers {
                let condition = (dependsOn[peer] as? [String: Any])?["condition"] as? String
                #expect(condition == "service_healthy", "\(name) calls \(peer), so it waits for it to be healthy")
            }
        }
        #expect(seen == Set(Self.executables.keys), "compose runs every executable")
        let queues = services.filter { ($0.value["command"] as? [String])?.first == "./tier-queue" }
        let tiers = queues.compactMap { ($0.value["environment"] as? [String: Any])?["TIERDESK_TIERS"].map { "\($0)" } }
        #expect(Set(tiers) == ["1", "2", "3"], "one tier-queue per level")
        #expect(services["postgres"]?["healthcheck"] != nil && services["gateway"] != nil)
    }

    /// The compose services the `TIERDESK_*_URL`s of an environment reach (by name or network alias).
    static func servicesCalled(with environment: [String: Any]) throws -> [String] {
        var called = Set<String>()
        for (key, value) in environment where key.hasPrefix("TIERDESK_") && key.hasSuffix("_URL") {
            let url = try #require(URL(string: "\(value)"), "\(key) is a URL")
            let host = try #require(url.host, "\(key) names a host")
            let answering = try GatewayRoutesTests.composeServices(answering: host)
            #expect(!answering.isEmpty, "\(key) points at \(host), which no compose service answers")
            called.formUnion(answering.keys)
        }
        return called.sorted()
    }

    @Test func imageHoldsEveryExecutableAndItsResources() throws {
        let dockerfile = try Self.text("deploy/Dockerfile")
        for executable in Self.executables.keys { #expect(dockerfile.contains(executable)) }
        #expect(dockerfile.contains(".resources") && dockerfile.contains("USER tierdesk") && dockerfile.contains("--static-swift-stdlib"))
    }

    @Test func gatewayRoutesOnlyToComposeServices() throws {
        let nginx = try Self.text("deploy/nginx.conf")
        let regex = /http:\/\/([a-z0-9-]+):(\d+)/
        let targets = nginx.matches(of: regex).map { (String($0.1), Int($0.2)!) }
        #expect(!targets.isEmpty)
        for (host, port) in targets {
            // A service's name or a network alias (every tier-queue instance answers as `tier-queue`).
            let answering = try GatewayRoutesTests.composeServices(answering: host)
            #expect(!answering.isEmpty, "the gateway proxies to \(host), which no compose service answers")
            #expect(Self.executables.values.contains(port))
        }
        // The gateway starts once every service it sends requests to answers.
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        let dependsOn = try #require(services["gateway"]?["depends_on"] as? [String: Any])
        for (host, _) in targets {
            for name in try GatewayRoutesTests.composeServices(answering: host).keys {
                let condition = (dependsOn[name] as? [String: Any])?["condition"] as? String
                #expect(condition == "service_healthy", "the gateway routes to \(name), so it waits for it to be healthy")
            }
        }
        #expect(nginx.contains("client_max_body_size 1m"))
        // Every public path prefix of intake reaches it through the gateway.
        for prefix in ["tickets", "kb", "self-service", "requesters", "inbound", "integrations"] {
            #expect(nginx.contains("|\(prefix)") || nginx.contains("(\(prefix)|"), "the gateway routes /v1/\(prefix)")
        }
    }

    /// The gateway holds each client address to one limit across all replicas (the services' limits are per
    /// replica) and answers over it with a problem document and Retry-After.
    @Test func gatewayLimitsEachClientAddress() throws {
        let nginx = try Self.text("deploy/nginx.conf")
        #expect(nginx.contains("limit_req_zone $binary_remote_addr"))
        #expect(nginx.contains("limit_req ") && nginx.contains("limit_req_status 429"))
        #expect(nginx.contains("error_page 429 @too_many_requests"))
        let lines = nginx.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let start = try #require(lines.firstIndex(of: "location @too_many_requests {"))
        let block = lines[start...].prefix { $0 != "}" }.joined(separator: "\n")
        #expect(block.contains("default_type application/problem+json"))
        #expect(block.contains("add_header Retry-After") && block.contains("return 429"))
    }

    /// The Docker secrets (`secrets:`) a compose service mounts.
    static func secrets(of service: [String: Any]) -> Set<String> {
        Set((service["secrets"] as? [Any] ?? []).compactMap { ($0 as? String) ?? ($0 as? [String: Any])?["source"] as? String })
    }

    /// Issue 29, item 3: every secret is a Docker secret, a file of its own passed by its `_FILE` variable; no
    /// secret rests in the environment (which `docker inspect` and /proc show), none has a default, and each file
    /// is one `deploy/make-secrets` makes.
    @Test func everySecretIsAMountedFileNeverAValue() throws {
        let compose = try Self.compose()
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let declared = try #require(compose["secrets"] as? [String: [String: Any]])
        let makeSecrets = try Self.text("deploy/make-secrets")
        for (name, secret) in declared {
            #expect("\(secret["file"] ?? "")" == "${TIERDESK_SECRETS_DIR:-./secrets}/\(name)", "\(name) is a file of the secrets folder")
            #expect(makeSecrets.contains(" \(name)") || makeSecrets.contains("(\(name)"), "deploy/make-secrets makes \(name)")
        }
        // A test double's credentials (the demo vendor's key and signing secret) are the only ones given as values.
        let valuesAllowed: Set<String> = ["TIERDESK_VENDOR_SIM_KEY", "TIERDESK_VENDOR_SIM_SECRET"]
        for (name, service) in services {
            let environment = service["environment"] as? [String: Any] ?? [:]
            let mounted = Self.secrets(of: service)
            #expect(mounted.isSubset(of: Set(declared.keys)), "\(name) mounts an undeclared secret")
            for (key, value) in environment where !valuesAllowed.contains(key) {
                #expect(key.wholeMatch(of: /.*(TOKEN|SECRET|PASSWORD)/) == nil, "\(name) sets the secret \(key) as a value, not as \(key)_FILE")
                guard key.hasSuffix("_FILE") else { continue }
                let path = "\(value)"
                #expect(
                    path.hasPrefix("/run/secrets/") && mounted.contains(String(path.dropFirst("/run/secrets/".count))),
                    "\(name)'s \(key) is no secret it mounts")
            }
            #expect(!"\(environment["TIERDESK_DATABASE_URL"] ?? "")".contains(":${"), "\(name)'s database URL holds no password")
        }
        #expect(!(try Self.text("docker-compose.yml")).contains(":-tierdesk}"), "no secret falls back to a default")
        let postgres = try #require(services["postgres"]?["environment"] as? [String: Any])
        #expect(postgres["POSTGRES_PASSWORD_FILE"] as? String == "/run/secrets/postgres_password" && postgres["POSTGRES_PASSWORD"] == nil)
    }

    /// Each secret reaches only the services that use it: the server secret the `tierdesk` command (run in the
    /// migrate container), intake, vendor-bridge and the tier-queues (local accounts' seal); the mail gateway's token intake alone; the SMTP password the
    /// services that send mail; the console's secret the console alone, which holds no other credential.
    @Test func secretsReachOnlyTheServicesThatUseThem() throws {
        let compose = try Self.compose()
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let shared = try #require(compose["x-tierdesk-env"] as? [String: Any])
        let own = ["TIERDESK_SECRET_FILE", "TIERDESK_MAIL_GATEWAY_TOKEN_FILE", "TIERDESK_CONSOLE_SECRET_FILE"]
        #expect(own.allSatisfy { shared[$0] == nil }, "the shared anchor holds none of \(own)")
        func holders(of secret: String) -> Set<String> { Set(services.filter { Self.secrets(of: $0.value).contains(secret) }.keys) }
        #expect(holders(of: "server_secret") == ["migrate", "intake", "vendor-bridge", "tier1-queue", "tier2-queue", "tier3-queue"])
        #expect(holders(of: "mail_gateway_token") == ["intake"])
        #expect(holders(of: "console_secret") == ["console"])
        // The bootstrap token opens only tier-queue's POST /v1/bootstrap.
        #expect(holders(of: "admin_token") == ["tier1-queue", "tier2-queue", "tier3-queue"])
        #expect(holders(of: "postgres_password") == ["postgres", "migrate"])
        // The SMTP password: the services that send mail (intake, the tier-queues), no other.
        #expect(holders(of: "smtp_password") == ["intake", "tier1-queue", "tier2-queue", "tier3-queue"])
        let withoutCredentials = services.filter { name, service in
            let executable = String(((service["command"] as? [String])?.first ?? "").dropFirst(2))
            return Self.outsideTheGateway[name] != nil || Self.withoutDatabase[executable] != nil
        }
        #expect(Set(withoutCredentials.keys) == ["vendor-sim"])
        // The console holds the database (its sessions) and its own secret, none of the services' credentials.
        #expect(Self.secrets(of: try #require(services["console"])) == ["console_database_password", "console_secret"])
        for (name, service) in withoutCredentials {
            let environment = try #require(service["environment"] as? [String: Any])
            let held = environment.keys.filter { $0 == "TIERDESK_DATABASE_URL" || $0.hasSuffix("_FILE") }
            #expect(held.isEmpty && Self.secrets(of: service).isEmpty, "\(name) holds no Tierdesk credential: \(held)")
        }
    }

    /// Issue 23, item 7: each service connects as its own PostgreSQL role, with its own password; only the
    /// migration job connects as the owner, and it alone holds every role's password (to set it).
    @Test func eachServiceConnectsAsItsOwnRole() throws {
        let compose = try Self.compose()
        let services = try #require(compose["services"] as? [String: [String: Any]])
        #expect((compose["x-tierdesk-env"] as? [String: Any])?["TIERDESK_DATABASE_URL"] == nil, "no database URL is shared")
        let migrate = try #require(services["migrate"]?["environment"] as? [String: Any])
        #expect("\(migrate["TIERDESK_DATABASE_URL"] ?? "")" == "postgres://tierdesk@postgres:5432/tierdesk")
        #expect("\(migrate["TIERDESK_DATABASE_PASSWORD_FILE"] ?? "")" == "/run/secrets/postgres_password")
        for (name, service) in services {
            let environment = service["environment"] as? [String: Any] ?? [:]
            guard name != "migrate", let url = environment["TIERDESK_DATABASE_URL"] as? String else { continue }
            let executable = String(((service["command"] as? [String])?.first ?? "").dropFirst(2))
            let role = try #require(ServiceRole(service: executable), "\(name) runs \(executable), which has no role")
            // TIERDESK_INTAKE_DATABASE_PASSWORD is the secret intake_database_password.
            let secret = role.passwordVariable.dropFirst("TIERDESK_".count).lowercased()
            #expect(url == "postgres://\(role.rawValue)@postgres:5432/tierdesk", "\(name) connects as \(role.rawValue): \(url)")
            #expect("\(environment["TIERDESK_DATABASE_PASSWORD_FILE"] ?? "")" == "/run/secrets/\(secret)")
            for other in ServiceRole.allCases where other != role {
                let otherSecret = other.passwordVariable.dropFirst("TIERDESK_".count).lowercased()
                #expect(!Self.secrets(of: service).contains(otherSecret), "\(name) holds \(otherSecret)")
            }
            #expect("\(migrate[role.passwordVariable + "_FILE"] ?? "")" == "/run/secrets/\(secret)", "migrate sets \(role.rawValue)'s password")
            #expect(Self.secrets(of: try #require(services["migrate"])).contains(secret))
        }
    }

    /// The example environment file holds no secret (they are files), and sets every variable compose refuses
    /// to start without.
    @Test func theExampleEnvironmentHoldsNoSecret() throws {
        let example = try Self.text("deploy/tierdesk.env.example").split(separator: "\n").filter { !$0.hasPrefix("#") }
        let names = example.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) }
        #expect(names.contains("TIERDESK_SECRETS_DIR") && names.contains("TIERDESK_PUBLIC_URL"))
        for name in names {
            #expect(name.wholeMatch(of: /.*(TOKEN|SECRET|PASSWORD)/) == nil, "deploy/tierdesk.env.example holds the secret \(name)")
        }
        let required = try Self.text("docker-compose.yml").matches(of: /\$\{([A-Z0-9_]+):\?/).map { String($0.1) }
        for name in required { #expect(names.contains(name), "deploy/tierdesk.env.example sets \(name)") }
    }

    /// Every container's log is rotated (Docker's json-file driver, a size and a count), so a busy service never
    /// fills the disk.
    @Test func everyContainersLogIsRotated() throws {
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        for (name, service) in services {
            let logging = service["logging"] as? [String: Any]
            let options = logging?["options"] as? [String: Any] ?? [:]
            #expect(logging?["driver"] as? String == "json-file" && options["max-size"] != nil && options["max-file"] != nil, "\(name) rotates its log")
        }
    }

    /// Debian 12's docker-compose is v1 (scripts/compose-test runs it): nothing only v2 reads.
    @Test func composeV1ReadsTheFile() throws {
        let compose = try Self.compose()
        #expect(compose["name"] == nil && compose["version"] == nil, "no top-level name: (v2 only) and no obsolete version:")
        for (name, secret) in try #require(compose["secrets"] as? [String: [String: Any]]) {
            #expect(secret.keys.sorted() == ["file"], "\(name): v1 mounts only file-based secrets")
        }
    }

    /// The Helm chart deploys this release (its appVersion) and its gateway runs deploy/nginx.conf unchanged.
    @Test func theHelmChartFollowsTheRelease() throws {
        let chart = try #require(try Yams.load(yaml: Self.text("deploy/helm/tierdesk/Chart.yaml")) as? [String: Any])
        #expect(chart["appVersion"] as? String == TierdeskVersion.current)
        #expect(
            try Self.text("deploy/helm/tierdesk/files/nginx.conf") == (try Self.text("deploy/nginx.conf")),
            "the chart's files/nginx.conf is a symbolic link to deploy/nginx.conf")
    }

    /// The services believe X-Forwarded-For from the gateway alone: its fixed address on the compose network,
    /// outside the range other containers are given addresses from.
    @Test func trustedProxyIsTheGatewaysFixedAddress() throws {
        let compose = try Self.compose()
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let attachments = try #require(services["gateway"]?["networks"] as? [String: Any])
        #expect(attachments.count == 1, "the gateway sits on the services' one network")
        let attachment = try #require(attachments.first)
        let address = try #require((attachment.value as? [String: Any])?["ipv4_address"] as? String)
        // The console calls the services for its visitors from its own fixed address, passing their addresses on.
        let consoleAttachments = try #require(services["console"]?["networks"] as? [String: Any])
        let consoleAddress = try #require((consoleAttachments.first?.value as? [String: Any])?["ipv4_address"] as? String)
        let shared = try #require(compose["x-tierdesk-env"] as? [String: Any])
        #expect(shared["TIERDESK_TRUSTED_PROXIES"] as? String == "\(address)/32,\(consoleAddress)/32")
        for (name, service) in services where service["command"] != nil && Self.outsideTheGateway[name] == nil {
            let environment = service["environment"] as? [String: Any] ?? [:]
            if name == "console" {
                #expect(environment["TIERDESK_TRUSTED_PROXIES"] as? String == "\(address)/32", "the console trusts the gateway alone")
            } else {
                #expect(
                    environment["TIERDESK_TRUSTED_PROXIES"] as? String == "\(address)/32,\(consoleAddress)/32",
                    "\(name) trusts the gateway and the console alone")
            }
        }
        let networks = try #require(compose["networks"] as? [String: Any])
        let ipam = try #require((networks[attachment.key] as? [String: Any])?["ipam"] as? [String: Any])
        let pool = try #require((ipam["config"] as? [[String: Any]])?.first)
        let subnet = try #require(pool["subnet"] as? String)
        #expect(Self.subnet(subnet, contains: address), "\(address) lies in \(subnet)")
        #expect(pool["gateway"] as? String != address)
        let range = try #require(pool["ip_range"] as? String)
        #expect(Self.subnet(subnet, contains: String(range.prefix { $0 != "/" })))
        #expect(!Self.subnet(range, contains: address), "no other container can be given the gateway's address first")
        #expect(Self.subnet(subnet, contains: consoleAddress) && !Self.subnet(range, contains: consoleAddress) && consoleAddress != address)
        #expect("\((services["console"]?["deploy"] as? [String: Any])?["replicas"] ?? "")" == "1", "one console: its address is fixed")
    }

    /// An IPv4 address as a 32-bit number; nil unless it is four decimal octets.
    static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// Whether the IPv4 `cidr` ("a.b.c.d/n") contains `address`; false when either is malformed.
    static func subnet(_ cidr: String, contains address: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let network = ipv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits),
            let host = ipv4(address)
        else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return host & mask == network & mask
    }

    @Test func ciRunsTheReadmeTestCommand() throws {
        let readme = try Self.text("README.md")
        #expect(readme.contains("./scripts/dev") && readme.contains("./scripts/test"))
        #expect(try Self.text(".ci/run").contains("./scripts/test"))
    }
}
