import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real server a test runs as a process on loopback (the SMTP server, the OpenID provider): its
/// output written to `log` (afresh at each start), started and waited for until `isReady` says so, killed by `stop()`.
final class TestServerProcess: @unchecked Sendable {
    let log: URL
    private var process: Process?
    private let lock = NSLock()

    init(log: URL) {
        self.log = log
    }

    /// Starts `executable` and waits until `isReady` answers true; throws naming `what` with the
    /// process's output when it exits first or `timeout` passes (the process is then stopped).
    func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, what: String, timeout: Duration,
        isReady: () async -> Bool
    ) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        // A fresh log each start: a restart is ready by what it writes, not by what the last run wrote.
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { self.process = process }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await isReady() { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw TestSetupError("\(what) did not start: \(output)")
    }

    /// What the process wrote so far.
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }  // try?: no log yet is no output

    /// Kills the process, if one runs, and waits for it.
    func stop() {
        guard
            let process = lock.withLock({ () -> Process? in
                defer { self.process = nil }
                return self.process
            })
        else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
