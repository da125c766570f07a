import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import VendorBridgeApp

/// Issue 16, items 1, 2, 5 and 6: the case goes round between the vendor and the company, the
/// vendor's contract is watched, and the vendor is scored.
@Suite struct VendorCaseFlowTests {
    func withVendorBridge(
        clock: any WallClock = SystemClock(), _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await VendorBridgeTests().withVendorBridge(clock: clock, test)
    }

    /// A ticket held by `owner` at level 3, escalated to `vendor`; its id and its case's.
    func escalate(_ http: any TestClientProtocol, _ db: StoreFixture, owner: AgentIdentity, to vendor: UUID) async throws -> (UUID, UUID) {
        let (ticket, caseID) = try await VendorBridgeTests().escalate(http, db, owner: owner, to: vendor)
        return (ticket.id, caseID)
    }

    func webhookTypes(_ db: StoreFixture, case caseID: UUID) async throws -> [String] {
        try await db.client.all("SELECT type FROM webhook_deliveries WHERE case_id = \(caseID) ORDER BY created_at, type", logger: db.logger) {
            try $0.get("type", as: String.self)
        }
    }

    @Test(.freshDatabase) func theVendorAsksTheCompanyAnswersAndVerifiesTheResolution() async throws {
        try await withVendorBridge { http, db in
            let vendor = try await VendorBridgeTests().register(http, name: "Acme")
            let owner = AgentIdentity.fixture(tiers: [.specialist])
            let ownerToken = try await db.agentToken(owner)
            let colleague = AgentIdentity.fixture(tiers: [.specialist])
            let colleagueToken = try await db.agentToken(colleague)
            let firstLine = try await db.agentToken(.fixture(tiers: [.firstLine]))
            let (ticketID, caseID) = try await escalate(http, db, owner: owner, to: vendor.id)
            let updates = "/v1/vendor/cases/\(caseID)/updates"
            let messages = "/v1/tickets/\(ticketID)/vendor-messages"
            func vendorSays(_ status: VendorCaseStatus, _ message: String) async throws -> VendorCase {
                try await http.send(.post, updates, token: vendor.apiKey, json: VendorUpdateRequest(status: status, message: message)).decode(VendorCase.self)
            }
            func ticket() async throws -> Ticket { try #require(try await db.store.find(ticketID, on: db.client, logger: db.logger)) }

            // The vendor's question stays with the ticket's owner, who still holds it.
            #expect(try await vendorSays(.needsInfo, "Which firmware runs on the edge router?").status == .needsInfo)
            let waiting = try await ticket()
            #expect(waiting.status == .pendingVendor && waiting.assigneeId == owner.id)
            let asked = try await db.store.events(of: ticketID, publicOnly: false, on: db.client, logger: db.logger).last
            #expect(asked?.type == .vendorUpdated && asked?.data["status"]?.stringValue == "needs_info")

            // Only a resolved case can be reopened; agents who may not see the ticket learn nothing of it.
            let early = try await http.send(.post, messages, token: ownerToken, json: VendorMessageRequest(message: "Try again", reopen: true))
            #expect(try early.status == .conflict && early.problem().type.hasSuffix("not-reopenable"))
            #expect(try await http.send(.post, messages, token: firstLine, json: VendorMessageRequest(message: "x")).status == .notFound)
            #expect(try await http.send(.post, messages, token: vendor.apiKey, json: VendorMessageRequest(message: "x")).status == .forbidden)
            let bad = try await http.send(.post, messages, token: ownerToken, raw: #"{"message":""}"#)
            #expect(try bad.status == .unprocessableContent && bad.problem().errors?.map(\.field) == ["message"])

            // The case list follows the ticket read rule: its owner sees the case; a level 3 colleague who
            // never worked the ticket (now at level 4) does not, nor does level 1.
            #expect(try await http.send(.get, "/v1/cases", token: ownerToken).decode(Page<VendorCase>.self).items.map(\.id) == [caseID])
            #expect(try await http.send(.get, "/v1/cases", token: colleagueToken).decode(Page<VendorCase>.self).items.isEmpty)
            #expect(try await http.send(.get, "/v1/cases", token: firstLine).decode(Page<VendorCase>.self).items.isEmpty)

            // A retried answer (same Idempotency-Key) is sent once.
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "answer-1"]
            let answered = try await http.send(.post, messages, token: ownerToken, json: VendorMessageRequest(message: "4.1.7, logs attached"), headers: key)
            #expect(answered.status == .created)
            let retried = try await http.send(.post, messages, token: ownerToken, json: VendorMessageRequest(message: "4.1.7, logs attached"), headers: key)
            #expect(retried.status == .created && retried.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let answeredCase = try answered.decode(VendorCase.self)
            #expect(answeredCase.status == .inProgress && answeredCase.updates.last?.author == .company && answeredCase.updates.last?.status == nil)
            #expect(try await webhookTypes(db, case: caseID) == ["vendor.case_opened", "vendor.message"])

            // Resolved by the vendor: back to its owner, in progress at level 3, to verify.
            #expect(try await vendorSays(.resolved, "Fixed in 4.2").status == .resolved)
            let verifying = try await ticket()
            #expect(verifying.status == .inProgress && verifying.tier == .specialist && verifying.assigneeId == owner.id)
            #expect(try await http.send(.post, updates, token: vendor.apiKey, json: VendorUpdateRequest(status: .inProgress, message: "x")).status == .conflict)

            // Not fixed after all: a colleague of the level reopens it with the reason, and the ticket goes back to the vendor.
            let reopened = try await http.send(.post, messages, token: colleagueToken, json: VendorMessageRequest(message: "Still drops at 9:00", reopen: true))
            #expect(reopened.status == .created)
            let reopenedCase = try reopened.decode(VendorCase.self)
            #expect(reopenedCase.status == .inProgress && reopenedCase.reopenCount == 1 && reopenedCase.resolvedAt == nil)
            let again = try await ticket()
            #expect(again.status == .pendingVendor && again.tier == .vendor && again.vendorId == vendor.id)

            // Resolved again, verified: resolving the ticket (tier-queue's event) closes the case and tells the vendor.
            _ = try await vendorSays(.resolved, "Fixed in 4.2.1")
            let resolved = EventEnvelope(type: .ticketResolved, ticketId: ticketID, occurredAt: Date(), data: [:])
            #expect(try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: resolved).status == .ok)
            let closed = try await http.send(.get, "/v1/vendor/cases/\(caseID)", token: vendor.apiKey).decode(VendorCase.self)
            #expect(closed.status == .closed && closed.closedAt != nil && closed.questions == 1 && closed.reopenCount == 1)
            #expect(try await webhookTypes(db, case: caseID).last == "vendor.case_closed")
            #expect(try await http.send(.post, updates, token: vendor.apiKey, json: VendorUpdateRequest(status: .inProgress, message: "x")).status == .conflict)
            let trail = try await db.store.events(of: ticketID, publicOnly: false, on: db.client, logger: db.logger).map(\.type)
            #expect(
                trail.filter { $0 == .vendorMessageSent }.count == 2 && trail.filter { $0 == .vendorUpdated }.count == 3 && trail.contains(.vendorCaseClosed))
            let open = try await http.send(.get, "/v1/cases", token: ownerToken).decode(Page<VendorCase>.self)
            #expect(!open.items.contains { $0.id == caseID })
        }
    }

    /// A new key with an overlap: both keys work until the overlap ends; a rotation without one
    /// stops every earlier key.
    @Test(.freshDatabase) func aRotatedKeyKeepsWorkingForItsOverlap() async throws {
        let clock = ManualClock(Date())
        try await withVendorBridge(clock: clock) { http, _ in
            let vendor = try await VendorBridgeTests().register(http, name: "Acme")
            let first = try #require(vendor.apiKey)
            let rotated = try await http.send(
                .post, "/v1/vendors/\(vendor.id)/api-key", token: TestCredentials.adminToken, json: RotateVendorKeyRequest(overlapMinutes: 60)
            ).decode(Vendor.self)
            let second = try #require(rotated.apiKey)
            let until = try #require(rotated.previousKeyValidUntil)
            #expect(abs(until.timeIntervalSinceNow - 3600) < 60)
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: first).status == .ok)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: second).status == .ok)
            let tooLong = try await http.send(
                .post, "/v1/vendors/\(vendor.id)/api-key", token: TestCredentials.adminToken, json: RotateVendorKeyRequest(overlapMinutes: 20_000))
            #expect(try tooLong.status == .unprocessableContent && tooLong.problem().errors?.map(\.field) == ["overlapMinutes"])
            let third = try #require(
                try await http.send(.post, "/v1/vendors/\(vendor.id)/api-key", token: TestCredentials.adminToken).decode(Vendor.self).apiKey)
            clock.advance(by: Authenticator.cacheLifetime)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: first).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: second).status == .unauthorized)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: third).status == .ok)
            #expect(try await http.send(.get, "/v1/vendors/\(vendor.id)", token: TestCredentials.adminToken).decode(Vendor.self).previousKeyValidUntil == nil)
        }
    }

    /// Two replicas watch the same cases: each overdue target is reminded exactly once, by one of them.
    @Test(.freshDatabase) func anOverdueCaseIsRemindedExactlyOnceByTwoReplicas() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let clock = ManualClock(Date())
            let vendors = VendorStore(sealingKey: TestCredentials.sealingKey)
            let vendor = try await vendors.create(
                CreateVendorRequest(
                    name: "Acme", webhookUrl: "https://acme.example.com", categories: [],
                    contract: VendorContract(acknowledgeWithinMinutes: 15, resolveWithinMinutes: 120, time: .wall)), on: client, now: clock.now(),
                logger: db.logger)
            let work = CaseWork(cases: VendorCaseStore(), vendors: vendors, tickets: db.store, webhooks: WebhookDeliveryStore())
            var cases: [UUID] = []
            for _ in 0..<5 {
                let ticket = try await db.change(try await db.queued(tier: .specialist).id) {
                    $0.status = .pendingVendor
                    $0.tier = .vendor
                    $0.vendorId = vendor.id
                }
                cases.append(
                    try #require(
                        try await client.transaction(logger: db.logger) { connection in
                            try await work.open(
                                ticket: ticket, vendorID: vendor.id, reason: "r", fromTier: .specialist, on: connection, now: clock.now(), logger: db.logger)
                        }))
            }
            let replicas = (0..<2).map { _ in OverdueWatcher(work: work, client: client, clock: clock, doorbell: Doorbell()) }
            func bothTick() async throws -> Int {
                async let a = replicas[0].tick(logger: db.logger)
                async let b = replicas[1].tick(logger: db.logger)
                return try await a + b
            }
            #expect(try await bothTick() == 0)
            clock.advance(by: 16 * 60)
            #expect(try await bothTick() == 5)
            #expect(try await bothTick() == 0)
            clock.advance(by: 120 * 60)
            #expect(try await bothTick() == 5)
            #expect(try await bothTick() == 0)
            let reminders = try await client.all(
                "SELECT type, count(*) AS n FROM webhook_deliveries WHERE type = 'vendor.case_overdue' GROUP BY type", logger: db.logger
            ) { Int(try $0.get("n", as: Int64.self)) }
            #expect(reminders == [10])
            let events = try await client.first(
                "SELECT count(*) AS n FROM ticket_events WHERE type = 'vendor.overdue'", logger: db.logger
            ) { Int(try $0.get("n", as: Int64.self)) }
            #expect(events == 10)
            let overdue = try await VendorCaseStore().listOpen(
                overdue: true, vendorID: vendor.id, limit: 10, after: nil, on: client, now: clock.now(), logger: db.logger)
            #expect(Set(overdue.items.map(\.id)) == Set(cases))
        }
    }

    /// The scorecard against a history seeded straight into the table, computed again here.
    @Test(.freshDatabase) func theScorecardAgreesWithTheCases() async throws {
        try await withVendorBridge { http, db in
            let vendor = try await VendorBridgeTests().register(http, name: "Acme")
            let other = try await VendorBridgeTests().register(http, name: "Globex")
            let t0 = Date().addingTimeInterval(-20 * 3600)
            // (opened, acknowledged, resolved) in minutes from t0, questions, reopens; targets 30 and 240 minutes.
            let history: [(Double, Double?, Double?, Int, Int)] = [(0, 10, 120, 1, 0), (60, 110, 360, 0, 1), (120, nil, nil, 2, 0), (150, 155, nil, 0, 0)]
            for (opened, acknowledged, resolved, questions, reopens) in history {
                let ticket = try await db.queued(tier: .specialist)
                let at = { (minutes: Double?) in minutes.map { t0.addingTimeInterval($0 * 60) } }
                try await db.client.execute(
                    """
                    INSERT INTO vendor_cases (id, ticket_id, vendor_id, status, reason, opened_at, acknowledge_due_at, due_at, acknowledged_at, resolved_at,
                        questions, reopen_count, updated_at)
                    VALUES (\(UUID()), \(ticket.id), \(vendor.id), 'in_progress', 'r', \(at(opened)!), \(at(opened + 30)!), \(at(opened + 240)!),
                        \(at(acknowledged)), \(at(resolved)), \(Int32(questions)), \(Int32(reopens)), now())
                    """, logger: db.logger)
            }
            // Outside the period, and another vendor's: not counted.
            for (vendorID, opened) in [(vendor.id, -600.0), (other.id, 30.0)] {
                let ticket = try await db.queued(tier: .specialist)
                try await db.client.execute(
                    """
                    INSERT INTO vendor_cases (id, ticket_id, vendor_id, status, reason, opened_at, acknowledged_at, updated_at)
                    VALUES (\(UUID()), \(ticket.id), \(vendorID), 'acknowledged', 'r', \(t0.addingTimeInterval(opened * 60)), \(t0), now())
                    """, logger: db.logger)
            }
            let from = t0.addingTimeInterval(-60).formatted(.iso8601)
            let to = t0.addingTimeInterval(5 * 3600).formatted(.iso8601)
            let card = try await http.send(.get, "/v1/vendors/\(vendor.id)/scorecard?from=\(from)&to=\(to)", token: TestCredentials.adminToken)
                .decode(VendorScorecard.self)

            func percentile90(_ values: [Double]) -> Double {
                let sorted = values.sorted()
                let rank = 0.9 * Double(sorted.count - 1)
                let low = Int(rank.rounded(.down))
                return sorted[low] + (rank - Double(low)) * (sorted[min(low + 1, sorted.count - 1)] - sorted[low])
            }
            let acknowledge = history.compactMap { row in row.1.map { ($0 - row.0) * 60 } }
            let resolve = history.compactMap { row in row.2.map { ($0 - row.0) * 60 } }
            // Every case here is past both due times now, so each counts for the on-time shares.
            let ackOnTime = history.filter { row in row.1.map { $0 - row.0 <= 30 } ?? false }.count
            let resolveOnTime = history.filter { row in row.2.map { $0 - row.0 <= 240 } ?? false }.count
            #expect(card.cases == 4)
            #expect(card.acknowledge.count == acknowledge.count && card.resolve.count == resolve.count)
            #expect(abs((card.acknowledge.meanSeconds ?? 0) - acknowledge.reduce(0, +) / Double(acknowledge.count)) < 0.001)
            #expect(abs((card.acknowledge.p90Seconds ?? 0) - percentile90(acknowledge)) < 0.001)
            #expect(abs((card.resolve.meanSeconds ?? 0) - resolve.reduce(0, +) / Double(resolve.count)) < 0.001)
            #expect(abs((card.resolve.p90Seconds ?? 0) - percentile90(resolve)) < 0.001)
            #expect(card.acknowledge.onTimeShare == Double(ackOnTime) / 4 && card.resolve.onTimeShare == Double(resolveOnTime) / 4)
            #expect(card.reopenRate == 1.0 / 2.0)  // of the two resolved cases, one was sent back
            #expect(card.questionsPerCase == 3.0 / 4.0)
            #expect(card.overdueNow == 2)  // the two without a resolution, long past their due time
            let bad = try await http.send(.get, "/v1/vendors/\(vendor.id)/scorecard?from=\(to)&to=\(from)", token: TestCredentials.adminToken)
            #expect(try bad.status == .unprocessableContent && bad.problem().errors?.map(\.field) == ["from"])
            #expect(try await http.send(.get, "/v1/vendors/\(UUID())/scorecard", token: TestCredentials.adminToken).status == .notFound)
        }
    }
}

/// Each vendor key has its own rate on the vendor API; the scorecard is also Prometheus gauges.
@Suite struct VendorLimitsAndMetricsTests {
    @Test(.freshDatabase) func aVendorPastItsRateIs429AndOthersGoOn() async throws {
        try await TestDatabase.withClient { _ in
            try await withLiveApp(environment: ["TIERDESK_VENDOR_RATE_LIMIT_PER_MINUTE": "3"], VendorBridgeApp.buildApplication) { http in
                let acme = try await VendorBridgeTests().register(http, name: "Acme")
                let globex = try await VendorBridgeTests().register(http, name: "Globex")
                for _ in 0..<3 { #expect(try await http.send(.get, "/v1/vendor/cases", token: acme.apiKey).status == .ok) }
                let limited = try await http.send(.get, "/v1/vendor/cases", token: acme.apiKey)
                #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
                #expect(try limited.problem().status == 429)
                #expect(try await http.send(.get, "/v1/vendor/cases", token: globex.apiKey).status == .ok)
            }
        }
    }

    @Test(.freshDatabase) func theScorecardIsPublishedAsGauges() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let vendor = try await VendorStore(sealingKey: TestCredentials.sealingKey).create(
                CreateVendorRequest(name: "Gauge Vendor", webhookUrl: "https://gauge.example.com", categories: []), on: client, now: Date(),
                logger: db.logger)
            let ticket = try await db.queued(tier: .specialist)
            try await client.execute(
                """
                INSERT INTO vendor_cases (id, ticket_id, vendor_id, status, reason, opened_at, acknowledged_at, updated_at)
                VALUES (\(UUID()), \(ticket.id), \(vendor.id), 'acknowledged', 'r', now() - interval '1 hour', now() - interval '30 minutes', now())
                """, logger: db.logger)
            try await ScorecardStore().publishMetrics(on: client, now: Date(), logger: db.logger)
            let rendered = TierdeskMetrics.render()
            #expect(rendered.contains(#"tierdesk_vendor_cases{vendor="Gauge Vendor"} 1"#))
            #expect(rendered.contains(#"tierdesk_vendor_acknowledge_mean_seconds{vendor="Gauge Vendor"} 1800"#))
        }
    }
}

/// The connection goes where the check looked: the name is resolved once per attempt, every address
/// checked, and the request sent to a checked address (the system resolver knows nothing of these names).
@Suite struct WebhookPinningTests {
    func withVendorBridge(
        resolver: @escaping @Sendable (String) -> [String], _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            let reader = TestCredentials.reader(
                database: try TestDatabase.settings(), as: .vendorBridge, ["TIERDESK_WEBHOOK_POLL_MS": "50", "TIERDESK_WEBHOOK_SCHEDULE": "200ms"])
            let runtime = try ServiceRuntime(
                configuration: try TierdeskConfiguration(
                    reader: reader, serviceName: VendorBridge.serviceName, defaultPort: VendorBridge.defaultPort, keys: VendorBridgeDependencies.keyPurposes))
            var configuration = try VendorBridgeConfiguration(reader: reader)
            configuration.webhookTargets = WebhookTargetPolicy(parsing: "hooks.tierdesk.test", resolver: resolver)
            let deps = try VendorBridgeDependencies(runtime: runtime, configuration: configuration)
            try await runtime.makeApplication(router: buildRouter(deps), services: deps.services()).test(.live) { http in
                try await test(http, StoreFixture(client: client))
            }
        }
    }

    /// A name server under the test's control: `vendor.tierdesk.example` is public until it turns.
    final class Names: Sendable {
        let turned = Mutex(false)

        func resolve(_ host: String) -> [String] {
            if host == "hooks.tierdesk.test" { return ["127.0.0.1"] }
            return turned.withLock { $0 } ? ["10.0.0.5"] : ["93.184.216.34"]
        }
    }

    @Test(.freshDatabase) func aDeliveryGoesToTheAddressThatWasChecked() async throws {
        let receiver = try WebhookReceiver()
        let names = Names()
        try await receiver.serving {
            try await withVendorBridge(resolver: names.resolve) { http, db in
                let allowed = try await VendorBridgeTests().registerAt(http, name: "Pinned", url: "http://hooks.tierdesk.test:\(receiver.port)/hooks")
                _ = try await VendorBridgeTests().escalate(http, db, to: allowed.id)
                let received = try await HTTP.eventually { receiver.received.first }
                #expect(received.headers["host"] == "hooks.tierdesk.test:\(receiver.port)")
                // A public-looking name that now resolves inside the network: refused at the attempt, nothing sent.
                let turned = try await VendorBridgeTests().registerAt(http, name: "Turned", url: "https://vendor.tierdesk.example/hooks")
                names.turned.withLock { $0 = true }
                _ = try await VendorBridgeTests().escalate(http, db, to: turned.id)
                let refused = try await HTTP.eventually {
                    try await http.send(.get, "/v1/vendors/\(turned.id)/deliveries", token: TestCredentials.adminToken).decode(Page<WebhookDelivery>.self)
                        .items.first { !$0.attempts.isEmpty }
                }
                #expect(refused.attempts.first?.error?.contains("points inside the network (vendor.tierdesk.example is 10.0.0.5)") == true)
                #expect(receiver.received.count == 1)
            }
        }
    }

    /// Issue 23, item 9: a webhook URL whose host is written in mixed case is pinned too. The pin is set
    /// under the host exactly as the HTTP client reads it: keyed lowercased, the client would miss it and
    /// resolve the name itself, after the check (here it would fail: no name server knows this name).
    @Test(.freshDatabase) func aMixedCaseHostIsPinnedToTheCheckedAddress() async throws {
        let receiver = try WebhookReceiver()
        let names = Names()
        try await receiver.serving {
            try await withVendorBridge(resolver: names.resolve) { http, db in
                let vendor = try await VendorBridgeTests().registerAt(http, name: "Mixed", url: "http://Hooks.TierDesk.TEST:\(receiver.port)/hooks")
                _ = try await VendorBridgeTests().escalate(http, db, to: vendor.id)
                let received = try await HTTP.eventually { receiver.received.first }
                #expect(received.headers["host"]?.lowercased() == "hooks.tierdesk.test:\(receiver.port)")
                let delivered = try await HTTP.eventually {
                    try await http.send(.get, "/v1/vendors/\(vendor.id)/deliveries", token: TestCredentials.adminToken).decode(Page<WebhookDelivery>.self)
                        .items.first { $0.status == .delivered }
                }
                #expect(delivered.attempts.first?.statusCode == 204 || delivered.attempts.first?.statusCode == 200)
            }
        }
    }
}
