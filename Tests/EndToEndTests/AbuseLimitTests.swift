import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// Issue 23, item 8, replayed against the running executables: made-up tokens from one address no
/// longer lock a valid agent out, and agents are limited per principal, not only anonymous callers.
@Suite(.serialized) struct AbuseLimitTests {
    /// A token of an agent's shape that no agent holds.
    static func madeUpToken() -> String { Secrets.newToken(.agent) }

    @Test(.freshDatabase) func fortyMadeUpTokensFromOneAddressDoNotRefuseAValidAgent() async throws {
        // The shipped failure limit (30 a minute), not the suite's relaxed one.
        let cluster = try Cluster(database: try TestDatabase.settings(), extra: ["TIERDESK_AUTH_FAILURES_PER_MINUTE": "30"])
        defer { _ = cluster.stop() }
        try await cluster.start(["tier-queue"])
        let queue = cluster.url("tier-queue")
        let agent = try await HTTP.json(
            Agent.self, .POST, queue + "/v1/agents", token: TestCredentials.adminToken,
            body: CreateAgentRequest(name: "Alice", email: "alice@example.com", tiers: [1]))
        let token = try #require(agent.token)
        #expect(try await HTTP.request(.GET, queue + "/v1/queues/1", token: token).0 == 200)

        // The attack: forty made-up tokens from the same address (this test's).
        var statuses: [Int] = []
        for _ in 0..<40 { statuses.append(try await HTTP.request(.GET, queue + "/v1/queues/1", token: Self.madeUpToken()).0) }
        // The budget is spent after 30; a slow machine may refill a token or two on the way (a 401 between the 429s).
        #expect(statuses.prefix(30).allSatisfy { $0 == 401 } && statuses.filter { $0 == 429 }.count >= 3, "\(statuses)")
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })

        // The valid agent from that address is still served, again and again.
        for _ in 0..<5 {
            let (status, body) = try await HTTP.request(.GET, queue + "/v1/queues/1", token: token)
            #expect(status == 200, "\(String(buffer: body))")
        }
        // So are the admin's and the services' own tokens, checked without the database.
        #expect(try await HTTP.request(.GET, queue + "/v1/agents", token: TestCredentials.adminToken).0 == 200)
        // A token this address has not shown valid is refused without a lookup while the address is throttled.
        let (refused, body) = try await HTTP.request(.GET, queue + "/v1/queues/1", token: Self.madeUpToken())
        #expect(refused == 429 && String(buffer: body).contains("rate-limited"))
    }

    @Test(.freshDatabase) func anAgentPastItsOwnRateIsRefusedAndOthersGoOn() async throws {
        let cluster = try Cluster(database: try TestDatabase.settings(), extra: ["TIERDESK_AGENT_RATE_LIMIT_PER_MINUTE": "20"])
        defer { _ = cluster.stop() }
        try await cluster.start(["tier-queue"])
        let queue = cluster.url("tier-queue")
        func hire(_ name: String) async throws -> String {
            try #require(
                try await HTTP.json(
                    Agent.self, .POST, queue + "/v1/agents", token: TestCredentials.adminToken,
                    body: CreateAgentRequest(name: name, email: "\(name)@example.com", tiers: [1])
                ).token)
        }
        let runaway = try await hire("runaway")
        let colleague = try await hire("colleague")
        var statuses: [Int] = []
        for _ in 0..<25 { statuses.append(try await HTTP.request(.GET, queue + "/v1/queues/1", token: runaway).0) }
        #expect(statuses.prefix(20).allSatisfy { $0 == 200 } && statuses.suffix(3).allSatisfy { $0 == 429 }, "\(statuses)")
        #expect(try await HTTP.request(.GET, queue + "/v1/queues/1", token: colleague).0 == 200)
        // The admin is not limited per principal.
        for _ in 0..<25 { #expect(try await HTTP.request(.GET, queue + "/v1/agents", token: TestCredentials.adminToken).0 == 200) }
    }
}
