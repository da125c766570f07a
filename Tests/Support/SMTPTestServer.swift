import Foundation
import TierdeskKit

/// A real SMTP server for a test: aiosmtpd (`scripts/smtp-server.py`, from the venv
/// `scripts/mail-tools` makes) on a free loopback port, requiring STARTTLS (or implicit TLS) with
/// a certificate of a CA made for the test by openssl, and AUTH; every message it accepts lands as
/// one `.eml` file in `folder`. Stop it, start it again on the same port: the server down for a while.
public final class SMTPTestServer: @unchecked Sendable {
    public enum Security: Sendable { case starttls, implicitTLS, plain }

    public let port: Int
    public let folder: URL
    /// The PEM file of the test's CA (`TIERDESK_SMTP_CA_FILE`).
    public let caFile: String
    public let user = "mailer"
    public let password = "s3cret-password"
    let security: Security
    let mechanisms: String
    let pipelining: Bool
    let requiresAuth: Bool
    let directory: URL
    let server: TestServerProcess

    /// Makes the certificates and the mail folder and starts the server.
    public init(
        security: Security = .starttls, mechanisms: String = "PLAIN,LOGIN", pipelining: Bool = false, requiresAuth: Bool = true, port: Int? = nil
    ) async throws {
        self.requiresAuth = requiresAuth
        self.security = security
        self.mechanisms = mechanisms
        self.pipelining = pipelining
        self.port = try port ?? Cluster.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-smtp-\(UUID().uuidString.prefix(8))")
        folder = directory.appendingPathComponent("mail")
        caFile = directory.appendingPathComponent("ca.pem").path
        server = TestServerProcess(log: directory.appendingPathComponent("server.log"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.makeCertificates(in: directory)
        try await start()
    }

    deinit { stop() }

    /// The settings a client of this server uses: STARTTLS (or implicit TLS), AUTH, the test CA.
    public func settings(from: String = "Tierdesk <help@tierdesk.test>", timeout: Duration = .seconds(5)) -> SMTPSettings {
        SMTPSettings(
            host: "127.0.0.1", port: port, tls: security == .implicitTLS ? .tls : .starttls,
            credentials: .init(user: user, password: password), from: MailAddress(parsing: from)!, caFile: caFile, timeout: timeout)
    }

    /// The environment a service needs to send through this server.
    public var environment: [String: String] {
        [
            "TIERDESK_SMTP_HOST": "127.0.0.1", "TIERDESK_SMTP_PORT": "\(port)", "TIERDESK_SMTP_TLS": security == .implicitTLS ? "tls" : "starttls",
            "TIERDESK_SMTP_USER": user, "TIERDESK_SMTP_PASSWORD": password, "TIERDESK_SMTP_FROM": "Tierdesk <help@tierdesk.test>",
            "TIERDESK_SMTP_CA_FILE": caFile, "TIERDESK_SMTP_TIMEOUT_MS": "5000",
        ]
    }

    public func start() async throws {
        var arguments = [Self.repositoryRoot.appendingPathComponent("scripts/smtp-server.py").path, "--port", "\(port)", "--maildir", folder.path]
        if requiresAuth { arguments += ["--user", user, "--password", password, "--mechanisms", mechanisms] }
        if pipelining { arguments.append("--pipelining") }
        switch security {
        case .starttls: arguments += ["--cert", directory.appendingPathComponent("cert.pem").path, "--key", directory.appendingPathComponent("key.pem").path]
        case .implicitTLS:
            arguments += [
                "--cert", directory.appendingPathComponent("cert.pem").path, "--key", directory.appendingPathComponent("key.pem").path, "--implicit-tls",
            ]
        case .plain: break
        }
        let (server, port) = (server, port)
        try await server.start(try Self.python(), arguments, what: "the SMTP test server", timeout: .seconds(20)) {
            server.output.contains("ready \(port)")
        }
    }

    /// Stops the server (the port refuses connections until `start()`).
    public func stop() { server.stop() }

    /// The messages received so far, oldest first (file names sort by arrival).
    public func messages() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }.sorted().map {
            try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)
        }
    }

    /// The Message-ID header of each message received.
    public func messageIDs() throws -> [String] {
        try messages().compactMap { Self.header("Message-ID", in: $0) }
    }

    /// Waits until at least `count` messages arrived (or `timeout` passed) and returns them.
    @discardableResult
    public func waitForMessages(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let messages = try messages()
            if messages.count >= count { return messages }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try messages()
    }

    /// A header's value, unfolded, from a message's head.
    public static func header(_ name: String, in message: String) -> String? {
        let head = message.components(separatedBy: "\r\n\r\n").first ?? message
        let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ")
        for line in unfolded.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's Python with aiosmtpd: `TIERDESK_TEST_SMTP_PYTHON`, or `.tierdesk/venv-mail` (scripts/mail-tools makes it).
    static func python() throws -> String {
        let path =
            ProcessInfo.processInfo.environment["TIERDESK_TEST_SMTP_PYTHON"]
            ?? repositoryRoot.appendingPathComponent(".tierdesk/venv-mail/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("no Python with aiosmtpd at \(path): run scripts/mail-tools (scripts/test does)")
        }
        return path
    }

    /// A CA and a server certificate it signed, for localhost and 127.0.0.1 (`scripts/mail-tools certificates`).
    static func makeCertificates(in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repositoryRoot.appendingPathComponent("scripts/mail-tools").path, "certificates", directory.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSetupError("scripts/mail-tools certificates failed (is openssl installed?)") }
    }
}
