import Logging
import PostgresNIO

extension DatabaseSettings {
    /// Runs `body` with a pool that runs for exactly as long as `body` does (commands and tests).
    public func withClient<T: Sendable>(poolSize: Int = 4, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = makeClient(poolSize: poolSize, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
