import ArgumentParser
import Foundation
import IntakeApp
import Logging
import PostgresNIO
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TriageApp
import VendorBridgeApp

/// Loads demo agents (one per level), a vendor and knowledge-base articles. Safe to run again:
/// existing demo agents and vendors get fresh credentials, which it prints (they rest only as hashes).
struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo", abstract: "Load demo agents, a vendor and knowledge-base articles; print their credentials.")

    @Flag(help: "Print credentials as KEY=value lines only (for scripts).") var env = false

    static let agents: [(key: String, request: CreateAgentRequest)] = [
        ("TIER1", CreateAgentRequest(name: "Alice Hotline", email: "alice@demo.tierdesk.dev", tiers: [1], skills: [], wipLimit: 10)),
        ("TIER2", CreateAgentRequest(name: "Bob Backoffice", email: "bob@demo.tierdesk.dev", tiers: [2], skills: ["network", "accounts"], wipLimit: 5)),
        ("TIER3", CreateAgentRequest(name: "Carol Specialist", email: "carol@demo.tierdesk.dev", tiers: [3], skills: ["network"], wipLimit: 3)),
        ("LEAD", CreateAgentRequest(name: "Dana Lead", email: "dana@demo.tierdesk.dev", tiers: [1, 2], skills: [], wipLimit: 5, role: .lead)),
        ("ADMIN", CreateAgentRequest(name: "Erin Admin", email: "erin@demo.tierdesk.dev", tiers: [], role: .admin)),
    ]
    static let vendorName = "Acme Network Services"

    /// The demo vendor; its webhooks go to `TIERDESK_DEMO_VENDOR_WEBHOOK_URL` when set (the vendor
    /// simulator, in `scripts/dev`), else to an example address that answers nothing.
    static func vendor(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CreateVendorRequest {
        let url = environment["TIERDESK_DEMO_VENDOR_WEBHOOK_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://vendor.example.com/tierdesk/webhooks"
        let vendor = CreateVendorRequest(name: vendorName, webhookUrl: url, categories: ["network"])
        do {
            try vendor.validate()
        } catch {
            throw ValidationError("TIERDESK_DEMO_VENDOR_WEBHOOK_URL must be an absolute http(s) URL, not '\(url)'")
        }
        return vendor
    }

    /// The demo's routing rules (replaced by name on every run), category defaults and a VIP.
    static func rules(vendorID: UUID) -> [RuleRequest] {
        [
            RuleRequest(
                name: "Not IT: building and facilities", position: 10,
                match: RuleMatch(keywords: ["coffee machine", "parking", "canteen", "heating", "air conditioning", "light bulb", "desk booking"]),
                route: RuleRoute(
                    reject: "The IT service desk handles IT only. For the building, parking and catering, please write to facilities@nordlicht.example.")),
            RuleRequest(
                name: "Security incidents to level 2, urgent", position: 20,
                match: RuleMatch(keywords: ["phishing", "malware", "ransomware", "virus", "suspicious email", "hacked"]),
                route: RuleRoute(tier: 2, category: "security", impact: .high, urgency: .high)),
            RuleRequest(
                name: "WAN and leased lines to the network vendor", position: 30,
                match: RuleMatch(keywords: ["leased line", "wan outage", "mpls", "branch offline"]),
                route: RuleRoute(category: "network", vendorId: vendorID)),
            RuleRequest(
                name: "Site-wide network trouble to level 2", position: 40,
                match: RuleMatch(keywords: ["whole floor", "entire office", "everyone", "all users", "ganze etage"], categories: ["network"]),
                route: RuleRoute(tier: 2, skills: ["network"], impact: .high)),
            RuleRequest(
                name: "Monitoring alerts to level 3", position: 50, match: RuleMatch(channels: [.api], metadataKeys: ["alertId"]),
                route: RuleRoute(tier: 3, skills: ["network"])),
        ]
    }

    static func loadPolicy(vendorID: UUID, on client: PostgresClient, now: Date, logger: Logger) async throws -> Int {
        let store = PolicyStore()
        let existing = try await store.rules(on: client, logger: logger)
        let rules = rules(vendorID: vendorID)
        try await client.transaction(logger: logger) { connection in
            for rule in rules {
                _ = try await store.save(rule, id: existing.first { $0.name == rule.name }?.id, on: connection, now: now, logger: logger)
            }
            for (category, impact, urgency) in [
                ("security", Impact.high, Urgency.high), ("network", .medium, .high), ("access", .low, .high), ("email", .medium, .medium),
                ("printing", .low, .low), ("hardware", .low, .medium), ("software", .low, .medium), ("files", .medium, .low),
            ] {
                try await store.setCategoryDefaults(
                    CategoryDefaults(category: category, impact: impact, urgency: urgency), on: connection, now: now, logger: logger)
            }
            _ = try await store.addVIP(VIPRequest(email: "ceo@nordlicht.example"), on: connection, now: now, logger: logger)
        }
        return rules.count
    }

    /// The demo history: resolved tickets of the last year from 60 people of the demo company, so
    /// the classifier is useful out of the box. Ids are derived from each line, so a second run adds nothing.
    static func loadHistory(on client: PostgresClient, now: Date, logger: Logger) async throws -> Int {
        let history = try Triage.demoHistory()
        let names = ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ines", "jonas", "karin", "lukas"]
        let families = ["weber", "dubois", "garcia", "jansen", "schmidt"]
        var people: [UUID] = []
        for name in names {
            for family in families {
                let email = "\(name).\(family)@nordlicht.example"
                people.append(
                    try await RequesterStore().findOrCreate(
                        RequesterInput(email: email, name: "\(name.capitalized) \(family.capitalized)"), on: client, now: now, logger: logger))
            }
        }
        let tiers: [Tier] = [.firstLine, .firstLine, .firstLine, .backOffice, .backOffice, .specialist]
        let tickets = history.enumerated().map { index, item in
            let opened = now.addingTimeInterval(-Double(item.daysAgo) * 86_400 - Double(index % 600) * 60)
            return TicketStore.HistoricalTicket(
                id: Self.historyID(index), requesterId: people[index % people.count], tier: tiers[index % tiers.count], impact: item.impact,
                urgency: item.urgency, category: item.category, channel: item.channel, subject: item.subject, description: item.description,
                resolution: item.resolution, openedAt: opened, resolvedAt: opened.addingTimeInterval(Double(1 + index % 48) * 3_600))
        }
        var imported = 0
        for chunk in stride(from: 0, to: tickets.count, by: 500) {
            imported += try await TicketStore(source: "admin").importClosed(
                Array(tickets[chunk..<min(chunk + 500, tickets.count)]), on: client, logger: logger)
        }
        return imported
    }

    /// A stable id for the demo history's line `index`.
    /// Level 1 translates the requester's words for level 2; level 2 hands level 3 a reproduction.
    static let contracts = [
        EscalationContract(
            tier: .backOffice, fields: [.init(name: "stepsTried", label: "Steps tried"), .init(name: "affectedUsers", label: "Affected users")]),
        EscalationContract(tier: .specialist, fields: [.init(name: "reproduction", label: "Reproduction"), .init(name: "logs", label: "Logs")]),
    ]

    static func historyID(_ index: Int) -> UUID {
        UUID(uuidString: String(format: "d3e00000-0000-4000-8000-%012x", index))!
    }

    func run() async throws {
        let secret = try environmentSecret()
        let vendor = try Self.vendor()
        let env = env
        let now = SystemClock().now()
        let lines = try await withDatabase { client, logger -> [(String, String)] in
            let agents = AgentStore()
            var lines: [(String, String)] = []
            for (key, request) in Self.agents {
                let token = try await client.transaction(logger: logger) { connection in
                    if let id = try await agents.id(email: request.email, on: connection, logger: logger) {
                        return try await agents.rotateToken(id: id, on: connection, now: now, logger: logger)?.token
                    }
                    return try await agents.create(request, on: connection, now: now, logger: logger).token
                }
                lines.append(("TIERDESK_DEMO_\(key)_TOKEN", token ?? ""))
            }
            let vendors = VendorStore(sealingKey: SealingKey(purpose: KeyPurpose.sealing.name, secret: secret))
            if let reissued = try await vendors.reissueDemoCredentials(name: vendor.name, webhookUrl: vendor.webhookUrl, on: client, logger: logger) {
                lines.append(("TIERDESK_DEMO_VENDOR_ID", reissued.id.uuidString.lowercased()))
                lines.append(("TIERDESK_DEMO_VENDOR_KEY", reissued.apiKey))
                lines.append(("TIERDESK_DEMO_VENDOR_SECRET", reissued.signingSecret))
            } else {
                let created = try await vendors.create(vendor, on: client, now: now, logger: logger)
                lines.append(("TIERDESK_DEMO_VENDOR_ID", created.id.uuidString.lowercased()))
                lines.append(("TIERDESK_DEMO_VENDOR_KEY", created.apiKey ?? ""))
                lines.append(("TIERDESK_DEMO_VENDOR_SECRET", created.signingSecret ?? ""))
            }
            let articles = try Intake.demoArticles()
            for article in articles {
                try await KnowledgeBaseStore().publish(article, authorLevel: .specialist, replacingSlug: true, on: client, now: now, logger: logger)
            }
            lines.append(("TIERDESK_DEMO_ARTICLES", "\(articles.count)"))
            let vendorID = UUID(uuidString: lines.first { $0.0 == "TIERDESK_DEMO_VENDOR_ID" }!.1)!
            lines.append(("TIERDESK_DEMO_RULES", "\(try await Self.loadPolicy(vendorID: vendorID, on: client, now: now, logger: logger))"))
            lines.append(("TIERDESK_DEMO_HISTORY", "\(try await Self.loadHistory(on: client, now: now, logger: logger))"))
            for contract in Self.contracts { try await WorkPolicyStore().put(contract, on: client, now: now, logger: logger) }
            let training = ClassifierTraining(store: PolicyStore(), client: client, clock: SystemClock(), threshold: TriageSettings().threshold)
            let model = try await training.train(logger: logger)
            lines.append(("TIERDESK_DEMO_CLASSIFIER_ACCURACY", String(format: "%.3f", model.accuracy ?? 0)))
            return lines
        }
        if !env {
            print(
                "Demo data loaded: agents alice (level 1), bob (level 2), carol (level 3); vendor \(vendor.name) (webhooks to \(vendor.webhookUrl)); knowledge-base articles;"
                    + " triage rules; a year of resolved tickets, and the category model trained on them.")
        }
        for (key, value) in lines { print("\(key)=\(value)") }
    }
}
