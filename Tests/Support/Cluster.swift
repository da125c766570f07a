import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TierdeskKit
import TierdeskModels

#if canImport(Glibc)
    import Glibc
#endif

/// The real executables, started as processes against the test's database, for end-to-end tests.
public final class Cluster: @unchecked Sendable {
    public struct Member: Sendable {
        public var executable: String
        public var port: Int
        public var environment: [String: String]
    }

    public private(set) var members: [String: Member] = [:]
    private var processes: [String: Process] = [:]
    private let lock = NSLock()
    let database: DatabaseSettings
    let logFolder: URL

    /// Ports for intake, triage, tier-queue and vendor-bridge, free when chosen; `extra` settings for every member.
    public init(database: DatabaseSettings, extra: [String: String] = [:]) throws {
        self.database = database
        logFolder = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-e2e-\(database.database)")
        try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
        let ports = try (0..<4).map { _ in try Self.freePort() }
        let peers = [
            "TIERDESK_INTAKE_URL": "http://127.0.0.1:\(ports[0])",
            "TIERDESK_TRIAGE_URL": "http://127.0.0.1:\(ports[1])",
            "TIERDESK_TIER_QUEUE_URL": "http://127.0.0.1:\(ports[2])",
            "TIERDESK_VENDOR_BRIDGE_URL": "http://127.0.0.1:\(ports[3])",
            "TIERDESK_OUTBOX_POLL_MS": "200",
            "TIERDESK_OUTBOX_MAX_BACKOFF_MS": "1000",
            "TIERDESK_LOG_LEVEL": "info",
            // The tests are one client address; the limits themselves are tested in-process.
            "TIERDESK_RATE_LIMIT_PER_MINUTE": "1000000", "TIERDESK_REQUESTER_RATE_LIMIT_PER_MINUTE": "1000000",
            "TIERDESK_AUTH_FAILURES_PER_MINUTE": "1000000",
            // The load tests send hundreds of tickets of one category within seconds: a storm, by
            // design, would move them all to level 2. Storms are tested on their own (ProblemTests).
            "TIERDESK_STORM_COUNT": "10000",
        ]
        for (index, name) in ["intake", "triage", "tier-queue", "vendor-bridge"].enumerated() {
            // Each service as its own PostgreSQL role, with only the privileges it has in production.
            var environment = TestCredentials.environment(database: database, as: ServiceRole(service: name), peers.merging(extra) { _, new in new })
            environment["TIERDESK_PORT"] = "\(ports[index])"
            members[name] = Member(executable: name, port: ports[index], environment: environment)
        }
    }

    public func url(_ name: String) -> String { "http://127.0.0.1:\(members[name]!.port)" }

    /// Another replica of `original` on a port of its own, with `overrides` on top of its settings.
    public func addReplica(_ name: String, of original: String, overrides: [String: String] = [:]) throws {
        guard var member = members[original] else { throw TestSetupError("no member \(original)") }
        member.port = try Self.freePort()
        member.environment.merge(overrides) { _, new in new }
        member.environment["TIERDESK_PORT"] = "\(member.port)"
        members[name] = member
    }

    /// Sets `settings` on the named members (every member when nil), before they start.
    public func configure(_ settings: [String: String], only names: [String]? = nil) {
        for name in names ?? Array(members.keys) { members[name]?.environment.merge(settings) { _, new in new } }
    }

    /// Starts every member (or the named ones) and waits until each answers ready.
    public func start(_ names: [String]? = nil) async throws {
        for name in names ?? Array(members.keys).sorted() {
            try launch(name)
        }
        for name in names ?? Array(members.keys) {
            try await waitReady(name)
        }
    }

    public func launch(_ name: String) throws {
        guard let member = members[name] else { throw TestSetupError("no member \(name)") }
        let binPath = try Self.binPath()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binPath).appendingPathComponent(member.executable)
        process.environment = member.environment
        let log = logFolder.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { processes[name] = process }
    }

    public func waitReady(_ name: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await HTTP.request(.GET, url(name) + "/health/ready"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("\(name) did not become ready; log: \(log(name).suffix(2000))")
    }

    /// Sends a signal to a member (SIGKILL to crash it, SIGTERM to stop it gracefully) and waits for it to exit.
    public func signal(_ name: String, _ signal: Int32) {
        guard let process = lock.withLock({ processes.removeValue(forKey: name) }) else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    public func log(_ name: String) -> String {
        (try? String(contentsOf: logFolder.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    /// Stops every member gracefully and returns their exit statuses.
    @discardableResult
    public func stop() -> [String: Int32] {
        let all = lock.withLock { () -> [String: Process] in
            defer { processes = [:] }
            return processes
        }
        for (_, process) in all { kill(process.processIdentifier, SIGTERM) }
        var statuses: [String: Int32] = [:]
        for (name, process) in all {
            process.waitUntilExit()
            statuses[name] = process.terminationStatus
        }
        return statuses
    }

    /// Where the built executables are: `TIERDESK_BIN_PATH`, set by the test command.
    public static func binPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["TIERDESK_BIN_PATH"] { return path }
        throw TestSetupError("TIERDESK_BIN_PATH is not set: run the tests with ./scripts/test")
    }

    /// A port the kernel considers free right now.
    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestSetupError("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        guard bound == 0 else { throw TestSetupError("bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A small JSON-over-HTTP client for end-to-end tests.
public enum HTTP {
    public static func request(
        _ method: HTTPMethod, _ url: String, token: String? = nil, json: (any Encodable & Sendable)? = nil, raw: String? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> (Int, ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(try JSONCoding.encode(json))
        } else if let raw {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: raw))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), try await response.body.collect(upTo: 8 << 20))
    }

    /// Sends and decodes a 2xx answer as `T`; anything else fails with the body.
    public static func json<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ url: String, token: String? = nil, body: (any Encodable & Sendable)? = nil, expect: Int? = nil
    ) async throws -> T {
        let (status, buffer) = try await request(method, url, token: token, json: body)
        guard expect.map { $0 == status } ?? (200..<300).contains(status) else {
            throw TestSetupError("\(method) \(url) answered \(status): \(String(buffer: buffer))")
        }
        return try JSONCoding.decoder.decode(T.self, from: Data(buffer: buffer))
    }

    /// Polls `check` until it returns a value or `timeout` passes.
    public static func eventually<T>(timeout: Duration = .seconds(20), _ check: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try? await check() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        if let value = try await check() { return value }
        throw TestSetupError("condition not met within \(timeout)")
    }
}
