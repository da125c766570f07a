import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport
import VendorBridgeApp

/// Issue 16, item 3: webhooks out, signed by the Standard Webhooks scheme, retried on a schedule,
/// logged, redelivered on demand, and never held up by another vendor.
@Suite struct WebhookDeliveryTests {
    /// Webhooks may go to this machine's receivers; retries come fast.
    static let environment = [
        "TIERDESK_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "TIERDESK_WEBHOOK_SCHEDULE": "300ms,300ms,300ms", "TIERDESK_WEBHOOK_POLL_MS": "50",
        "TIERDESK_WEBHOOK_TIMEOUT_MS": "3000",
    ]

    func withVendorBridge(
        _ settings: [String: String] = [:], _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(environment: Self.environment.merging(settings) { _, new in new }, VendorBridgeApp.buildApplication) { http in
                try await test(http, StoreFixture(client: client))
            }
        }
    }

    func register(_ http: any TestClientProtocol, name: String, url: String) async throws -> Vendor {
        try await http.send(
            .post, "/v1/vendors", token: TestCredentials.adminToken, json: CreateVendorRequest(name: name, webhookUrl: url, categories: [])
        ).decode(Vendor.self)
    }

    func deliveries(_ http: any TestClientProtocol, of vendor: Vendor) async throws -> [WebhookDelivery] {
        try await http.send(.get, "/v1/vendors/\(vendor.id)/deliveries", token: TestCredentials.adminToken).decode(Page<WebhookDelivery>.self).items
    }

    /// The receiver checks what a vendor would: the signature under its secret, and the body.
    func verify(_ received: WebhookReceiver.Received, secret: String) throws -> VendorWebhook {
        try WebhookSignature.verify(
            id: received.headers["webhook-id"], timestamp: received.headers["webhook-timestamp"], signatures: received.headers["webhook-signature"],
            body: received.body, secret: secret, now: Date())
        return try JSONCoding.decoder.decode(VendorWebhook.self, from: received.body)
    }

    @Test(.freshDatabase) func aWebhookIsSignedRetriedWhileTheVendorIsDownAndRedeliveredOnDemand() async throws {
        let receiver = try WebhookReceiver()
        receiver.behave(.answer(503))
        try await receiver.serving {
            try await withVendorBridge { http, db in
                let vendor = try await register(http, name: "Acme", url: receiver.url)
                let secret = try #require(vendor.signingSecret)
                let (_, caseID) = try await VendorBridgeTests().escalate(http, db, to: vendor.id)
                // Down: attempts keep coming, each the same webhook and each signed afresh.
                _ = try await HTTP.eventually { receiver.received.count >= 2 ? true : nil }
                receiver.behave(.answer(204))
                let delivered = try await HTTP.eventually { try await deliveries(http, of: vendor).first { $0.status == .delivered } }
                let attempts = delivered.attempts
                #expect(attempts.count >= 3 && attempts.dropLast().allSatisfy { $0.statusCode == 503 } && attempts.last?.statusCode == 204)
                let received = receiver.received
                #expect(Set(received.compactMap { $0.headers["webhook-id"] }) == [delivered.id.uuidString.lowercased()])
                for request in received {
                    let webhook = try verify(request, secret: secret)
                    #expect(webhook.type == .caseOpened && webhook.data.case.id == caseID)
                }
                // A wrong secret, a changed body or an old timestamp does not verify.
                let last = try #require(received.last)
                let other = try await register(http, name: "Globex", url: receiver.url)
                #expect(throws: WebhookSignature.Failure.self) { _ = try verify(last, secret: try #require(other.signingSecret)) }
                var changed = last
                changed.body = Data(String(decoding: last.body, as: UTF8.self).replacingOccurrences(of: "open", with: "closed").utf8)
                #expect(throws: WebhookSignature.Failure.self) { _ = try verify(changed, secret: secret) }
                #expect(throws: WebhookSignature.Failure.self) {
                    try WebhookSignature.verify(
                        id: last.headers["webhook-id"], timestamp: last.headers["webhook-timestamp"], signatures: last.headers["webhook-signature"],
                        body: last.body, secret: secret, now: Date().addingTimeInterval(600))
                }

                // Redelivery: the same webhook once more, logged as another attempt.
                let before = receiver.received.count
                let again = try await http.send(.post, "/v1/deliveries/\(delivered.id)/redeliver", token: TestCredentials.adminToken)
                #expect(again.status == .accepted)
                _ = try await HTTP.eventually { receiver.received.count > before ? true : nil }
                #expect(receiver.received.last?.headers["webhook-id"] == delivered.id.uuidString.lowercased())
                let redelivered = try await HTTP.eventually {
                    try await deliveries(http, of: vendor).first { $0.status == .delivered && $0.attempts.count == attempts.count + 1 }
                }
                #expect(redelivered.id == delivered.id)
                #expect(try await http.send(.post, "/v1/deliveries/\(UUID())/redeliver", token: TestCredentials.adminToken).status == .notFound)
            }
        }
    }

    @Test(.freshDatabase) func aWebhookIsDeadAfterTheLastAttempt() async throws {
        let receiver = try WebhookReceiver()
        receiver.behave(.answer(500))
        try await receiver.serving {
            try await withVendorBridge { http, db in
                let vendor = try await register(http, name: "Acme", url: receiver.url)
                _ = try await VendorBridgeTests().escalate(http, db, to: vendor.id)
                let dead = try await HTTP.eventually { try await deliveries(http, of: vendor).first { $0.status == .dead } }
                // The first attempt and one per wait of the schedule (three here).
                #expect(dead.attempts.count == 4 && dead.attempts.allSatisfy { $0.statusCode == 500 } && dead.deadAt != nil)
                #expect(receiver.received.count == 4)
            }
        }
    }

    /// A vendor that never answers ties up its own slots (two per replica) and nothing else.
    @Test(.freshDatabase) func aHangingVendorDoesNotHoldUpAnother() async throws {
        let hanging = try WebhookReceiver()
        hanging.behave(.hang(.seconds(120)))
        let healthy = try WebhookReceiver()
        try await hanging.serving {
            try await healthy.serving {
                // Attempts wait a minute for an answer, so the slow vendor's stay open however slow this machine is.
                try await withVendorBridge(["TIERDESK_WEBHOOK_TIMEOUT_MS": "60000"]) { http, db in
                    let slow = try await register(http, name: "Slow", url: hanging.url)
                    let fast = try await register(http, name: "Fast", url: healthy.url)
                    for _ in 0..<3 { _ = try await VendorBridgeTests().escalate(http, db, to: slow.id) }
                    _ = try await HTTP.eventually { hanging.received.count == 2 ? true : nil }
                    _ = try await VendorBridgeTests().escalate(http, db, to: fast.id)
                    let delivered = try await HTTP.eventually { try await deliveries(http, of: fast).first { $0.status == .delivered } }
                    #expect(delivered.attempts.count == 1)
                    // Meanwhile the slow vendor's first attempts are still waiting for an answer, and its third waits its turn.
                    #expect(hanging.received.count == 2)
                    #expect(try await deliveries(http, of: slow).allSatisfy { $0.attempts.isEmpty })
                }
            }
        }
    }

    /// The target is checked again at every attempt: a webhook URL that now points inside the network
    /// (say a name that resolves there since) is refused without a connection, and logged as such.
    @Test(.freshDatabase) func aTargetThatTurnedInternalIsRefusedAtDelivery() async throws {
        try await withVendorBridge { http, db in
            let vendor = try await register(http, name: "Acme", url: "https://acme.example.com/hooks")
            try await db.client.execute("UPDATE vendors SET webhook_url = 'https://10.1.2.3/hooks' WHERE id = \(vendor.id)", logger: db.logger)
            _ = try await VendorBridgeTests().escalate(http, db, to: vendor.id)
            let refused = try await HTTP.eventually { try await deliveries(http, of: vendor).first { !$0.attempts.isEmpty } }
            let attempt = try #require(refused.attempts.first)
            #expect(attempt.statusCode == nil && attempt.error?.contains("points inside the network") == true)
        }
    }
}

/// The delivery log keeps delivered webhooks for a while, dead ones until they are sent again.
@Suite struct WebhookLogCleanupTests {
    @Test(.freshDatabase) func deliveredWebhooksPastTheirDaysAreRemovedWithTheirAttempts() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let vendor = try await VendorStore(sealingKey: TestCredentials.sealingKey).create(
                CreateVendorRequest(name: "Acme", webhookUrl: "https://acme.example.com", categories: []), on: client, now: Date(), logger: db.logger)
            var ids: [String: UUID] = [:]
            for (name, status, age) in [("old", "delivered", 40), ("recent", "delivered", 5), ("dead", "dead", 40)] {
                let id = UUID()
                ids[name] = id
                try await client.execute(
                    """
                    INSERT INTO webhook_deliveries (id, vendor_id, type, body, status, attempts, next_attempt_at, created_at, delivered_at, dead_at)
                    VALUES (\(id), \(vendor.id), 'vendor.case_opened', '{}', \(status), 1, now(), now() - make_interval(days => \(Int32(age))),
                        CASE WHEN \(status) = 'delivered' THEN now() - make_interval(days => \(Int32(age))) END,
                        CASE WHEN \(status) = 'dead' THEN now() - make_interval(days => \(Int32(age))) END)
                    """, logger: db.logger)
                try await client.execute(
                    "INSERT INTO webhook_delivery_attempts (delivery_id, started_at, status_code, latency_ms) VALUES (\(id), now(), 204, 3)",
                    logger: db.logger)
            }
            #expect(try await WebhookDeliveryStore().prune(olderThanDays: 30, on: client, logger: db.logger) == 1)
            let left = try await client.all("SELECT id FROM webhook_deliveries", logger: db.logger) { try $0.get("id", as: UUID.self) }
            #expect(Set(left) == [ids["recent"]!, ids["dead"]!])
            #expect(try await db.count("webhook_delivery_attempts") == 2)
        }
    }
}
