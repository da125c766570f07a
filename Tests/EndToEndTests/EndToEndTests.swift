import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The four real executables, started as processes on a fresh database, driven over HTTP.
@Suite(.serialized) struct EndToEndTests {
    struct Staff {
        var tokens: [Tier: String] = [:]
        var vendor: Vendor?
    }

    func withCluster(_ extra: [String: String] = [:], _ body: (Cluster) async throws -> Void) async throws {
        let cluster = try Cluster(database: try TestDatabase.settings(), extra: extra)
        do {
            try await cluster.start()
            try await body(cluster)
        } catch {
            for name in ["intake", "triage", "tier-queue", "vendor-bridge"] { print("--- \(name) log\n\(cluster.log(name).suffix(3000))") }
            cluster.stop()
            throw error
        }
        let statuses = cluster.stop()
        #expect(statuses.values.allSatisfy { $0 == 0 }, "every service exits cleanly on SIGTERM: \(statuses)")
    }

    func hire(_ cluster: Cluster, tiers: [Int], name: String, wipLimit: Int? = nil) async throws -> String {
        let agent = try await HTTP.json(
            Agent.self, .POST, cluster.url("tier-queue") + "/v1/agents", token: TestCredentials.adminToken,
            body: CreateAgentRequest(name: name, email: "\(name)@example.com", tiers: tiers, wipLimit: wipLimit))
        return try #require(agent.token)
    }

    func submit(_ cluster: Cluster, _ request: SubmitTicketRequest = .fixture()) async throws -> SubmitTicketResponse {
        try await HTTP.json(SubmitTicketResponse.self, .POST, cluster.url("intake") + "/v1/tickets", body: request, expect: 201)
    }

    func queue(_ cluster: Cluster, tier: Int, token: String) async throws -> [TicketSummary] {
        try await HTTP.json(Page<TicketSummary>.self, .GET, cluster.url("tier-queue") + "/v1/queues/\(tier)?limit=200", token: token).items
    }

    func claim(_ cluster: Cluster, tier: Int, token: String) async throws -> Ticket? {
        let (status, body) = try await HTTP.request(.POST, cluster.url("tier-queue") + "/v1/queues/\(tier)/claim", token: token)
        if status == 204 { return nil }
        guard status == 200 else { throw TestSetupError("claim answered \(status): \(String(buffer: body))") }
        return try JSONCoding.decoder.decode(Ticket.self, from: Data(buffer: body))
    }

    func requesterView(_ cluster: Cluster, _ ticket: SubmitTicketResponse) async throws -> TicketDetail {
        try await HTTP.json(TicketDetail.self, .GET, cluster.url("intake") + "/v1/tickets/\(ticket.id)", token: ticket.requesterToken)
    }

    @Test(.freshDatabase) func aTicketWalksTheHappyPath() async throws {
        try await withCluster { cluster in
            let alice = try await hire(cluster, tiers: [1], name: "alice")
            let submitted = try await submit(cluster)
            let queued = try await HTTP.eventually { try await queue(cluster, tier: 1, token: alice).first { $0.id == submitted.id } }
            // Anonymous: medium impact and high urgency are the requester's statement, held at the cap (P3, not P2).
            #expect(queued.priority == .p3 && queued.status == .queued)

            let claimed = try #require(try await claim(cluster, tier: 1, token: alice))
            #expect(claimed.id == submitted.id && claimed.status == .inProgress)
            let resolved = try await HTTP.json(
                Ticket.self, .POST, cluster.url("tier-queue") + "/v1/tickets/\(submitted.id)/resolve", token: alice,
                body: ResolveRequest(resolution: "Re-issued the VPN certificate"))
            #expect(resolved.status == .resolved)

            let view = try await requesterView(cluster, submitted)
            #expect(view.ticket.status == .resolved && view.ticket.tier == .firstLine && view.ticket.priority == .p3)
            #expect(view.events.map(\.type) == [.ticketCreated, .ticketTriaged, .ticketQueued, .ticketClaimed, .ticketResolved])
        }
    }

    /// Per-level deployment: levels 1, 2 and 3 each run as their own tier-queue process (the
    /// compose file's shape); triage hands each ticket to its level's instance, a queue is refused
    /// by the instances of other levels, and ticket work is served by any of them.
    @Test(.freshDatabase) func threeLevelsRunApartAndHandATicketUpAndBackDown() async throws {
        let cluster = try Cluster(database: try TestDatabase.settings())
        try cluster.addReplica("tier-queue-2", of: "tier-queue", overrides: ["TIERDESK_TIERS": "2"])
        try cluster.addReplica("tier-queue-3", of: "tier-queue", overrides: ["TIERDESK_TIERS": "3"])
        cluster.configure(["TIERDESK_TIERS": "1"], only: ["tier-queue"])
        cluster.configure([
            "TIERDESK_TIER1_QUEUE_URL": cluster.url("tier-queue"), "TIERDESK_TIER2_QUEUE_URL": cluster.url("tier-queue-2"),
            "TIERDESK_TIER3_QUEUE_URL": cluster.url("tier-queue-3"),
        ])
        defer { _ = cluster.stop() }
        try await cluster.start()
        let levels = ["tier-queue", "tier-queue-2", "tier-queue-3"].map { cluster.url($0) }
        let (one, two, three) = (
            try await hire(cluster, tiers: [1], name: "one"), try await hire(cluster, tiers: [2], name: "two"),
            try await hire(cluster, tiers: [3], name: "three")
        )
        let (refused, body) = try await HTTP.request(.GET, levels[1] + "/v1/queues/1", token: one)
        #expect(refused == 404 && String(buffer: body).contains("serves levels [2]"))
        let submitted = try await submit(cluster)
        func claim(_ level: Int, _ token: String) async throws -> Ticket {
            try await HTTP.eventually {
                let (status, body) = try await HTTP.request(.POST, levels[level - 1] + "/v1/queues/\(level)/claim", token: token)
                return status == 200 ? try JSONCoding.decoder.decode(Ticket.self, from: Data(buffer: body)) : nil
            }
        }
        #expect(try await claim(1, one).id == submitted.id)
        // Each move is sent to another level's instance: ticket work is served by any of them.
        let up = try await HTTP.json(
            Ticket.self, .POST, levels[1] + "/v1/tickets/\(submitted.id)/escalate", token: one, body: EscalateRequest(reason: "needs level 2"))
        #expect(up.tier == .backOffice)
        #expect(try await claim(2, two).id == submitted.id)
        _ = try await HTTP.json(Ticket.self, .POST, levels[2] + "/v1/tickets/\(submitted.id)/escalate", token: two, body: EscalateRequest(reason: "a defect"))
        #expect(try await claim(3, three).id == submitted.id)
        let down = try await HTTP.json(
            Ticket.self, .POST, levels[0] + "/v1/tickets/\(submitted.id)/de-escalate", token: three,
            body: DeescalateRequest(note: "Configuration, not a defect"))
        #expect(down.tier == .backOffice && down.status == .queued)
        #expect(try await claim(2, two).id == submitted.id)
        let resolved = try await HTTP.json(
            Ticket.self, .POST, levels[1] + "/v1/tickets/\(submitted.id)/resolve", token: two,
            body: ResolveRequest(resolution: "Fixed the config", code: .fixed))
        #expect(resolved.status == .resolved)
        let trail = try await HTTP.json(TicketDetail.self, .GET, levels[0] + "/v1/tickets/\(submitted.id)", token: two).events
        #expect(trail.filter { $0.type == .ticketEscalated }.count == 2 && trail.filter { $0.type == .ticketDeescalated }.count == 1)
        #expect(trail.compactMap(\.tier).contains(.specialist) && trail.last?.tier == .backOffice)
    }

    /// The SLA clock stops while the agent waits on the customer; the requester's reply (to intake)
    /// brings the ticket back and tier-queue, told by intake's hand-off, pushes the due time out by the pause.
    @Test(.freshDatabase) func aPauseOnTheCustomerPushesTheDueTimeOutWhenTheRequesterReplies() async throws {
        try await withCluster { cluster in
            let tierQueue = cluster.url("tier-queue")
            let policy = SLAPolicyRequest(firstResponseSeconds: 1800, resolutionSeconds: 8 * 3600, businessHours: false)
            // The anonymous submission's own medium/high is held at the cap: P3.
            _ = try await HTTP.json(SLAPolicy.self, .PUT, tierQueue + "/v1/sla/policies/P3", token: TestCredentials.adminToken, body: policy)
            let alice = try await hire(cluster, tiers: [1], name: "alice")
            let submitted = try await submit(cluster)
            let claimed = try await HTTP.eventually { try await claim(cluster, tier: 1, token: alice) }
            let due = try #require(claimed.resolutionDueAt)
            let work = tierQueue + "/v1/tickets/\(submitted.id)"
            let paused = try await HTTP.json(
                Ticket.self, .POST, work + "/pending", token: alice, body: PendingRequest(reason: .awaitingCustomerInfo, note: "Which VPN client?"))
            #expect(paused.status == .pendingCustomer)
            #expect(try await HTTP.json(TicketDetail.self, .GET, work, token: alice).work?.sla?.paused == true)
            try await Task.sleep(for: .seconds(2))
            let (replied, _) = try await HTTP.request(
                .POST, cluster.url("intake") + "/v1/tickets/\(submitted.id)/replies", token: submitted.requesterToken,
                json: CommentRequest(message: "Cisco AnyConnect 5"))
            #expect(replied == 200)
            let resumed = try await HTTP.eventually {
                let ticket = try await HTTP.json(TicketDetail.self, .GET, work, token: alice).ticket
                return ticket.resolutionDueAt.flatMap { $0.timeIntervalSince(due) >= 2 ? ticket : nil }
            }
            #expect(resumed.status == .queued)
            let sla = try #require(try await HTTP.json(TicketDetail.self, .GET, work, token: alice).work?.sla)
            #expect(!sla.paused && sla.pausedBusinessSeconds >= 2 && sla.consumedBusinessSeconds["pause:awaiting_customer_info"] ?? 0 >= 2)
            let metrics = String(buffer: try await HTTP.request(.GET, tierQueue + "/metrics").1)
            #expect(metrics.contains("tierdesk_report_backlog") && metrics.contains("tierdesk_report_first_contact_resolution_ratio"))
        }
    }

    /// Levels 1 → 2 → 3 → the vendor, and back: the real `tierdesk-vendor-sim` gets the signed
    /// webhook, acknowledges, asks a question; level 3 answers; the simulator resolves; the ticket
    /// comes back to the level 3 agent, who verifies and resolves it, which closes the case.
    @Test(.freshDatabase) func escalationChainGoesRoundTheVendorAndBack() async throws {
        let simPort = try Cluster.freePort()
        let settings = ["TIERDESK_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "TIERDESK_WEBHOOK_POLL_MS": "100", "TIERDESK_WEBHOOK_SCHEDULE": "500ms,1s,2s"]
        try await withCluster(settings) { cluster in
            let (one, two, three) = (
                try await hire(cluster, tiers: [1], name: "one"), try await hire(cluster, tiers: [2], name: "two"),
                try await hire(cluster, tiers: [3], name: "three")
            )
            let bridge = cluster.url("vendor-bridge")
            let vendor = try await HTTP.json(
                Vendor.self, .POST, bridge + "/v1/vendors", token: TestCredentials.adminToken,
                body: CreateVendorRequest(name: "Acme Network Services", webhookUrl: "http://127.0.0.1:\(simPort)/webhooks", categories: ["network"]),
                expect: 201)
            let simulator = Process()
            simulator.executableURL = URL(fileURLWithPath: try Cluster.binPath()).appendingPathComponent("tierdesk-vendor-sim")
            simulator.arguments = ["--port", "\(simPort)", "--ack-after-ms", "50", "--resolve-after-ms", "100", "--ask-every", "1"]
            simulator.environment = [
                "TIERDESK_VENDOR_SIM_SECRET": try #require(vendor.signingSecret), "TIERDESK_VENDOR_SIM_KEY": try #require(vendor.apiKey),
                "TIERDESK_VENDOR_BRIDGE_URL": bridge,
            ]
            let simLog = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-e2e-vendor-sim-\(UUID()).log")
            _ = FileManager.default.createFile(atPath: simLog.path, contents: nil)
            simulator.standardOutput = try FileHandle(forWritingTo: simLog)
            simulator.standardError = simulator.standardOutput
            try simulator.run()
            defer {
                kill(simulator.processIdentifier, SIGTERM)
                simulator.waitUntilExit()
            }
            do {
                let submitted = try await submit(cluster)
                let work = cluster.url("tier-queue") + "/v1/tickets/\(submitted.id)"
                _ = try await HTTP.eventually { try await queue(cluster, tier: 1, token: one).first { $0.id == submitted.id } }
                for (tier, token) in [(1, one), (2, two)] {
                    let claimed = try await HTTP.eventually { try await claim(cluster, tier: tier, token: token) }
                    #expect(claimed.id == submitted.id && claimed.tier?.rawValue == tier)
                    let up = try await HTTP.json(Ticket.self, .POST, work + "/escalate", token: token, body: EscalateRequest(reason: "beyond level \(tier)"))
                    #expect(up.status == .queued && up.tier?.rawValue == tier + 1)
                }
                _ = try #require(try await claim(cluster, tier: 3, token: three))
                let atVendor = try await HTTP.json(
                    Ticket.self, .POST, work + "/escalate", token: three,
                    body: EscalateRequest(
                        reason: "firmware defect", toTier: 4, vendorId: vendor.id, handOff: ["reproduction": "reboot the edge router", "logs": "attached"]))
                #expect(atVendor.status == .pendingVendor && atVendor.tier == .vendor && atVendor.vendorId == vendor.id)

                // The simulator verified the signed webhook, acknowledged and asked; level 3 sees the question.
                let question = try await HTTP.eventually {
                    try await HTTP.json(TicketDetail.self, .GET, work, token: three).work?.vendorQuestion
                }
                // The level 3 agent still holds the ticket: it is on that agent's worklist while the vendor works.
                let worklist = try await HTTP.json(Page<TicketSummary>.self, .GET, cluster.url("tier-queue") + "/v1/agents/me/tickets", token: three)
                #expect(worklist.items.contains { $0.id == submitted.id && $0.status == .pendingVendor })
                let vendorCase = try await HTTP.json(VendorCase.self, .GET, bridge + "/v1/vendor/cases/\(question.caseId)", token: vendor.apiKey)
                #expect(vendorCase.ticketId == submitted.id && vendorCase.reason == "firmware defect" && vendorCase.acknowledgedAt != nil)
                let answered = try await HTTP.json(
                    VendorCase.self, .POST, cluster.url("vendor-bridge") + "/v1/tickets/\(submitted.id)/vendor-messages", token: three,
                    body: VendorMessageRequest(message: "Firmware 4.1.7; the logs are attached"), expect: 201)
                #expect(answered.updates.last?.author == .company)

                // Resolved by the vendor: back with level 3's agent, in progress, to verify.
                let back = try await HTTP.eventually {
                    let ticket = try await HTTP.json(TicketDetail.self, .GET, work, token: three).ticket
                    return ticket.status == .inProgress ? ticket : nil
                }
                #expect(back.tier == .specialist)
                let resolved = try await HTTP.json(
                    Ticket.self, .POST, work + "/resolve", token: three, body: ResolveRequest(resolution: "Vendor firmware 4.2 fixed it", code: .vendorFixed))
                #expect(resolved.status == .resolved)
                let closed = try await HTTP.eventually {
                    let found = try await HTTP.json(VendorCase.self, .GET, bridge + "/v1/vendor/cases/\(question.caseId)", token: vendor.apiKey)
                    return found.status == .closed ? found : nil
                }
                #expect(closed.questions == 1 && closed.updates.map(\.author).contains(.company))
                // Every webhook reached the simulator and was accepted on its first attempt.
                let deliveries = try await HTTP.eventually {
                    let log = try await HTTP.json(
                        Page<WebhookDelivery>.self, .GET, bridge + "/v1/vendors/\(vendor.id)/deliveries", token: TestCredentials.adminToken)
                    return log.items.count == 3 && log.items.allSatisfy { $0.status == .delivered } ? log.items : nil
                }
                #expect(Set(deliveries.map(\.type)) == ["vendor.case_opened", "vendor.message", "vendor.case_closed"])
                #expect(deliveries.allSatisfy { $0.attempts.first?.statusCode == 204 })

                let view = try await requesterView(cluster, submitted)
                #expect(view.ticket.status == .resolved)
                #expect(!view.events.contains { $0.type == .vendorCaseOpened || $0.type == .vendorUpdated })  // internal: the requester does not see them
            } catch {
                print("--- vendor-sim log\n\((try? String(contentsOf: simLog, encoding: .utf8))?.suffix(3000) ?? "")")
                throw error
            }
        }
    }

    @Test(.freshDatabase) func manyAgentsClaimingOneQueueNeverShareOrLoseATicket() async throws {
        try await withCluster { cluster in
            var agents: [String] = []
            for index in 0..<12 { agents.append(try await hire(cluster, tiers: [1], name: "agent\(index)", wipLimit: 60)) }
            var submitted = Set<UUID>()
            for index in 0..<60 {
                submitted.insert(try await submit(cluster, .fixture(email: "user\(index % 7)@example.com", subject: "Laptop \(index) will not boot")).id)
            }
            _ = try await HTTP.eventually { try await queue(cluster, tier: 1, token: agents[0]).count == 60 ? true : nil }

            let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for token in agents {
                    group.addTask {
                        var mine: [UUID] = []
                        while let ticket = try await claim(cluster, tier: 1, token: token) { mine.append(ticket.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: [UUID]()) { $0 += $1 }
            }
            #expect(claimed.count == 60, "no ticket claimed twice")
            #expect(Set(claimed) == submitted, "none lost")
        }
    }

    @Test(.freshDatabase) func ticketsSubmittedWhileTriageIsDeadArriveExactlyOnce() async throws {
        try await withCluster { cluster in
            let alice = try await hire(cluster, tiers: [1], name: "alice")
            cluster.signal("triage", SIGKILL)
            var submitted = Set<UUID>()
            for index in 0..<25 { submitted.insert(try await submit(cluster, .fixture(subject: "Outage report \(index)")).id) }
            try await Task.sleep(for: .seconds(1))
            #expect(try await queue(cluster, tier: 1, token: alice).isEmpty, "nothing reaches the queue without triage")

            try await cluster.start(["triage"])
            let queued = try await HTTP.eventually(timeout: .seconds(30)) { () -> [TicketSummary]? in
                let items = try await queue(cluster, tier: 1, token: alice)
                return items.count >= submitted.count ? items : nil
            }
            #expect(Set(queued.map(\.id)) == submitted && queued.count == submitted.count)
            try await TestDatabase.withClient { client in
                let counts = try await client.all(
                    "SELECT type, count(*) AS n FROM ticket_events WHERE type IN ('ticket.triaged', 'ticket.queued') GROUP BY type ORDER BY type",
                    logger: TestDatabase.logger
                ) { "\(try $0.get("type", as: String.self))=\(try $0.get("n", as: Int64.self))" }
                #expect(counts == ["ticket.queued=25", "ticket.triaged=25"], "each ticket triaged and queued exactly once")
            }
        }
    }

    /// Triage and tier-queue SIGKILLed while batches of hand-offs are in flight: every ticket still
    /// reaches its queue exactly once, and nothing is dead-lettered.
    @Test(.freshDatabase) func receiversKilledInTheMiddleOfBatchedDeliveryLoseNothing() async throws {
        try await withCluster { cluster in
            let total = 2000
            let submitting = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<16 {
                        group.addTask {
                            for index in stride(from: client, to: total, by: 16) {
                                _ = try await submit(cluster, .fixture(email: "user\(index % 97)@example.com", subject: "Storm \(index)"))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await Task.sleep(for: .seconds(1))
            cluster.signal("triage", SIGKILL)
            try await Task.sleep(for: .seconds(1))
            try await cluster.start(["triage"])
            cluster.signal("tier-queue", SIGKILL)
            try await Task.sleep(for: .seconds(1))
            try await cluster.start(["tier-queue"])
            try await submitting.value
            try await TestDatabase.withClient { client in
                let count = { (sql: String) async throws -> Int in
                    try await client.first(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger) { Int(try $0.get("n", as: Int64.self)) } ?? -1
                }
                _ = try await HTTP.eventually(timeout: .seconds(90)) {
                    try await count("SELECT count(*) AS n FROM tickets WHERE status = 'queued'") == total ? true : nil
                }
                #expect(try await count("SELECT count(*) AS n FROM ticket_events WHERE type = 'ticket.triaged'") == total)
                #expect(try await count("SELECT count(*) AS n FROM ticket_events WHERE type = 'ticket.queued'") == total)
                #expect(try await count("SELECT count(*) AS n FROM outbox WHERE dead_at IS NOT NULL") == 0)
            }
        }
    }

    /// A dispatcher replica SIGKILLed while it holds leases on hand-offs (its peer takes the requests
    /// and never answers): once the leases run out another replica delivers those rows, each once.
    @Test(.freshDatabase) func aReplicaKilledHoldingLeasesHasItsRowsDeliveredOnceByAnother() async throws {
        // A peer that never answers: a listening socket nobody accepts from; the kernel's backlog holds the connections.
        let hole = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(hole) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(hole, $0, length) == 0 && getsockname(hole, $0, &length) == 0 }
        }
        #expect(bound && listen(hole, 128) == 0)
        let holePort = Int(UInt16(bigEndian: address.sin_port))

        let cluster = try Cluster(database: try TestDatabase.settings(), extra: ["TIERDESK_OUTBOX_LEASE_MS": "3000"])
        try cluster.addReplica("intake-stuck", of: "intake", overrides: ["TIERDESK_TRIAGE_URL": "http://127.0.0.1:\(holePort)"])
        do {
            try await cluster.start(["triage", "tier-queue", "vendor-bridge", "intake-stuck"])
            let stuck = cluster.url("intake-stuck")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        _ = try await HTTP.json(
                            SubmitTicketResponse.self, .POST, stuck + "/v1/tickets", body: SubmitTicketRequest.fixture(subject: "Lease \(index)"), expect: 201)
                    }
                }
                try await group.waitForAll()
            }
            try await TestDatabase.withClient { client in
                let logger = TestDatabase.logger
                let leased = { () async throws -> [(UUID, Date)] in
                    try await client.all(
                        """
                        SELECT event_id, next_attempt_at FROM outbox
                        WHERE source = 'intake' AND destination = 'triage' AND attempts = 1 AND delivered_at IS NULL AND next_attempt_at > now()
                        """, logger: logger
                    ) { (try $0.get("event_id", as: UUID.self), try $0.get("next_attempt_at", as: Date.self)) }
                }
                let held = try await HTTP.eventually(timeout: .seconds(10)) { () async throws -> [(UUID, Date)]? in
                    let rows = try await leased()
                    return rows.isEmpty ? nil : rows
                }
                cluster.signal("intake-stuck", SIGKILL)
                try await cluster.start(["intake"])
                let count = { (sql: String) async throws -> Int in
                    try await client.first(PostgresQuery(unsafeSQL: sql), logger: logger) { Int(try $0.get("n", as: Int64.self)) } ?? -1
                }
                _ = try await HTTP.eventually(timeout: .seconds(60)) {
                    try await count("SELECT count(*) AS n FROM tickets WHERE status = 'queued'") == 20 ? true : nil
                }
                #expect(try await count("SELECT count(*) AS n FROM ticket_events WHERE type = 'ticket.triaged'") == 20)
                #expect(try await count("SELECT count(*) AS n FROM ticket_events WHERE type = 'ticket.queued'") == 20)
                #expect(try await count("SELECT count(*) AS n FROM outbox WHERE dead_at IS NOT NULL") == 0)
                for (event, leaseEnd) in held {
                    let row = try await client.first(
                        "SELECT attempts, delivered_at FROM outbox WHERE event_id = \(event) AND destination = 'triage'", logger: logger
                    ) { (Int(try $0.get("attempts", as: Int32.self)), try $0.get("delivered_at", as: Date?.self)) }
                    #expect(row?.0 ?? 0 >= 2, "claimed again after the dead replica's attempt")
                    #expect((row?.1 ?? .distantPast) >= leaseEnd, "not before the dead replica's lease ran out")
                }
            }
        } catch {
            for name in ["intake-stuck", "intake", "triage"] { print("--- \(name) log\n\(cluster.log(name).suffix(3000))") }
            cluster.stop()
            throw error
        }
        cluster.stop()
    }

    /// The benchmark's load tool works end to end (the benchmark itself is `./scripts/bench`, not a test).
    @Test(.freshDatabase) func loadToolSmoke() async throws {
        try await withCluster { cluster in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let record = folder.appendingPathComponent("routing.tsv").path
            let (status, output) = try ExecutableTests().run(
                "tierdesk-bench", ["submit", "--url", cluster.url("intake"), "--rate", "20", "--duration", "1", "--record", record, "--run", "smoke"])
            #expect(status == 0, "\(output)")
            let submitted = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            #expect(submitted?["count"] as? Int == 20 && submitted?["errors"] as? Int == 0)
            let (reported, report) = try ExecutableTests().run(
                "tierdesk-bench", ["routing-report", "--database-url", try TestDatabase.settings().url, "--record", record, "--timeout", "30"])
            let routing = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any]
            #expect(reported == 0 && routing?["lost"] as? Int == 0 && routing?["queued"] as? Int == 20, "\(report)")
            let tokens = folder.appendingPathComponent("tokens.txt").path
            try (try await hire(cluster, tiers: [1], name: "bencher", wipLimit: 50) + "\n").write(toFile: tokens, atomically: true, encoding: .utf8)
            let (claimed, claimOutput) = try ExecutableTests().run(
                "tierdesk-bench", ["claim", "--url", cluster.url("tier-queue"), "--tier", "1", "--tokens", tokens])
            let claims = try JSONSerialization.jsonObject(with: Data(claimOutput.utf8)) as? [String: Any]
            #expect(claimed == 0 && claims?["distinctTickets"] as? Int == 20 && claims?["claimedTwice"] as? Int == 0, "\(claimOutput)")
        }
    }

    @Test(.freshDatabase) func noInputProducesAServerError() async throws {
        try await withCluster { cluster in
            let agent = try await hire(cluster, tiers: [1, 2, 3], name: "fuzz")
            let ticket = try await submit(cluster)
            let targets: [(String, String)] = [
                ("intake", "/v1/tickets"), ("intake", "/v1/tickets/\(ticket.id)/replies"), ("tier-queue", "/v1/agents"),
                ("tier-queue", "/v1/queues/1/claim"), ("tier-queue", "/v1/tickets/\(ticket.id)/comments"), ("tier-queue", "/v1/tickets/\(ticket.id)/pending"),
                ("tier-queue", "/v1/tickets/\(ticket.id)/resolve"), ("tier-queue", "/v1/tickets/\(ticket.id)/escalate"), ("vendor-bridge", "/v1/vendors"),
                ("vendor-bridge", "/v1/vendor/cases/\(UUID())/updates"), ("triage", "/internal/v1/events"), ("intake", "/internal/v1/events"),
                ("intake", "/v1/tickets/\(ticket.id)/confirm"), ("intake", "/v1/inbound/email"), ("intake", "/v1/kb/articles"),
                ("intake", "/v1/kb/articles/\(UUID())/votes"), ("intake", "/v1/self-service/suggestions"), ("intake", "/v1/self-service/resolutions"),
            ]
            let bodies = [
                "", "{", "null", "[]", "0", "\"x\"", "{\"requester\":{}}", "{\"message\":\"\\u0000\"}", "{\"reason\":\"x\",\"toTier\":99}",
                "{\"resolution\":1}", "{\"name\":\"n\",\"email\":\"e@x.co\",\"tiers\":[1e300]}",
                "{\"id\":\"\(UUID())\",\"type\":\"ticket.created\",\"occurredAt\":\"yesterday\"}",
                String(repeating: "[", count: 5000), "{\"status\":\"resolved\",\"message\":\"m\",\"eta\":\"2026-13-45\"}",
            ]
            let tokens: [String?] = [nil, TestCredentials.adminToken, TestCredentials.internalToken, agent, "tdv_forged", ticket.requesterToken]
            var statuses: [Int: Int] = [:]
            for (service, path) in targets {
                for body in bodies {
                    for token in tokens {
                        let (status, _) = try await HTTP.request(.POST, cluster.url(service) + path, token: token, raw: body)
                        statuses[status, default: 0] += 1
                        #expect(status < 500, "POST \(service)\(path) with \(body.prefix(40)) answered \(status)")
                    }
                }
            }
            for path in [
                "/v1/tickets/%00", "/v1/tickets/\(ticket.id)?x=%ff", "/v1/queues/-1", "/v1/queues/1?limit=999999999999999999999&cursor=%%%",
                "/v1/kb/search?q=%00", "/v1/kb/search?q=%27%22%5C%3A%2A%7C%26%21%28%29", "/v1/kb/search?q=a&limit=-5", "/v1/requesters/%20",
                "/v1/kb/articles/x",
            ] {
                for service in ["intake", "tier-queue"] {
                    let (status, _) = try await HTTP.request(.GET, cluster.url(service) + path, token: agent)
                    #expect(status < 500, "GET \(service)\(path) answered \(status)")
                }
            }
            #expect(statuses.keys.allSatisfy { $0 < 500 })
        }
    }
}

/// The executables' command-line behaviour.
@Suite struct ExecutableTests {
    func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Cluster.binPath()).appendingPathComponent(name)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test(arguments: ["intake", "triage", "tier-queue", "vendor-bridge", "tierdesk"])
    func answersHelp(_ name: String) throws {
        let (status, output) = try run(name, ["--help"])
        #expect(status == 0)
        #expect(output.contains(name == "tierdesk" ? "migrate" : "TIERDESK_DATABASE_URL"))
    }

    @Test func missingConfigurationNamesTheVariable() throws {
        let (status, output) = try run("intake", [], environment: ["TIERDESK_DATABASE_URL": "postgres://u@127.0.0.1:1/d"])
        #expect(status == 78)
        #expect(output.contains("TIERDESK_INTERNAL_TOKEN is required"))
        let (badPort, portOutput) = try run(
            "triage", [],
            environment: TestCredentials.environment(database: try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d"), ["TIERDESK_PORT": "eighty"]))
        #expect(badPort == 78 && portOutput.contains("TIERDESK_PORT must be a whole number"))
    }

    @Test func serviceIsNotReadyOnAnOldSchema() async throws {
        try await TestDatabase.withEmpty("unmigrated") { database in
            let cluster = try Cluster(database: database)
            try cluster.launch("intake")
            defer { cluster.stop() }
            let status = try await HTTP.eventually { () -> Int? in
                let (live, _) = try await HTTP.request(.GET, cluster.url("intake") + "/health/live")
                guard live == 200 else { return nil }
                return try await HTTP.request(.GET, cluster.url("intake") + "/health/ready").0
            }
            #expect(status == 503)
        }
    }
}

/// `tierdesk migrate` and `tierdesk seed-demo` on a database of their own.
@Suite struct AdminCommandTests {
    @Test func migrateThenSeedDemoLoadsStaffVendorAndArticles() async throws {
        try await TestDatabase.withEmpty("admin") { database in
            let environment = TestCredentials.environment(database: database)
            let (planned, planOutput) = try ExecutableTests().run("tierdesk", ["migrate", "--dry-run"], environment: environment)
            #expect(planned == 0 && planOutput.contains("would apply 0001_foundation"), "\(planOutput)")
            let tables = try await database.withClient(logger: TestDatabase.logger) { client in
                try await client.first("SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'public'", logger: TestDatabase.logger) {
                    try $0.get("tables", as: Int64.self)
                }
            }
            #expect(tables == 0, "migrate --dry-run applies nothing")
            let (migrated, migrateOutput) = try ExecutableTests().run("tierdesk", ["migrate"], environment: environment)
            #expect(migrated == 0 && migrateOutput.contains("applied 0001_foundation"))
            #expect(try ExecutableTests().run("tierdesk", ["migrate"], environment: environment).1.contains("schema is current"))
            for _ in 0..<2 {  // safe to run again: fresh credentials, no duplicates
                let (seeded, output) = try ExecutableTests().run("tierdesk", ["seed-demo", "--env"], environment: environment)
                #expect(seeded == 0)
                let values = Dictionary(
                    uniqueKeysWithValues: output.split(separator: "\n").compactMap { line -> (String, String)? in
                        let parts = line.split(separator: "=", maxSplits: 1)
                        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                    })
                #expect(values["TIERDESK_DEMO_TIER1_TOKEN"]?.hasPrefix("tda_") == true && values["TIERDESK_DEMO_VENDOR_KEY"]?.hasPrefix("tdv_") == true)
                #expect(Int(values["TIERDESK_DEMO_ARTICLES"] ?? "") ?? 0 >= 40)
            }
            try await database.withClient(logger: TestDatabase.logger) { client in
                let counts = try await client.first(
                    "SELECT (SELECT count(*) FROM agents) AS agents, (SELECT count(*) FROM vendors) AS vendors, (SELECT count(*) FROM kb_articles) AS articles",
                    logger: TestDatabase.logger
                ) { (try $0.get("agents", as: Int64.self), try $0.get("vendors", as: Int64.self), try $0.get("articles", as: Int64.self)) }
                // Three agents, a team lead and an administrator.
                #expect(counts?.0 == 5 && counts?.1 == 1 && (counts?.2 ?? 0) >= 40)
            }
        }
    }
}
