import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TierdeskKit

#if canImport(Glibc)
    import Glibc
#endif

/// A real OpenID provider for a test: oidc-provider-mock (PyPI, in the venv `scripts/mail-tools`
/// makes; `python -m oidc_provider_mock`) on a free loopback port, with nonces required. It signs
/// ID tokens with its own RSA key, takes any client id and secret, and signs in whichever subject
/// its authorization form is given; `setUser` gives a subject its claims (email, groups ...).
public final class OIDCTestProvider: @unchecked Sendable {
    public let port: Int
    let directory: URL
    private var process: Process?
    private let lock = NSLock()

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try SMTPTestServer.python())
        process.arguments = ["-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", "\(port)", "--require-nonce"]
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let log = directory.appendingPathComponent("provider.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { self.process = process }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await send(.GET, "/.well-known/openid-configuration"), status == 200 { return }  // try?: not up yet
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw TestSetupError("the OpenID provider did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    /// Stops the provider.
    public func stop() {
        guard
            let process = lock.withLock({ () -> Process? in
                defer { self.process = nil }
                return self.process
            })
        else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

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
