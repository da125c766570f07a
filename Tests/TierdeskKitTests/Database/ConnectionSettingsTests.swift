import Foundation
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskTestSupport

@Suite struct ConnectionSettingsTests {
    /// Every connection of the services' pools runs without JIT compilation: the outbox lease paid
    /// 10-30 ms of LLVM per run once the table's cost estimate passed `jit_above_cost`.
    @Test(.freshDatabase) func poolsRunWithoutJIT() async throws {
        try await TestDatabase.withClient { client in
            let jit = try await client.first("SELECT current_setting('jit') AS jit", logger: TestDatabase.logger) { try $0.get("jit", as: String.self) }
            #expect(jit == "off")
        }
    }
}
