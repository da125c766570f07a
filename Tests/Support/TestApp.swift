import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TierdeskKit
import TierdeskModels

/// Credentials and settings every test service uses.
public enum TestCredentials {
    /// The personal token of "Test Administrator" (`adminID`), seeded in every test database.
    public static let adminToken = "tda_test-administrator-token-0123456789abcdefgh"
    public static let adminID = UUID(uuidString: "ad000000-0000-4000-8000-000000000001")!
    /// The services' `TIERDESK_ADMIN_TOKEN`: it only creates the first administrator.
    public static let bootstrapToken = "test-bootstrap-token-0123456789abcdef"
    public static let internalToken = "test-internal-token-0123456789abcdef"
    public static let secret = "test-server-secret-0123456789abcdef"
    public static let mailGatewayToken = "test-mail-gateway-token-0123456789abcdef"
    /// The sealing key vendor-bridge derives from `secret`.
    public static let sealingKey = SealingKey(purpose: KeyPurpose.sealing.name, secret: secret)

    /// The environment of a service on `database`, connecting as `role` (the owner, as `tierdesk
    /// migrate` does, when nil). Peers point at a closed port unless overridden, so an in-process
    /// service's hand-offs wait in its outbox instead of reaching anything.
    public static func environment(database: DatabaseSettings, as role: ServiceRole? = nil, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "TIERDESK_DATABASE_URL": (role.map { database.with(username: $0.rawValue) } ?? database).url,
            "TIERDESK_ADMIN_TOKEN": bootstrapToken,
            "TIERDESK_INTERNAL_TOKEN": internalToken,
            "TIERDESK_SECRET": secret,
            "TIERDESK_MAIL_GATEWAY_TOKEN": mailGatewayToken,
            "TIERDESK_DATABASE_POOL_SIZE": "8",
            "TIERDESK_INTAKE_URL": "http://127.0.0.1:9",
            "TIERDESK_TRIAGE_URL": "http://127.0.0.1:9",
            "TIERDESK_TIER_QUEUE_URL": "http://127.0.0.1:9",
            "TIERDESK_VENDOR_BRIDGE_URL": "http://127.0.0.1:9",
            "TIERDESK_OUTBOX_POLL_MS": "100",
            "TIERDESK_OUTBOX_MAX_BACKOFF_MS": "500",
            "TIERDESK_LOG_LEVEL": "warning",
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    public static func reader(database: DatabaseSettings, as role: ServiceRole? = nil, _ extra: [String: String] = [:]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment(database: database, as: role, extra)))
    }

    /// The role a test module's services connect as: the service it tests (`IntakeTests` → intake).
    static let roleOfModule: [String: ServiceRole] = [
        "IntakeTests": .intake, "TriageTests": .triage, "TierQueueTests": .tierQueue, "VendorBridgeTests": .vendorBridge, "TierdeskKitTests": .intake,
    ]

    /// `role`, or the role of the test module `fileID` lies in; a module that tests several services names the role.
    public static func role(_ role: ServiceRole?, fileID: String) throws -> ServiceRole {
        if let role { return role }
        let module = String(fileID.prefix { $0 != "/" })
        guard let inferred = roleOfModule[module] else {
            throw TestSetupError("\(fileID): name the service's database role (withLiveApp(as: ...)): \(module) tests more than one service")
        }
        return inferred
    }
}

/// Runs an application built by `build` on a live port against the test's database, connecting as
/// its service's own PostgreSQL role (`as`, or the one of the test's module), and hands `test` a client.
/// So every test of a service runs with exactly the privileges the service has in production.
public func withLiveApp<App: ApplicationProtocol>(
    as role: ServiceRole? = nil, environment extra: [String: String] = [:], fileID: String = #fileID, _ build: (ConfigReader) async throws -> App,
    _ test: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let role = try TestCredentials.role(role, fileID: fileID)
    let app = try await build(TestCredentials.reader(database: TestDatabase.settings(), as: role, extra))
    try await app.test(.live) { client in try await test(client) }
}

extension TestClientProtocol {
    /// Sends a JSON body (or raw bytes with `raw:`) with an optional bearer token.
    @discardableResult
    public func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: (any Encodable & Sendable)? = nil, raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = try JSONCoding.encode(json)
            headers[.contentType] = headers[.contentType] ?? "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
            headers[.contentType] = headers[.contentType] ?? "application/json"
        }
        return try await executeRequest(uri: uri, method: method, headers: headers, body: body)
    }
}

extension TestResponse {
    /// The body decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONCoding.decoder.decode(T.self, from: Data(buffer: body))
    }

    /// The body as a problem document; fails if it is not one.
    public func problem() throws -> Problem {
        guard headers[.contentType] == "application/problem+json" else {
            throw TestSetupError("expected application/problem+json, got \(headers[.contentType] ?? "none"): \(String(buffer: body))")
        }
        return try decode(Problem.self)
    }
}

/// Test data with defaults.
extension SubmitTicketRequest {
    public static func fixture(
        email: String = "dana@example.com", channel: TierdeskModels.Channel = .web, subject: String = "VPN drops every hour",
        description: String = "Since Monday the VPN disconnects every hour.", impact: Impact? = .medium, urgency: Urgency? = .high,
        category: String? = "network"
    ) -> SubmitTicketRequest {
        SubmitTicketRequest(
            requester: RequesterInput(email: email, name: "Dana Example"), channel: channel, subject: subject, description: description, impact: impact,
            urgency: urgency, category: category)
    }
}
