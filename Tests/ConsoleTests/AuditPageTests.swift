import Foundation
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// The administrators' audit page: the trail newest first, filtered, each change's before and after
/// as the fields it changed; nobody else opens it.
@Suite struct AuditPageTests {
    @Test(.freshDatabase) func theAdminReadsTheTrailWithEachChangeAsADiff() async throws {
        try await ConsoleSystem.run { system in
            let admin = TestCredentials.adminToken
            let policy = SLAPolicyRequest(firstResponseSeconds: 3_600, resolutionSeconds: 259_200, businessHours: true)
            #expect(try await system.tierQueue.send(.put, "/v1/sla/policies/P4", token: admin, json: policy).status == .ok)
            #expect(try await system.tierQueue.send(.put, "/v1/work-modes/printing", token: admin, json: WorkModeRequest(mode: .swarm)).status == .ok)
            let (agent, agentToken) = try await system.agent()

            let browser = system.browser()
            try await browser.signIn(admin)
            let page = try await browser.get("/admin/audit")
            #expect(page.status == .ok && page.text.contains("id=\"audit-trail\""))
            // Newest first: the agent's creation, the work mode, the policy.
            let order = ["agent.created", "work_mode.set", "sla_policy.set"].map { page.text.range(of: ">\($0)<")?.lowerBound }
            #expect(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "newest first")
            // The policy's change: its first-response target before and after, the rest counted.
            #expect(page.text.contains("<th scope=\"row\">first_response_seconds</th><td class=\"before\">28800</td><td class=\"after\">3600</td>"))
            #expect(page.text.contains("unchanged."))
            #expect(page.text.contains(agent.id.uuidString.lowercased()) && !page.text.contains("token_hash"))

            let filtered = try await browser.get("/admin/audit?action=sla_policy.set")
            #expect(filtered.text.contains(">sla_policy.set<") && !filtered.text.contains(">work_mode.set<"))
            #expect(filtered.text.contains("value=\"sla_policy.set\""), "the form keeps the filter")
            let refused = try await browser.get("/admin/audit?person=nobody")
            #expect(refused.status == .ok && refused.text.contains("part-error") && refused.text.contains("person"), "a bad filter is shown, not hidden")

            // An auditor reads it too.
            let auditorToken = try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
                try await StoreFixture(client: client).staffToken(role: .auditor)
            }
            let auditor = system.browser()
            try await auditor.signIn(auditorToken)
            let audited = try await auditor.get("/admin/audit")
            #expect(audited.status == .ok && audited.text.contains(">sla_policy.set<") && !audited.text.contains("href=\"/admin/agents\""))

            let agentBrowser = system.browser()
            try await agentBrowser.signIn(agentToken)
            let notAllowed = try await agentBrowser.get("/admin/audit")
            #expect(notAllowed.status == .seeOther && notAllowed.location?.hasPrefix("/signin") == true)
        }
    }

    @Test func aDiffListsWhatChangedAndCountsTheRest() {
        let before: JSONValue = .object(["name": .string("Printers"), "position": .number(1), "route": .object(["tier": .number(2)])])
        let after: JSONValue = .object(["name": .string("Printers and scanners"), "position": .number(1), "route": .object(["tier": .number(3)])])
        let changed = AuditDiff.changes(before: before, after: after)
        #expect(
            changed.changed == [
                .init(field: "name", before: "Printers", after: "Printers and scanners"), .init(field: "route", before: "{\"tier\":2}", after: "{\"tier\":3}"),
            ])
        #expect(changed.unchanged == 1)
        let created = AuditDiff.changes(before: nil, after: .object(["name": .string("New"), "note": .null]))
        #expect(
            created.changed == [.init(field: "name", before: nil, after: "New"), .init(field: "note", before: nil, after: "null")] && created.unchanged == 0)
        let rows = AuditDiff.changes(before: .array([.string("a")]), after: nil)
        #expect(rows.changed == [.init(field: "value", before: "[\"a\"]", after: nil)])
    }
}
