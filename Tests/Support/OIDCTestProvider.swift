import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TierdeskKit

/// A real OpenID provider for a test: oidc-provider-mock (PyPI, in the venv `scripts/mail-tools`
/// makes; `python -m oidc_provider_mock`) on a free loopback port, with nonces required. It signs
/// ID tokens with its own RSA key, takes any client id and secret, and signs in whichever subject
/// its authorization form is given; `setUser` gives a subject its claims (email, groups ...).
public final class OIDCTestProvider: @unchecked Sendable {
    public let port: Int
    let directory: URL
    let server: TestServerProcess

    /// Its issuer: the address it is reached at, as its tokens name it.
    public var issuer: String { "http://127.0.0.1:\(port)" }

    /// A client that does not follow redirects: the provider's answer is the redirect back to the console.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(2))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Starts the provider and waits until its discovery document answers.
    public init() async throws {
        port = try Cluster.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-oidc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        server = TestServerProcess(log: directory.appendingPathComponent("provider.log"))
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        try await server.start(
            try SMTPTestServer.python(), ["-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", "\(port)", "--require-nonce"],
            environment: environment, what: "the OpenID provider", timeout: .seconds(30)
        ) {
            // try?: not up yet
            if let (status, _) = try? await send(.GET, "/.well-known/openid-configuration") { return status == 200 }
            return false
        }
    }

    deinit { stop() }

    /// Stops the provider.
    public func stop() { server.stop() }

    /// Gives `subject` these claims in its next ID tokens (replacing what it had): `email`,
    /// `email_verified`, `name`, `groups` ...
    public func setUser(_ subject: String, claims: [String: any Sendable]) async throws {
        let body = try JSONSerialization.data(withJSONObject: claims)
        let (status, answer) = try await send(.PUT, "/users/\(subject)", body: body, contentType: "application/json")
        guard status == 204 else { throw TestSetupError("the provider refused the user \(subject): \(status) \(String(buffer: answer))") }
    }

    /// Signs `subject` in on the provider's authorization form at `authorizationURL` (where the
    /// console sent the browser); returns where the provider sends the browser back.
    public func authorize(_ authorizationURL: String, subject: String) async throws -> String {
        try await answerForm(authorizationURL, fields: "sub=\(subject.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
    }

    /// Refuses the sign-in on the provider's form (as for a disabled account); returns where the provider sends the browser back.
    public func deny(_ authorizationURL: String) async throws -> String {
        try await answerForm(authorizationURL, fields: "action=deny")
    }

    func answerForm(_ url: String, fields: String) async throws -> String {
        guard url.hasPrefix(issuer + "/") else { throw TestSetupError("not this provider's address: \(url)") }
        let (status, answer, location) = try await exchange(.POST, url, body: Data(fields.utf8), contentType: "application/x-www-form-urlencoded")
        guard (300..<400).contains(status), let location else {
            throw TestSetupError("the provider's form answered \(status): \(String(buffer: answer).prefix(2000))")
        }
        return location
    }

    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = nil) async throws -> (Int, ByteBuffer) {
        let (status, answer, _) = try await exchange(method, issuer + path, body: body, contentType: contentType)
        return (status, answer)
    }

    func exchange(_ method: HTTPMethod, _ url: String, body: Data?, contentType: String?) async throws -> (Int, ByteBuffer, String?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await Self.client.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), try await response.body.collect(upTo: 1 << 20), response.headers.first(name: "Location"))
    }
}
