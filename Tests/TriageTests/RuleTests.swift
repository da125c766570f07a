import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport
import TriageApp

/// Triage against a real PostgreSQL through its HTTP API: rules managed and explained, every route
/// a rule can take, priority with VIPs and category defaults, rules shared by replicas, and the
/// classifier trained on the demo history.
@Suite struct RuleTests {
    static let admin = TestCredentials.adminToken
    static let internalToken = TestCredentials.internalToken

    /// A new ticket, stored as intake stores it, and its `ticket.created` hand-off.
    static func submit(
        _ db: StoreFixture, _ subject: String, _ description: String = "details", channel: TierdeskModels.Channel = .web, category: String? = nil,
        impact: Impact? = nil, urgency: Urgency? = nil, email: String? = nil, requester: UUID? = nil, metadata: [String: JSONValue] = [:],
        by submitter: SubmittedBy = .agent, verified: Bool? = nil
    ) async throws -> EventEnvelope {
        var requesterID = requester
        if requesterID == nil { requesterID = try await db.requester(email ?? "r\(UUID().uuidString.prefix(8).lowercased())@nordlicht.example") }
        let requester = requesterID!
        let draft = TicketDraft(
            impact: impact ?? .medium, urgency: urgency ?? .medium, category: category, channel: channel, subject: subject, description: description,
            requesterID: requester, metadata: metadata)
        // As intake describes a submission: by default an agent's, which vouches for what it sets.
        let facts = SubmissionFacts(
            defaulted: Set([impact == nil ? "impact" : nil, urgency == nil ? "urgency" : nil].compactMap { $0 }), submittedBy: submitter,
            requesterVerified: verified ?? submitter.vouches)
        let data = TicketCreated(channel: channel, facts: facts).data
        try await db.client.transaction(logger: db.logger) { connection in
            _ = try await db.store.insert(
                draft, event: EventDraft(id: draft.id, type: .ticketCreated, actor: "test", data: data), on: connection, now: Date(), logger: db.logger)
        }
        return EventEnvelope(id: draft.id, type: .ticketCreated, ticketId: draft.id, occurredAt: Date(), data: data)
    }

    static func deliver(_ http: any TestClientProtocol, _ events: [EventEnvelope]) async throws -> [EventResult] {
        try await http.send(.post, "/internal/v1/events", token: internalToken, json: EventBatch(events: events)).decode(EventBatchResult.self).results
    }

    static func create(_ http: any TestClientProtocol, _ rule: RuleRequest) async throws -> TriageRule {
        let response = try await http.send(.post, "/v1/rules", token: admin, json: rule)
        #expect(response.status == .created)
        return try response.decode(TriageRule.self)
    }

    @Test(.freshDatabase) func rulesAreManagedInOrderAndBadOnesStoreNothing() async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(TriageApp.buildApplication) { http in
                let vpn = try await Self.create(http, RuleRequest(name: "vpn", match: RuleMatch(keywords: ["vpn"]), route: RuleRoute(tier: 2)))
                let first = try await Self.create(
                    http, RuleRequest(name: "first", position: 1, match: RuleMatch(channels: [.phone]), route: RuleRoute(tier: 3)))
                let last = try await Self.create(http, RuleRequest(name: "last", match: RuleMatch(categories: ["printing"]), route: RuleRoute(tier: 1)))
                #expect(vpn.position == 10 && last.position == 20, "without a position a rule goes last")
                let page = try await http.send(.get, "/v1/rules", token: Self.admin).decode(Page<TriageRule>.self)
                #expect(page.items.map(\.name) == ["first", "vpn", "last"] && page.nextCursor == nil)
                let paged = try await http.send(.get, "/v1/rules?limit=2", token: Self.admin).decode(Page<TriageRule>.self)
                let rest = try await http.send(.get, "/v1/rules?limit=2&cursor=\(paged.nextCursor ?? "")", token: Self.admin).decode(Page<TriageRule>.self)
                #expect(paged.items.map(\.name) == ["first", "vpn"] && rest.items.map(\.name) == ["last"] && rest.nextCursor == nil)

                let moved = try await http.send(
                    .put, "/v1/rules/\(first.id)", token: Self.admin,
                    json: RuleRequest(name: "first, now last", position: 99, match: RuleMatch(channels: [.phone]), route: RuleRoute(tier: 3)))
                #expect(try moved.decode(TriageRule.self).position == 99)
                #expect(try await http.send(.get, "/v1/rules/\(first.id)", token: Self.admin).decode(TriageRule.self).name == "first, now last")
                #expect(try await http.send(.delete, "/v1/rules/\(vpn.id)", token: Self.admin).status == .noContent)
                #expect(try await http.send(.get, "/v1/rules/\(vpn.id)", token: Self.admin).status == .notFound)
                #expect(try await http.send(.delete, "/v1/rules/\(vpn.id)", token: Self.admin).status == .notFound)

                let count = try await StoreFixture(client: client).count("triage_rules")
                for (bad, field) in [
                    (#"{"name":"x","match":{},"route":{"tier":2}}"#, "match"),
                    (#"{"name":"x","match":{"keywords":["a"]},"route":{"tier":7}}"#, "route.tier"),
                    (#"{"name":"x","match":{"keywords":["a"]},"route":{"tier":2,"reject":"no"}}"#, "route"),
                    (#"{"name":"x","match":{"keywords":["a"]},"route":{"vendorId":"6f1c2b9e-0000-4000-8000-000000000001"}}"#, "route.vendorId"),
                    (#"{"name":"x","match":{"channels":["fax"]},"route":{"tier":2}}"#, ""),
                ] {
                    let response = try await http.send(.post, "/v1/rules", token: Self.admin, raw: bad)
                    #expect(response.status == .unprocessableContent, "\(bad)")
                    if !field.isEmpty { #expect(try response.problem().errors?.map(\.field).contains(field) == true, "\(bad)") }
                }
                #expect(try await StoreFixture(client: client).count("triage_rules") == count, "a refused rule stores nothing")
                #expect(try await http.send(.get, "/v1/rules").status == .unauthorized)
                let wrongMethod = try await http.send(.put, "/v1/rules/test", token: Self.admin, json: RuleTestRequest(subject: "s", description: "d"))
                #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.headers[.allow] == "POST", "a literal path is not a rule id")
                #expect(
                    try await http.send(
                        .post, "/v1/rules", token: Self.internalToken,
                        json: RuleRequest(name: "x", match: RuleMatch(keywords: ["a"]), route: RuleRoute(tier: 1))
                    ).status == .forbidden)
            }
        }
    }

    @Test(.freshDatabase) func theDryRunExplainsAMatchAndAMissAndStoresNothing() async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(TriageApp.buildApplication) { http in
                let printers = try await Self.create(
                    http, RuleRequest(name: "printers", match: RuleMatch(keywords: ["printer", "toner"]), route: RuleRoute(tier: 1, category: "printing")))
                _ = try await Self.create(http, RuleRequest(name: "vpn", match: RuleMatch(keywords: ["vpn"]), route: RuleRoute(tier: 2, skills: ["network"])))
                let events = try await StoreFixture(client: client).count("ticket_events")
                let hit = try await http.send(
                    .post, "/v1/rules/test", token: Self.admin, json: RuleTestRequest(subject: "VPN keeps dropping", description: "since this morning"))
                let decision = try hit.decode(TriageDecision.self)
                #expect(decision.tier == 2 && decision.skills == ["network"])
                #expect(decision.explanation.rules.map(\.name) == ["printers", "vpn"])
                #expect(decision.explanation.rules[0].ruleId == printers.id && !decision.explanation.rules[0].matched)
                #expect(decision.explanation.rules[0].reason.contains("none of the keywords [printer, toner]"))
                #expect(decision.explanation.rules[1].matched && decision.explanation.priority.result == .p3)
                let miss = try await http.send(
                    .post, "/v1/rules/test", token: Self.admin, json: RuleTestRequest(subject: "Teams crashes", description: "on start", impact: .high))
                let missed = try miss.decode(TriageDecision.self)
                #expect(missed.tier == 1 && missed.ruleId == nil && missed.explanation.rules.allSatisfy { !$0.matched })
                // An anonymous draft's own high impact (P2) is held at the requester cap; vouched for, it stands.
                #expect(missed.explanation.priority.impactFrom == "the requester" && missed.priority == .p3)
                let vouched = try await http.send(
                    .post, "/v1/rules/test", token: Self.admin,
                    json: RuleTestRequest(subject: "Teams crashes", description: "on start", impact: .high, vouched: true)
                ).decode(TriageDecision.self)
                #expect(vouched.priority == .p2 && vouched.explanation.priority.cappedBy == nil)
                #expect(try await StoreFixture(client: client).count("ticket_events") == events, "a dry run stores nothing")
                #expect(try await http.send(.post, "/v1/rules/test", token: Self.admin, raw: #"{"subject":""}"#).status == .unprocessableContent)
            }
        }
    }

    @Test(.freshDatabase) func everyRouteIsTakenAndExplainedInTheTrail() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let vendor = UUID()
            try await client.execute(
                """
                INSERT INTO vendors (id, name, webhook_url, api_key_hash, signing_secret_sealed, created_at)
                VALUES (\(vendor), 'Acme WAN', 'https://acme.example/hook', '\\x01'::bytea, '\\x02'::bytea, now())
                """, logger: db.logger)
            try await withLiveApp(TriageApp.buildApplication) { http in
                for rule in [
                    RuleRequest(name: "coffee", match: RuleMatch(keywords: ["coffee machine"]), route: RuleRoute(reject: "Facilities handle that.")),
                    RuleRequest(name: "wan", match: RuleMatch(keywords: ["mpls"]), route: RuleRoute(category: "network", vendorId: vendor)),
                    RuleRequest(
                        name: "security", match: RuleMatch(keywords: ["phishing"]), route: RuleRoute(tier: 2, category: "security", skills: ["security"])),
                    RuleRequest(name: "alerts", match: RuleMatch(channels: [.api], metadataKeys: ["alertId"]), route: RuleRoute(tier: 3)),
                ] { _ = try await Self.create(http, rule) }
                let coffee = try await Self.submit(db, "The coffee machine is broken")
                let wan = try await Self.submit(db, "MPLS link down in Hamburg")
                let phishing = try await Self.submit(db, "Phishing mail from 'the CEO'")
                let alert = try await Self.submit(db, "Switch 12 unreachable", channel: .api, metadata: ["alertId": "A-1"])
                let plain = try await Self.submit(db, "Teams will not start")
                let results = try await Self.deliver(http, [coffee, wan, phishing, alert, plain])
                #expect(results.map(\.status) == [.applied, .applied, .applied, .applied, .applied])

                func ticket(_ event: EventEnvelope) async throws -> Ticket { try #require(try await db.store.find(event.id, on: client, logger: db.logger)) }
                let closed = try await ticket(coffee)
                #expect(closed.status == .closed && closed.tier == nil)
                let publicTrail = try await db.store.events(of: coffee.id, publicOnly: true, on: client, logger: db.logger)
                #expect(publicTrail.last?.type == .ticketClosed && publicTrail.last?.data["reason"]?.stringValue == "Facilities handle that.")
                #expect(publicTrail.allSatisfy { $0.data["internal"] == nil }, "the requester does not see triage's reasoning")
                let waiting = try await ticket(wan)
                #expect(waiting.status == .pendingVendor && waiting.tier == .vendor && waiting.vendorId == vendor && waiting.category == "network")
                let security = try await ticket(phishing)
                #expect(security.status == .triaged && security.tier == .backOffice && security.requiredSkills == ["security"])
                #expect(try await ticket(alert).tier == .specialist)
                #expect(try await ticket(plain).tier == .firstLine)
                let outbox = try await db.outbox(source: "triage")
                #expect(
                    Set(outbox) == [
                        "vendor-bridge ticket.escalated", "tier-queue:2 ticket.triaged", "tier-queue:3 ticket.triaged", "tier-queue:1 ticket.triaged",
                        // The refusal's close goes to intake like every close; intake mails no refused ticket (`RequesterMail.kind`).
                        "intake ticket.closed",
                    ])

                let trail = try await db.store.events(of: phishing.id, publicOnly: false, on: client, logger: db.logger)
                let triaged = try #require(trail.first { $0.type == .ticketTriaged })
                #expect(triaged.data["internal"]?["rule"]?["name"]?.stringValue == "security")
                let explanation = try JSONCoding.decoder.decode(
                    TriageExplanation.self, from: JSONCoding.encoder.encode(try #require(triaged.data["internal"]?["explanation"])))
                #expect(explanation.rules.map(\.matched) == [false, false, true])
                #expect(try await Self.deliver(http, [phishing]).map(\.status) == [.duplicate])
            }
        }
    }

    @Test(.freshDatabase) func vipsAndCategoryDefaultsSetThePriority() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await withLiveApp(TriageApp.buildApplication) { http in
                #expect(try await http.send(.post, "/v1/vip", token: Self.admin, json: VIPRequest(email: "CEO@nordlicht.example")).status == .created)
                #expect(try await http.send(.post, "/v1/vip", token: Self.admin, json: VIPRequest(domain: "board.example")).status == .created)
                #expect(try await http.send(.post, "/v1/vip", token: Self.admin, json: VIPRequest()).status == .unprocessableContent)
                #expect(
                    try await http.send(.put, "/v1/categories/printing", token: Self.admin, json: CategoryDefaultsRequest(impact: .low, urgency: .low)).status
                        == .ok)
                let ceo = try await Self.submit(db, "Laptop slow", email: "ceo@nordlicht.example")
                let board = try await Self.submit(db, "Laptop slow", impact: .high, urgency: .medium, email: "x@board.example")
                let printing = try await Self.submit(db, "Toner empty", category: "printing")
                let given = try await Self.submit(db, "Toner empty", category: "printing", impact: .high, urgency: .high)
                _ = try await Self.deliver(http, [ceo, board, printing, given])
                func priority(_ event: EventEnvelope) async throws -> Priority? { try await db.store.find(event.id, on: client, logger: db.logger)?.priority }
                #expect(try await priority(ceo) == .p2, "P3 raised one step for a VIP")
                #expect(try await priority(board) == .p1, "P2 raised one step for a VIP domain")
                #expect(try await priority(printing) == .p5, "the category's defaults when the requester gave none")
                #expect(try await priority(given) == .p1, "the requester's own values otherwise, when vouched for")
                // The attacks: an anonymous high/high took P1 and its clock; a typed VIP address raised itself.
                let anonymous = try await Self.submit(db, "Toner empty", category: "printing", impact: .high, urgency: .high, by: .requester)
                let typedVIP = try await Self.submit(db, "Laptop slow", impact: .high, urgency: .medium, email: "y@board.example", by: .requester)
                let mailedVIP = try await Self.submit(
                    db, "Laptop slow", impact: .high, urgency: .medium, email: "z@board.example", by: .mail, verified: true)
                _ = try await Self.deliver(http, [anonymous, typedVIP, mailedVIP])
                #expect(try await priority(anonymous) == .p3, "a statement nobody vouched for is held at the cap")
                let held = try #require(try await db.store.find(anonymous.id, on: client, logger: db.logger))
                #expect(held.impact == .high && held.urgency == .high, "and kept as the requester said it")
                #expect(try await priority(typedVIP) == .p3, "an address typed into a form makes nobody a VIP")
                #expect(try await priority(mailedVIP) == .p1, "mail that passed DMARC proves the address")
                let vips = try await http.send(.get, "/v1/vip", token: Self.admin).decode(Page<VIPEntry>.self).items
                #expect(vips.compactMap(\.email) == ["ceo@nordlicht.example"])
                #expect(try await http.send(.delete, "/v1/vip/\(vips[0].id)", token: Self.admin).status == .noContent)
            }
        }
    }

    /// Each replica caches the policy; a change on one applies on the other within a second.
    @Test(.freshDatabase) func aRuleSavedOnOneReplicaRoutesTheNextTicketOnAnother() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let clock = ManualClock(Date())
            try await withLiveApp({ try await TriageApp.buildApplication(reader: $0, clock: clock) }) { first in
                try await withLiveApp({ try await TriageApp.buildApplication(reader: $0, clock: clock) }) { second in
                    let before = try await Self.submit(db, "Printer jammed")
                    _ = try await Self.deliver(second, [before])  // the second replica has loaded the policy
                    #expect(try await db.store.find(before.id, on: client, logger: db.logger)?.tier == .firstLine)
                    _ = try await Self.create(first, RuleRequest(name: "printers", match: RuleMatch(keywords: ["printer"]), route: RuleRoute(tier: 3)))
                    clock.advance(by: .milliseconds(500))
                    let after = try await Self.submit(db, "Printer jammed again")
                    _ = try await Self.deliver(second, [after])
                    #expect(try await db.store.find(after.id, on: client, logger: db.logger)?.tier == .specialist)
                }
            }
        }
    }

    /// The classifier learns the demo history and keeps at least the accuracy measured for the README, minus five points.
    @Test(.freshDatabase) func theClassifierLearnsTheDemoHistory() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            try await withLiveApp(TriageApp.buildApplication) { http in
                #expect(try await http.send(.post, "/v1/classifier/train", token: Self.admin).status == .conflict, "nothing to learn yet")
                #expect(try await http.send(.get, "/v1/classifier", token: Self.admin).decode(ClassifierStatus.self).trained == false)
                let requester = try await db.requester("history@nordlicht.example")
                let history = try Triage.demoHistory()
                #expect(history.count >= 2000)
                let imported = try await db.store.importClosed(
                    history.enumerated().map { index, item in
                        TicketStore.HistoricalTicket(
                            id: UUID(), requesterId: requester, tier: .firstLine, impact: item.impact, urgency: item.urgency, category: item.category,
                            channel: item.channel, subject: item.subject, description: item.description, resolution: item.resolution,
                            openedAt: Date().addingTimeInterval(-Double(item.daysAgo) * 86_400), resolvedAt: Date())
                    }, on: client, logger: db.logger)
                #expect(imported == history.count)
                let trained = try await http.send(.post, "/v1/classifier/train", token: Self.admin).decode(ClassifierStatus.self)
                #expect(trained.trained && trained.examples == history.count && trained.categories.count == 8)
                #expect((trained.accuracy ?? 0) >= Self.measuredAccuracy - 0.05, "accuracy \(trained.accuracy ?? 0)")
                #expect((trained.macroF1 ?? 0) > (trained.baselineMacroF1 ?? 1) + 0.5)
                let status = try await http.send(.get, "/v1/classifier", token: Self.admin).decode(ClassifierStatus.self)
                #expect(status == trained)

                let ticket = try await Self.submit(db, "Outlook keeps asking for my password", "and my inbox does not sync since yesterday")
                _ = try await Self.deliver(http, [ticket])
                let stored = try #require(try await db.store.find(ticket.id, on: client, logger: db.logger))
                #expect(stored.category == "email")
            }
        }
    }

    /// Held-out accuracy of the demo history measured for the README (`README.md`, "Triage").
    static let measuredAccuracy = 0.865
}
