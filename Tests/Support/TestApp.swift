import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TierdeskKit
import TierdeskModels

/// Credentials and settings every test service uses.
public enum TestCredentials {
    public static let adminToken = "test-admin-token-0123456789abcdef"
    public static let internalToken = "test-internal-token-0123456789abcdef"
    public static let secret = "test-server-secret-0123456789abcdef"
    public static let mailGatewayToken = "test-mail-gateway-token-0123456789abcdef"

    /// The environment of a service on `database`. Peers point at a closed port unless overridden,
    /// so an in-process service's hand-offs wait in its outbox instead of reaching anything.
    public static func environment(database: DatabaseSettings, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "TIERDESK_DATABASE_URL": database.url,
            "TIERDESK_ADMIN_TOKEN": adminToken,
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

    public static func reader(database: DatabaseSettings, _ extra: [String: String] = [:]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment(database: database, extra)))
    }
}

/// Runs an application built by `build` on a live port against the test's database and hands
/// `test` a client.
public func withLiveApp<App: ApplicationProtocol>(
    environment extra: [String: String] = [:], _ build: (ConfigReader) async throws -> App,
    _ test: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let app = try await build(TestCredentials.reader(database: TestDatabase.settings(), extra))
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
