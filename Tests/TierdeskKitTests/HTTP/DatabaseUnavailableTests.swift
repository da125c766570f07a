import Foundation
import Hummingbird
import PostgresNIO
import Testing
import TierdeskTestSupport

@testable import TierdeskKit

/// A database that goes away is 503 with Retry-After, never 500: also when PostgreSQL ends the
/// connection itself, as a restart does (`docker compose restart postgres` in scripts/compose-test
/// found it answered 500).
@Suite struct DatabaseUnavailableTests {
    @Test(.freshDatabase) func aConnectionTheServerTerminatesIsUnavailableNotAnError() async throws {
        let error = try await TestDatabase.settings().withClient(poolSize: 2, logger: TestDatabase.logger) { client in
            try await client.withConnection { victim -> (any Error)? in
                var pid: Int32 = 0
                for try await backend in try await victim.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).decode(Int32.self) { pid = backend }
                // While it works, the server ends it, as a restart's fast shutdown ends every backend (57P01).
                let terminate = Task {
                    try await Task.sleep(for: .milliseconds(300))
                    try await client.query("SELECT pg_terminate_backend(\(pid))", logger: TestDatabase.logger)
                }
                defer { terminate.cancel() }
                do {
                    for try await _ in try await victim.query("SELECT pg_sleep(10)", logger: TestDatabase.logger) {}
                    return nil
                } catch {
                    return error
                }
            }
        }
        let thrown = try #require(error)
        #expect((thrown as? PSQLError)?.serverInfo?[.sqlState] == "57P01", "\(String(reflecting: thrown))")
        #expect(ProblemMiddleware<BasicRequestContext>.isDatabaseUnreachable(thrown))
    }

    /// A transaction the server ends (in its body, or at its COMMIT) throws PostgreSQL's own error, not
    /// PostgresNIO's wrapper: the problem mapping sees a database that went away.
    @Test(.freshDatabase) func aTransactionTheServerEndsIsUnavailableNotAnError() async throws {
        let error = try await TestDatabase.settings().withClient(poolSize: 1, logger: TestDatabase.logger) { client -> (any Error)? in
            do {
                try await client.transaction(logger: TestDatabase.logger) { connection in
                    for try await _ in try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: TestDatabase.logger) {}
                }
                return nil
            } catch {
                return error
            }
        }
        let thrown = try #require(error)
        #expect(thrown is PSQLError, "\(String(reflecting: thrown))")
        #expect(ProblemMiddleware<BasicRequestContext>.isDatabaseUnreachable(thrown))
    }

    @Test func shuttingDownStartingUpAndLostConnectionsAreUnavailableQueryErrorsAreNot() {
        for state in ["57P01", "57P02", "57P03", "08006", "08001"] { #expect(ProblemMiddleware<BasicRequestContext>.isUnavailableState(state)) }
        for state in ["57014", "23505", "42501", "40001", nil] { #expect(!ProblemMiddleware<BasicRequestContext>.isUnavailableState(state)) }
    }
}
