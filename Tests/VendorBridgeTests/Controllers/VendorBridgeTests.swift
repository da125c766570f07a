import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport
import VendorBridgeApp

@Suite struct VendorBridgeTests {
    func withVendorBridge(
        clock: any WallClock = SystemClock(), _ test: @Sendable @escaping (any TestClientProtocol, StoreFixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp({ try await VendorBridgeApp.buildApplication(reader: $0, clock: clock) }) { http in
                try await test(http, StoreFixture(client: client))
            }
        }
    }

    func register(_ http: any TestClientProtocol, name: String, categories: [String] = ["network"]) async throws -> Vendor {
        try await registerAt(http, name: name, url: "https://\(name.lowercased()).example.com/hook", categories: categories)
    }

    func registerAt(_ http: any TestClientProtocol, name: String, url: String, categories: [String] = ["network"]) async throws -> Vendor {
        try await http.send(
            .post, "/v1/vendors", token: TestCredentials.adminToken, json: CreateVendorRequest(name: name, webhookUrl: url, categories: categories)
        ).decode(Vendor.self)
    }

    /// A ticket held by `owner` at level 3, escalated to `vendor`, delivered to vendor-bridge as
    /// tier-queue's dispatcher would (twice: a repeat changes nothing); the ticket and its case id.
    func escalate(
        _ http: any TestClientProtocol, _ db: StoreFixture, owner: AgentIdentity = .fixture(tiers: [.specialist]), to vendor: UUID
    ) async throws -> (Ticket, UUID) {
        let ticket = try await db.inProgress(tier: .specialist, agent: owner)
        let escalated = try await db.change(ticket.id) {
            $0.status = .pendingVendor
            $0.tier = .vendor
            $0.vendorId = vendor
        }
        let event = EventEnvelope(
            type: .ticketEscalated, ticketId: ticket.id, occurredAt: Date(),
            data: ["toTier": 4, "fromTier": 3, "reason": "firmware bug", "vendorId": .string(vendor.uuidString)])
        #expect(try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event).status == .ok)
        #expect(try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event).status == .ok)  // a repeat
        let caseID = try #require(
            try await db.client.first("SELECT id FROM vendor_cases WHERE ticket_id = \(ticket.id)", logger: db.logger) { try $0.get("id", as: UUID.self) })
        return (escalated, caseID)
    }

    @Test(.freshDatabase) func registrationReturnsSecretsOnceAndStoresThemSafely() async throws {
        try await withVendorBridge { http, db in
            let vendor = try await register(http, name: "Acme")
            #expect(vendor.apiKey?.hasPrefix("tdv_") == true && vendor.signingSecret?.hasPrefix("whsec_") == true)
            let secretBytes = Data(base64Encoded: String(vendor.signingSecret!.dropFirst(6)))
            #expect(secretBytes?.count == 32)
            let row = try #require(
                try await db.client.first("SELECT api_key_hash, signing_secret_sealed FROM vendors", logger: db.logger) {
                    (try $0.get("api_key_hash", as: Data.self), try $0.get("signing_secret_sealed", as: Data.self))
                })
            #expect(row.0 == Secrets.hash(vendor.apiKey!))
            #expect(try Secrets.open(row.1, secret: TestCredentials.secret) == vendor.signingSecret)
            let listed = try await http.send(.get, "/v1/vendors", token: TestCredentials.adminToken).decode(Page<Vendor>.self)
            #expect(listed.items.count == 1 && listed.items[0].apiKey == nil && listed.items[0].signingSecret == nil)
            #expect(
                try await http.send(
                    .post, "/v1/vendors", token: TestCredentials.adminToken,
                    json: CreateVendorRequest(name: "Acme", webhookUrl: "https://a.example.com", categories: [])
                ).status == .conflict)
            let invalid = try await http.send(
                .post, "/v1/vendors", token: TestCredentials.adminToken, raw: #"{"name":"X","webhookUrl":"javascript:alert(1)","categories":["Bad Cat"]}"#)
            #expect(try invalid.status == .unprocessableContent && Set(invalid.problem().errors?.map(\.field) ?? []) == ["webhookUrl", "categories[0]"])
            #expect(
                try await http.send(
                    .post, "/v1/vendors", token: vendor.apiKey, json: CreateVendorRequest(name: "Y", webhookUrl: "https://y.example.com", categories: [])
                ).status == .forbidden)
            #expect(try await db.count("vendors") == 1)
        }
    }

    @Test(.freshDatabase) func matchFindsTheNamedOrTheCoveringVendor() async throws {
        try await withVendorBridge { http, _ in
            let acme = try await register(http, name: "Acme", categories: ["network"])
            _ = try await register(http, name: "Printco", categories: ["printing"])
            func match(_ query: String) async throws -> UUID? {
                struct Match: Decodable { var vendorId: UUID? }
                return try await http.send(.get, "/internal/v1/vendors/match?\(query)", token: TestCredentials.internalToken).decode(Match.self).vendorId
            }
            #expect(try await match("category=network") == acme.id)
            #expect(try await match("vendorId=\(acme.id)") == acme.id)
            #expect(try await match("vendorId=\(UUID())") == nil)
            #expect(try await match("category=email") == nil)
            #expect(try await http.send(.get, "/internal/v1/vendors/match?category=network", token: TestCredentials.adminToken).status == .forbidden)
        }
    }

    @Test(.freshDatabase) func vendorSeesOnlyItsOwnCases() async throws {
        try await withVendorBridge { http, db in
            let acme = try await register(http, name: "Acme")
            let other = try await register(http, name: "Other")
            let (ticket, caseID) = try await escalate(http, db, to: acme.id)
            #expect(try await db.count("vendor_cases") == 1)
            let cases = try await http.send(.get, "/v1/vendor/cases", token: acme.apiKey).decode(Page<VendorCase>.self)
            #expect(cases.items.map(\.id) == [caseID] && cases.items[0].ticketReference == ticket.reference && cases.items[0].status == .open)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: other.apiKey).decode(Page<VendorCase>.self).items.isEmpty)
            #expect(try await http.send(.get, "/v1/vendor/cases?status=open", token: acme.apiKey).decode(Page<VendorCase>.self).items.map(\.id) == [caseID])
            #expect(try await http.send(.get, "/v1/vendor/cases?status=resolved", token: acme.apiKey).decode(Page<VendorCase>.self).items.isEmpty)
            let badStatus = try await http.send(.get, "/v1/vendor/cases?status=done", token: acme.apiKey)
            #expect(try badStatus.status == .unprocessableContent && badStatus.problem().errors?.map(\.field) == ["status"])
            #expect(try await http.send(.get, "/v1/vendor/cases/\(caseID)", token: other.apiKey).status == .notFound)
            #expect(try await http.send(.get, "/v1/vendor/cases/\(caseID)", token: TestCredentials.adminToken).status == .forbidden)
            #expect(try await http.send(.get, "/v1/vendor/cases").status == .unauthorized)
            let events = try await db.store.events(of: ticket.id, publicOnly: false, on: db.client, logger: db.logger)
            #expect(events.filter { $0.type == .vendorCaseOpened }.count == 1)
        }
    }

    @Test(.freshDatabase) func updatesMoveTheCaseAndTheTicket() async throws {
        try await withVendorBridge { http, db in
            let acme = try await register(http, name: "Acme")
            let (ticket, caseID) = try await escalate(http, db, to: acme.id)
            let path = "/v1/vendor/cases/\(caseID)/updates"
            let bad = try await http.send(.post, path, token: acme.apiKey, raw: #"{"status":"done","message":"x"}"#)
            #expect(try bad.status == .unprocessableContent && bad.problem().errors?.first?.field == "status")
            let ack = try await http.send(
                .post, path, token: acme.apiKey,
                json: VendorUpdateRequest(status: .acknowledged, message: "Looking at it", eta: Date().addingTimeInterval(3600)))
            #expect(try ack.decode(VendorCase.self).status == .acknowledged)
            #expect(try await db.store.find(ticket.id, on: db.client, logger: db.logger)?.status == .pendingVendor)
            let resolved = try await http.send(.post, path, token: acme.apiKey, json: VendorUpdateRequest(status: .resolved, message: "Firmware 2.1 fixes it"))
            let resolvedCase = try resolved.decode(VendorCase.self)
            #expect(resolvedCase.status == .resolved && resolvedCase.updates.map(\.status) == [.acknowledged, .resolved])
            // Back to level 3 for verification; its owner is not an agent here, so it waits in the queue.
            let back = try #require(try await db.store.find(ticket.id, on: db.client, logger: db.logger))
            #expect(back.status == .queued && back.tier == .specialist && back.vendorId == nil)
            #expect(try await http.send(.post, path, token: acme.apiKey, json: VendorUpdateRequest(status: .inProgress, message: "more")).status == .conflict)
        }
    }

    /// A webhook pointing inside the network is refused at registration, and nothing is stored.
    @Test(.freshDatabase) func webhooksMayNotPointInsideTheNetwork() async throws {
        try await withVendorBridge { http, db in
            for url in ["https://127.0.0.1/hooks", "https://localhost:8443/hooks", "https://169.254.169.254/latest", "http://vendor.example.com/hooks"] {
                let refused = try await http.send(
                    .post, "/v1/vendors", token: TestCredentials.adminToken, json: CreateVendorRequest(name: "Sneaky", webhookUrl: url, categories: []))
                #expect(try refused.status == .unprocessableContent && refused.problem().errors?.map(\.field) == ["webhookUrl"], "\(url)")
            }
            #expect(try await db.count("vendors") == 0)
        }
    }

    /// A vendor retrying an update with its `Idempotency-Key` gets the first answer and records nothing
    /// new; the key with another body is 422; another vendor with the same key and case id learns nothing.
    @Test(.freshDatabase) func aRetriedUpdateIsRecordedOnce() async throws {
        try await withVendorBridge { http, db in
            let acme = try await register(http, name: "Acme")
            let other = try await register(http, name: "Other")
            let (ticket, caseID) = try await escalate(http, db, to: acme.id)
            let path = "/v1/vendor/cases/\(caseID)/updates"
            let update = VendorUpdateRequest(status: .acknowledged, message: "Looking at it")
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "retry-1"]
            let first = try await http.send(.post, path, token: acme.apiKey, json: update, headers: key)
            let again = try await http.send(.post, path, token: acme.apiKey, json: update, headers: key)
            #expect(first.status == .ok && again.status == .ok && again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try again.decode(VendorCase.self) == first.decode(VendorCase.self))
            let changed = try await http.send(.post, path, token: acme.apiKey, json: VendorUpdateRequest(status: .inProgress, message: "x"), headers: key)
            #expect(try changed.status == .unprocessableContent && changed.problem().type.hasSuffix("idempotency-key-reused"))
            #expect(try await http.send(.post, path, token: other.apiKey, json: update, headers: key).status == .notFound)
            let events = try await db.store.events(of: ticket.id, publicOnly: false, on: db.client, logger: db.logger)
            #expect(events.filter { $0.type == .vendorUpdated }.count == 1)
            #expect(try await db.count("vendor_case_updates") == 1)
        }
    }

    @Test(.freshDatabase) func rejectionReturnsTheTicketToLevelThree() async throws {
        try await withVendorBridge { http, db in
            let acme = try await register(http, name: "Acme")
            let (ticket, caseID) = try await escalate(http, db, to: acme.id)
            let rejected = try await http.send(
                .post, "/v1/vendor/cases/\(caseID)/updates", token: acme.apiKey, json: VendorUpdateRequest(status: .rejected, message: "Not our product"))
            #expect(rejected.status == .ok)
            let back = try #require(try await db.store.find(ticket.id, on: db.client, logger: db.logger))
            #expect(back.status == .queued && back.tier == .specialist && back.assigneeId == nil)
            // The case keeps its status, closed: listed as rejected, taking no more updates.
            let listed = try await http.send(.get, "/v1/vendor/cases?status=rejected", token: acme.apiKey).decode(Page<VendorCase>.self).items
            #expect(listed.map(\.id) == [caseID] && listed[0].closedAt != nil)
            let more = try await http.send(
                .post, "/v1/vendor/cases/\(caseID)/updates", token: acme.apiKey, json: VendorUpdateRequest(status: .inProgress, message: "Actually..."))
            #expect(try more.status == .conflict && more.problem().type.hasSuffix("case-closed"))
        }
    }

    /// `GET /v1/vendors` pages by name with `?limit=` and `?cursor=`; the last page's cursor is null.
    @Test(.freshDatabase) func vendorsArePagedByName() async throws {
        try await withVendorBridge { http, _ in
            // Registered out of order; a name may hold the `|` that separates a cursor's parts.
            for name in ["Echo", "Acme", "Charlie", "Bravo"] { _ = try await register(http, name: name) }
            _ = try await http.send(
                .post, "/v1/vendors", token: TestCredentials.adminToken,
                json: CreateVendorRequest(name: "Delta|Ops", webhookUrl: "https://delta.example.com/hook", categories: []))
            let listed = try await http.send(.get, "/v1/vendors?limit=200", token: TestCredentials.adminToken).decode(Page<Vendor>.self)
            let charlie = try #require(listed.items.first { $0.name == "Charlie" })
            let paused = try await http.send(.patch, "/v1/vendors/\(charlie.id)", token: TestCredentials.adminToken, json: UpdateVendorRequest(active: false))
            #expect(paused.status == .ok)  // deactivated: left out of every page
            func walk(limit: Int) async throws -> [[String]] {
                var pages: [[String]] = []
                var cursor: String?
                repeat {
                    let page = try await http.send(
                        .get, "/v1/vendors?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""), token: TestCredentials.adminToken
                    ).decode(Page<Vendor>.self)
                    #expect(page.items.allSatisfy { $0.apiKey == nil && $0.signingSecret == nil })
                    pages.append(page.items.map(\.name))
                    cursor = page.nextCursor
                    try #require(pages.count <= 10, "paging ends")
                } while cursor != nil
                return pages
            }
            #expect(try await walk(limit: 1) == [["Acme"], ["Bravo"], ["Delta|Ops"], ["Echo"]])
            #expect(try await walk(limit: 3) == [["Acme", "Bravo", "Delta|Ops"], ["Echo"]])
            #expect(try await walk(limit: 4) == [["Acme", "Bravo", "Delta|Ops", "Echo"]], "a page exactly as long as the list is the last")
            let whole = try await http.send(.get, "/v1/vendors", token: TestCredentials.adminToken).decode(Page<Vendor>.self)
            #expect(whole.items.map(\.name) == ["Acme", "Bravo", "Delta|Ops", "Echo"] && whole.nextCursor == nil, "50 by default")
        }
    }

    @Test(.freshDatabase) func aBadVendorPageIs422() async throws {
        try await withVendorBridge { http, _ in
            let foreign = Cursor.encode(["1700000000000000", UUID().uuidString, "x"])  // another list's shape
            let notAUUID = Cursor.encode([Secrets.base64URL(Data("Acme".utf8)), "x"])
            for (query, field) in [
                ("limit=0", "limit"), ("limit=201", "limit"), ("limit=-3", "limit"), ("limit=many", "limit"), ("cursor=%21%21", "cursor"),
                ("cursor=\(foreign)", "cursor"), ("cursor=\(notAUUID)", "cursor"), ("cursor=", "cursor"),
            ] {
                let response = try await http.send(.get, "/v1/vendors?\(query)", token: TestCredentials.adminToken)
                #expect(response.status == .unprocessableContent, "\(query)")
                #expect(try response.problem().errors?.map(\.field) == [field], "\(query)")
            }
            #expect(try await http.send(.get, "/v1/vendors?limit=200", token: TestCredentials.adminToken).status == .ok)
            #expect(try await http.send(.get, "/v1/vendors?limit=2").status == .unauthorized)
        }
    }

    @Test func vendorCursorsRoundTrip() {
        let cursor = VendorCursor(name: "Delta|Ops ünïcode", id: UUID())
        #expect(VendorCursor(encoded: cursor.encoded) == cursor)
        #expect(VendorCursor(encoded: "") == nil && VendorCursor(encoded: CaseCursor(openedAtMicroseconds: 1, id: UUID()).encoded) == nil)
    }

    @Test func openAPIDocumentsEveryRoute() throws {
        let reader = TestCredentials.reader(database: try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d"))
        let runtime = try ServiceRuntime(
            configuration: try TierdeskConfiguration(
                reader: reader, serviceName: VendorBridge.serviceName, defaultPort: 8083, keys: VendorBridgeDependencies.keyPurposes))
        #expect(
            OpenAPICheck.documented(VendorBridge.openAPI) == OpenAPICheck.served(VendorBridgeApp.buildRouter(try VendorBridgeDependencies(runtime: runtime))))
    }
}

/// Issue 11, items 10 and 11: the internal token opens a case only for a ticket that waits on the
/// vendor at level 4; the admin deactivates vendors and rotates their keys.
@Suite struct VendorAccessTests {
    @Test(.freshDatabase) func aCaseOpensOnlyForATicketThatWaitsOnThatVendor() async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(VendorBridgeApp.buildApplication) { http in
                let db = StoreFixture(client: client)
                let vendor = try await VendorBridgeTests().register(http, name: "Acme")
                let other = try await VendorBridgeTests().register(http, name: "Globex")
                let queued = try await db.queued(tier: .specialist)
                func escalation(_ ticket: UUID, _ vendor: UUID) -> EventEnvelope {
                    EventEnvelope(
                        type: .ticketEscalated, ticketId: ticket, occurredAt: Date(),
                        data: ["toTier": 4, "reason": "r", "vendorId": .string(vendor.uuidString)])
                }
                func post(_ events: EventEnvelope...) async throws -> [EventResult] {
                    try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: EventBatch(events: events))
                        .decode(EventBatchResult.self).results
                }
                // A forged escalation of a ticket still in the level 3 queue: refused, nothing opened.
                let forged = try await post(escalation(queued.id, vendor.id))
                #expect(forged.map(\.status) == [.rejected] && forged[0].reason?.contains("not waiting on vendor") == true)
                // A ticket waiting on another vendor: refused too.
                _ = try await db.change(queued.id) {
                    $0.status = .pendingVendor
                    $0.tier = .vendor
                    $0.vendorId = other.id
                }
                #expect(try await post(escalation(queued.id, vendor.id)).map(\.status) == [.rejected])
                // Events vendor-bridge does not consume.
                #expect(try await post(EventEnvelope(type: .ticketQueued, ticketId: queued.id, occurredAt: Date(), data: [:])).map(\.status) == [.rejected])
                #expect(try await db.count("vendor_cases") == 0)
                #expect(try await db.count("inbox") == 0)
                // One batch with a poison event and the genuine one: each gets its own result; then the genuine one again.
                let genuine = escalation(queued.id, other.id)
                let poison = escalation(try await db.queued(tier: .specialist).id, other.id)
                let mixed = try await post(poison, genuine)
                #expect(mixed.map(\.status) == [.rejected, .applied])
                #expect(try await post(genuine).map(\.status) == [.duplicate])
                #expect(try await db.count("vendor_cases") == 1)

            }
        }
    }

    @Test(.freshDatabase) func theAdminDeactivatesVendorsAndRotatesTheirKeys() async throws {
        let clock = ManualClock(Date())
        try await TestDatabase.withClient { client in
            try await withLiveApp({ try await VendorBridgeApp.buildApplication(reader: $0, clock: clock) }) { http in
                let db = StoreFixture(client: client)
                let acme = try await VendorBridgeTests().register(http, name: "Acme")
                let globex = try await VendorBridgeTests().register(http, name: "Globex")
                let (oldKey, globexKey) = (try #require(acme.apiKey), try #require(globex.apiKey))
                #expect(try await http.send(.get, "/v1/vendor/cases", token: oldKey).status == .ok)
                #expect(try await http.send(.post, "/v1/vendors/\(acme.id)/api-key", token: oldKey).status == .forbidden)
                let rotated = try await http.send(.post, "/v1/vendors/\(acme.id)/api-key", token: TestCredentials.adminToken).decode(Vendor.self)
                let newKey = try #require(rotated.apiKey)
                #expect(newKey != oldKey && rotated.signingSecret == nil)
                #expect(try await http.send(.get, "/v1/vendor/cases", token: newKey).status == .ok)
                let hash = try await db.client.first("SELECT api_key_hash FROM vendors WHERE id = \(acme.id)", logger: db.logger) {
                    try $0.get("api_key_hash", as: Data.self)
                }
                #expect(hash == Secrets.hash(newKey))
                let paused = try await http.send(
                    .patch, "/v1/vendors/\(globex.id)", token: TestCredentials.adminToken, json: UpdateVendorRequest(categories: ["email"], active: false))
                #expect(try paused.decode(Vendor.self).active == false && paused.decode(Vendor.self).categories == ["email"])
                #expect(
                    try await http.send(.patch, "/v1/vendors/\(UUID())", token: TestCredentials.adminToken, json: UpdateVendorRequest(active: false)).status
                        == .notFound)
                #expect(try await http.send(.patch, "/v1/vendors/\(acme.id)", token: TestCredentials.adminToken, raw: "{}").status == .unprocessableContent)
                clock.advance(by: Authenticator.cacheLifetime)
                #expect(try await http.send(.get, "/v1/vendor/cases", token: oldKey).status == .unauthorized)
                #expect(try await http.send(.get, "/v1/vendor/cases", token: globexKey).status == .unauthorized)
                #expect(try await http.send(.get, "/v1/vendor/cases", token: newKey).status == .ok)
            }
        }
    }
}
