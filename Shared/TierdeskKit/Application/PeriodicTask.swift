import Logging
import ServiceLifecycle

/// Background work repeated at an interval until shutdown (clean-ups); a failure is logged and the
/// loop carries on.
public struct PeriodicTask: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    public init(name: String, interval: Duration, logger: Logger, work: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.work = work
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await work()
            } catch {
                logger.warning("periodic task failed", metadata: ["task": "\(name)", "error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
