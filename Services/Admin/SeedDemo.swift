import ArgumentParser
import Foundation
import IntakeApp
import Logging
import PostgresNIO
import TierQueueApp
import TierdeskKit
import TierdeskModels
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
    ]
    static let vendor = CreateVendorRequest(name: "Acme Network Services", webhookUrl: "https://vendor.example.com/tierdesk/webhooks", categories: ["network"])

    func run() async throws {
        let secret = try environmentSecret()
        let env = env
        let now = SystemClock().now()
        let lines = try await withDatabase { client, logger -> [(String, String)] in
            let agents = AgentStore()
            var lines: [(String, String)] = []
            for (key, request) in Self.agents {
                if let token = try await agents.rotateToken(email: request.email, on: client, logger: logger) {
                    lines.append(("TIERDESK_DEMO_\(key)_TOKEN", token))
                } else {
                    lines.append(("TIERDESK_DEMO_\(key)_TOKEN", try await agents.create(request, on: client, now: now, logger: logger).token ?? ""))
                }
            }
            let vendors = VendorStore(secret: secret)
            if let (id, key) = try await vendors.rotateKey(name: Self.vendor.name, on: client, logger: logger) {
                lines.append(("TIERDESK_DEMO_VENDOR_ID", id.uuidString.lowercased()))
                lines.append(("TIERDESK_DEMO_VENDOR_KEY", key))
            } else {
                let vendor = try await vendors.create(Self.vendor, on: client, now: now, logger: logger)
                lines.append(("TIERDESK_DEMO_VENDOR_ID", vendor.id.uuidString.lowercased()))
                lines.append(("TIERDESK_DEMO_VENDOR_KEY", vendor.apiKey ?? ""))
            }
            let articles = try Intake.demoArticles()
            for article in articles {
                try await KnowledgeBaseStore().publish(article, authorLevel: .specialist, replacingSlug: true, on: client, now: now, logger: logger)
            }
            lines.append(("TIERDESK_DEMO_ARTICLES", "\(articles.count)"))
            return lines
        }
        if !env {
            print("Demo data loaded: agents alice (level 1), bob (level 2), carol (level 3); vendor \(Self.vendor.name); knowledge-base articles.")
        }
        for (key, value) in lines { print("\(key)=\(value)") }
    }
}
