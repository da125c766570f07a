import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeApp
import Logging
import PostgresNIO
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport
import TriageApp
import VendorBridgeApp

/// What a mutating route leaves behind, for the audit trail's acceptance: every POST, PUT, PATCH and
/// DELETE the authorization matrix lists is classified here, so a new route without a row of its own
/// in `audit_events` (or a reason why not) fails `everyMutatingRouteIsClassified`.
enum AuditClass: Equatable {
    /// One `audit_events` row with this action per successful call, none per refusal.
    case audited(String)
    /// Ticket work: recorded in the ticket's own append-only trail (`ticket_events`, same transaction), not doubled here.
    case ticketTrail
    /// Not an administrative change; the reason.
    case notAudited(String)
}

enum AuditClassification {
    /// `<service> <METHOD> <path>` → what a successful call records.
    static let routes: [String: AuditClass] = {
        var routes: [String: AuditClass] = [:]
        for service in Service.allCases {
            routes["\(service) POST /v1/admin/dead-letters/{eventId}/retry"] = .audited("dead_letter.replayed")
            routes["\(service) POST /internal/v1/events"] = .notAudited("a service's hand-off: its effects are recorded by the ticket trail and the inbox")
        }
        let requesterOwn = AuditClass.notAudited("a requester's own sign-in, session or answer, not a staff change")
        let intake: [String: AuditClass] = [
            "POST /v1/admin/mail/{id}/resend": .audited("mail.resent"),
            "POST /v1/tickets": .ticketTrail,
            "POST /v1/tickets/{id}/replies": .ticketTrail,
            "POST /v1/tickets/{id}/confirm": .ticketTrail,
            "POST /v1/tickets/{id}/requester-token": .audited("requester_token.reissued"),
            "POST /v1/inbound/email": .ticketTrail,
            "PATCH /v1/requesters/{id}": .notAudited(
                "a requester's profile has its own trail, requester_changes (who, before, after), written in the same transaction"),
            "POST /v1/kb/articles": .audited("kb_article.created"),
            "PUT /v1/kb/articles/{id}": .audited("kb_article.updated"),
            "DELETE /v1/kb/articles/{id}": .audited("kb_article.retired"),
            "POST /v1/kb/articles/{id}/publish": .audited("kb_article.published"),
            "POST /v1/kb/articles/{id}/versions/{version}/restore": .audited("kb_article.restored"),
            "POST /v1/kb/articles/{id}/votes": .notAudited("a reader's helpful-or-not vote (kb_votes, one per person): feedback, not a change of the article"),
            "POST /v1/self-service/suggestions": .notAudited("reads: a POST only for its body, it stores nothing"),
            "POST /v1/self-service/resolutions": .ticketTrail,
            "POST /v1/integrations": .audited("integration.created"),
            "DELETE /v1/integrations/{id}": .audited("integration.revoked"),
            "POST /v1/requester-sign-in": requesterOwn,
            "POST /v1/requester-sessions": requesterOwn,
            "DELETE /v1/requester-sessions/current": requesterOwn,
            "PUT /v1/tickets/{id}/satisfaction": requesterOwn,
        ]
        let triage: [String: AuditClass] = [
            "POST /v1/rules": .audited("triage_rule.created"),
            "PUT /v1/rules/{id}": .audited("triage_rule.updated"),
            "DELETE /v1/rules/{id}": .audited("triage_rule.deleted"),
            "POST /v1/rules/test": .notAudited("a dry run: it stores nothing"),
            "POST /v1/classifier/train": .audited("classifier_model.trained"),
            "POST /v1/vip": .audited("vip.added"),
            "DELETE /v1/vip/{id}": .audited("vip.removed"),
            "PUT /v1/categories/{name}": .audited("category_defaults.set"),
            "PATCH /v1/problems/{id}": .audited("problem.updated"),
            "POST /v1/problems/{id}/storm/confirm": .audited("problem.storm_confirmed"),
        ]
        let tierQueue: [String: AuditClass] = [
            "POST /v1/agents": .audited("agent.created"),
            "POST /v1/bootstrap": .audited("agent.created"),
            "PATCH /v1/agents/{id}": .audited("agent.updated"),
            "POST /v1/agents/{id}/token": .audited("agent.token_rotated"),
            "POST /v1/queues/{tier}/claim": .ticketTrail,
            "POST /v1/tickets/{id}/comments": .ticketTrail,
            "POST /v1/tickets/{id}/pending": .ticketTrail,
            "POST /v1/tickets/{id}/resolve": .ticketTrail,
            "POST /v1/tickets/{id}/escalate": .ticketTrail,
            "POST /v1/tickets/{id}/de-escalate": .ticketTrail,
            "POST /v1/tickets/{id}/reassign": .ticketTrail,
            "POST /v1/tickets/{id}/reopen": .ticketTrail,
            "POST /v1/tickets/{id}/close": .ticketTrail,
            "POST /v1/tickets/{id}/collaborators": .ticketTrail,
            "DELETE /v1/tickets/{id}/collaborators/{agentId}": .ticketTrail,
            "POST /v1/notifications/read": .notAudited("an agent marks its own notifications read: a receipt, not a change of settings or people"),
            "POST /v1/notifications/{id}/read": .notAudited("an agent marks its own notification read: a receipt, not a change of settings or people"),
            "PUT /v1/notifications/settings": .audited("agent.notification_settings_set"),
            "PUT /v1/sla/policies/{priority}": .audited("sla_policy.set"),
            "PUT /v1/sla/calendar": .audited("calendar.set"),
            "PUT /v1/escalation-contracts/{tier}": .audited("escalation_contract.set"),
            "PUT /v1/work-modes/{category}": .audited("work_mode.set"),
            // Single sign-on: the console's call after it verified an ID token. It records on the person what it changes
            // (agent.linked, agent.created, agent.updated, agent.sessions_revoked), and nothing for a sign-in that changes nothing.
            "POST /internal/v1/staff-sign-ins": .notAudited(
                "a sign-in, recorded only where it changes the person (linked, created, role or levels, sessions revoked): StaffSignInTests"),
            // Local accounts (issue 26, items 2 and 4): what changes a person's credentials is recorded on the person.
            "POST /v1/sign-in": .notAudited("a sign-in: the session it opens is its own record (staff_tokens, kind session: who, when it began, when it ends)"),
            "POST /v1/sign-out": .notAudited("a sign-out: the session's own record says when it ended (staff_tokens.revoked_at)"),
            "PUT /v1/me/password": .audited("agent.password_changed"),
            "POST /v1/me/totp": .notAudited("starts an enrolment that changes nothing until a code confirms it (recorded then)"),
            "POST /v1/me/totp/confirm": .audited("agent.totp_enabled"),
            "POST /v1/me/tokens": .audited("staff_token.created"),
            "DELETE /v1/me/tokens/{tokenID}": .audited("staff_token.revoked"),
            "POST /v1/staff/{id}/password": .audited("agent.password_reset"),
            "DELETE /v1/staff/{id}/totp": .audited("agent.totp_removed"),
            "POST /v1/staff/{id}/unlock": .audited("agent.unlocked"),
            "DELETE /v1/staff/{id}/tokens/{tokenID}": .audited("staff_token.revoked"),
            "DELETE /v1/work-modes/{category}": .audited("work_mode.deleted"),
        ]
        let vendorBridge: [String: AuditClass] = [
            "POST /v1/vendors": .audited("vendor.created"),
            "PATCH /v1/vendors/{id}": .audited("vendor.updated"),
            "POST /v1/vendors/{id}/api-key": .audited("vendor.key_rotated"),
            "POST /v1/deliveries/{id}/redeliver": .audited("webhook_delivery.redelivered"),
            "POST /v1/tickets/{id}/vendor-messages": .ticketTrail,
            "POST /v1/vendor/cases/{id}/updates": .ticketTrail,
        ]
        for (service, table) in [(Service.intake, intake), (.triage, triage), (.tierQueue, tierQueue), (.vendorBridge, vendorBridge)] {
            for (route, kind) in table { routes["\(service) \(route)"] = kind }
        }
        return routes
    }()

    static func key(_ rule: Rule) -> String { "\(rule.service) \(rule.route)" }

    /// Audited routes the matrix's world cannot call successfully, each with its own test here:
    /// the bootstrap (the tests' administrator exists) in `theBootstrapIsRecordedWithNoPerson`, and a
    /// confirmed TOTP enrolment (it needs a code of the person's new secret) and revoking one's own
    /// token (the matrix's spare token is no caller's) in `StaffAccountTests`.
    static let testedApart: Set<String> = ["tierQueue POST /v1/bootstrap", "tierQueue POST /v1/me/totp/confirm", "tierQueue DELETE /v1/me/tokens/{tokenID}"]

    static func isMutating(_ rule: Rule) -> Bool { !["GET", "HEAD"].contains(rule.methodAndPath.0.rawValue) }
}

/// Issue 26, item 5: an audit trail of every change.
@Suite struct AuditTrailTests {
    /// Every mutating route the matrix knows (and the matrix knows every route the routers serve) is
    /// classified: audited, the ticket's trail, or not an administrative change, with a reason.
    @Test func everyMutatingRouteIsClassified() {
        let mutating = Set(Rules.all.filter(AuditClassification.isMutating).map(AuditClassification.key))
        let classified = Set(AuditClassification.routes.keys)
        #expect(mutating.subtracting(classified).isEmpty, "mutating routes nobody classified for the audit trail: \(mutating.subtracting(classified).sorted())")
        #expect(classified.subtracting(mutating).isEmpty, "classified routes no router serves: \(classified.subtracting(mutating).sorted())")
    }

    /// Against the four services on live ports: each audited route, called by the callers the matrix
    /// refuses (403/404), for an unknown object and with a malformed body, leaves no row; called
    /// successfully it leaves exactly one, naming the caller, with before and after as the verb
    /// says. Afterwards no token, key or secret handed out is anywhere in the trail, and no
    /// before/after carries a hash, secret or sealed column.
    @Test(.freshDatabase) func everyAuditedRouteRecordsOneRowPerChangeAndNoneForARefusal() async throws {
        try await TestDatabase.withClient { client in
            try await Self.withServices(client: client) { world in
                var handedOut = world.fixedSecrets
                var audited = 0
                for rule in Rules.all where !AuditClassification.testedApart.contains(AuditClassification.key(rule)) {
                    guard case .audited(let action) = AuditClassification.routes[AuditClassification.key(rule)] else { continue }
                    let target = try await rule.setup(world)
                    let (method, _) = rule.methodAndPath
                    let service = world.clients[rule.service]!
                    let label = "\(rule.service) \(rule.route)"
                    let before = try await Self.count(world)
                    // Refused callers: nothing recorded.
                    for who in Who.allCases where [403, 404].contains(rule.expected(who)) {
                        let response = try await service.send(method, target.path, token: world.token(who, target), raw: target.body)
                        #expect(Int(response.status.code) == rule.expected(who), "\(label) as \(who)")
                    }
                    let (caller, status) = try #require(Self.successfulCaller(rule), "\(label)")
                    // An object that does not exist, and a body that is not one: nothing recorded.
                    if let unknown = Self.withUnknownID(target.path) {
                        let response = try await service.send(method, unknown, token: world.token(caller, target), raw: target.body)
                        #expect((400..<500).contains(Int(response.status.code)), "\(label) for an unknown id: \(response.status)")
                    }
                    if target.body != nil {
                        let response = try await service.send(method, target.path, token: world.token(caller, target), raw: "[]")
                        #expect((400..<500).contains(Int(response.status.code)), "\(label) with a malformed body: \(response.status)")
                    }
                    #expect(try await Self.count(world) == before, "\(label): a refused call left an audit row")
                    // The change: one row.
                    let response = try await service.send(method, target.path, token: world.token(caller, target), raw: target.body)
                    let body = String(buffer: response.body)
                    #expect(Int(response.status.code) == status, "\(label) as \(caller): \(response.status) \(body.prefix(300))")
                    handedOut.formUnion(World.secrets(in: body))
                    #expect(try await Self.count(world) == before + 1, "\(label): not exactly one audit row")
                    let row = try #require(try await Self.newest(world), "\(label)")
                    #expect(row.action == action, "\(label)")
                    #expect(row.personId == world.person(caller), "\(label): person \(String(describing: row.personId))")
                    #expect(!row.actor.isEmpty && row.requestId?.isEmpty == false && row.clientAddress == "127.0.0.1", "\(label): \(row)")
                    #expect(row.objectType == String(action.split(separator: ".")[0]), "\(label)")
                    let verb = action.split(separator: ".")[1]
                    // A creation has no before; a setting written for the first time (an upsert) may have none.
                    if ["created", "added", "trained"].contains(verb) {
                        #expect(row.before == nil, "\(label): before \(String(describing: row.before))")
                    } else if !["set", "reissued"].contains(verb) {
                        #expect(row.before != nil, "\(label): no before")
                    }
                    #expect((row.after == nil) == ["deleted", "removed"].contains(verb), "\(label): after \(String(describing: row.after))")
                    audited += 1
                }
                let expected =
                    AuditClassification.routes.filter { if case .audited = $0.value { true } else { false } }.count - AuditClassification.testedApart.count
                #expect(audited == expected)
                try await Self.expectNoSecrets(in: world, handedOut: handedOut)
            }
        }
    }

    /// A rule deleted through the API is still readable: its history (newest first) ends in the
    /// deletion, whose `before` is the rule as it last was.
    @Test(.freshDatabase) func aDeletedTriageRuleIsKeptAsHistory() async throws {
        try await withLiveApp(as: .triage, TriageApp.buildApplication) { triage in
            let admin = TestCredentials.adminToken
            let rule = RuleRequest(name: "Printers", match: RuleMatch(keywords: ["printer"]), route: RuleRoute(tier: 2))
            let created = try await triage.send(.post, "/v1/rules", token: admin, json: rule)
            let id = try JSONCoding.decodeBody(TriageRule.self, from: created.body).id
            var renamed = rule
            renamed.name = "Printers and scanners"
            #expect(try await triage.send(.put, "/v1/rules/\(id)", token: admin, json: renamed).status == .ok)
            #expect(try await triage.send(.delete, "/v1/rules/\(id)", token: admin).status == .noContent)
            #expect(try await triage.send(.get, "/v1/rules/\(id)", token: admin).status == .notFound)

            let history = try await triage.send(.get, "/v1/rules/\(id)/history", token: admin)
            #expect(history.status == .ok)
            let page = try JSONCoding.decodeBody(Page<AuditEvent>.self, from: history.body)
            #expect(page.items.map(\.action) == ["triage_rule.deleted", "triage_rule.updated", "triage_rule.created"])
            #expect(page.items[0].before?["name"] == .string("Printers and scanners") && page.items[0].after == nil)
            #expect(page.items[1].before?["name"] == .string("Printers") && page.items[1].after?["name"] == .string("Printers and scanners"))
            // Paged one at a time, the same rows.
            let first = try JSONCoding.decodeBody(
                Page<AuditEvent>.self, from: try await triage.send(.get, "/v1/rules/\(id)/history?limit=2", token: admin).body)
            let rest = try JSONCoding.decodeBody(
                Page<AuditEvent>.self,
                from: try await triage.send(.get, "/v1/rules/\(id)/history?limit=2&cursor=\(try #require(first.nextCursor))", token: admin).body)
            #expect((first.items + rest.items).map(\.id) == page.items.map(\.id) && rest.nextCursor == nil)
            #expect(try await triage.send(.get, "/v1/rules/\(UUID())/history", token: admin).status == .notFound)
        }
    }

    /// Every version of an article is kept; an old one is restored as the newest, and the restore is audited.
    @Test(.freshDatabase) func anArticlesOldVersionIsRestored() async throws {
        try await withLiveApp(as: .intake, IntakeApp.buildApplication) { intake in
            let admin = TestCredentials.adminToken
            let created = try await intake.send(
                .post, "/v1/kb/articles", token: admin, json: CreateArticleRequest(title: "VPN drops", body: "Restart the client."))
            let id = try JSONCoding.decodeBody(Article.self, from: created.body).id
            let edited = try await intake.send(
                .put, "/v1/kb/articles/\(id)", token: admin, json: CreateArticleRequest(title: "VPN drops", body: "Reinstall it."))
            #expect(edited.status == .ok)
            #expect(try await intake.send(.delete, "/v1/kb/articles/\(id)", token: admin).status == .noContent)

            let versions = try JSONCoding.decodeBody(
                Page<ArticleVersion>.self, from: try await intake.send(.get, "/v1/kb/articles/\(id)/versions", token: admin).body)
            #expect(versions.items.map(\.version) == [3, 2, 1])
            #expect(versions.items.map(\.status) == [.retired, .published, .published])
            #expect(versions.items.map(\.body) == ["Reinstall it.", "Reinstall it.", "Restart the client."])

            let restored = try await intake.send(.post, "/v1/kb/articles/\(id)/versions/1/restore", token: admin)
            #expect(restored.status == .ok)
            let article = try JSONCoding.decodeBody(Article.self, from: restored.body)
            #expect(article.body == "Restart the client." && article.status == .published)
            let after = try JSONCoding.decodeBody(
                Page<ArticleVersion>.self, from: try await intake.send(.get, "/v1/kb/articles/\(id)/versions?limit=1", token: admin).body)
            #expect(after.items.map(\.version) == [4] && after.items.first?.body == "Restart the client." && after.nextCursor == "4")
            // Published again: search finds it.
            #expect(String(buffer: try await intake.send(.get, "/v1/kb/search?q=restart").body).contains(id.uuidString.lowercased()))
            #expect(try await intake.send(.post, "/v1/kb/articles/\(id)/versions/9/restore", token: admin).status == .notFound)
            #expect(try await intake.send(.get, "/v1/kb/articles/\(UUID())/versions", token: admin).status == .notFound)

            let trail = try await TestDatabase.settings().withClient(poolSize: 1, logger: TestDatabase.logger) { client in
                try await AuditStore().list(
                    AuditFilter(objectType: "kb_article", objectID: "\(id)"), limit: 10, after: nil, on: client, logger: TestDatabase.logger)
            }
            #expect(trail.items.map(\.action) == ["kb_article.restored", "kb_article.retired", "kb_article.updated", "kb_article.created"])
            #expect(trail.items[0].before?["status"] == .string("retired") && trail.items[0].after?["body"] == .string("Restart the client."))
        }
    }

    /// While no administrator is active, the bootstrap token creates one: recorded with no person,
    /// the actor named `bootstrap token`; refused afterwards (409), with no row.
    @Test(.freshDatabase) func theBootstrapIsRecordedWithNoPerson() async throws {
        try await TestDatabase.withClient { client in
            try await client.execute("UPDATE agents SET active = false WHERE role = 'admin'", logger: TestDatabase.logger)
            try await withLiveApp(as: .tierQueue, TierQueueApp.buildApplication) { tierQueue in
                let request = BootstrapRequest(name: "First Admin", email: "first-admin@example.com")
                let created = try await tierQueue.send(.post, "/v1/bootstrap", token: TestCredentials.bootstrapToken, json: request)
                #expect(created.status == .created)
                let trail = try await AuditStore().list(AuditFilter(), limit: 10, after: nil, on: client, logger: TestDatabase.logger).items
                #expect(trail.count == 1)
                #expect(trail.first?.action == "agent.created" && trail.first?.personId == nil && trail.first?.actor == "bootstrap token")
                #expect(trail.first?.after?["email"] == .string("first-admin@example.com") && trail.first?.before == nil)
                let again = try await tierQueue.send(.post, "/v1/bootstrap", token: TestCredentials.bootstrapToken, json: request)
                #expect(again.status == .conflict)
                #expect(try await StoreFixture(client: client).count("audit_events") == 1)
            }
        }
    }

    /// No service role may change or remove a row, and the table's owner is refused by its triggers.
    @Test(.freshDatabase) func theTrailRefusesUpdateAndDelete() async throws {
        try await TestDatabase.withClient { client in
            try await AuditTrail.record(
                "vip.added", AuditObject(type: "vip", table: "vip_entries", match: "true"), id: "x", before: "{\"email\": \"a@example.com\"}",
                by: AuditActor(personID: nil, actor: "test"), on: client, now: Date(), logger: TestDatabase.logger)
            for role in ServiceRole.ticketServices {
                for sql in ["UPDATE audit_events SET actor = 'forged'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
                    #expect(try await Self.sqlState(as: role, sql) == "42501", "\(role.rawValue): \(sql)")
                }
                #expect(try await Self.sqlState(as: role, "UPDATE kb_article_versions SET title = 'forged'") == "42501")
            }
            #expect(try await Self.sqlState(as: .console, "SELECT * FROM audit_events") == "42501")
            for sql in ["UPDATE audit_events SET actor = 'forged'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
                do {
                    try await client.execute(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
                    Issue.record("the owner could run \(sql)")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.sqlState] == "42501", "\(sql): \(String(reflecting: error))")
                }
            }
            #expect(try await StoreFixture(client: client).count("audit_events") == 1)
        }
    }

    /// `GET /v1/audit` (tier-queue): newest first, each filter alone and together, keyset pages, 422
    /// for a filter that is not one, 403 for an agent.
    @Test(.freshDatabase) func theAuditListFiltersAndPages() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let agent = AgentIdentity.fixture(tiers: [.specialist])
            let agentToken = try await db.agentToken(agent)
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let object = AuditObject(type: "vip", table: "vip_entries", match: "true")
            // Twelve changes a minute apart: the agent's on even minutes, the admin token's on odd.
            for minute in 0..<12 {
                let actor = minute % 2 == 0 ? AuditActor(personID: agent.id, actor: "agent:x") : AuditActor(personID: nil, actor: "admin token")
                try await AuditTrail.record(
                    minute < 6 ? "vip.added" : "vip.removed", object, id: "vip-\(minute % 3)", before: "{\"n\": \(minute)}", by: actor, on: client,
                    now: start.addingTimeInterval(Double(minute) * 60), logger: db.logger)
            }
            try await withLiveApp(as: .tierQueue, TierQueueApp.buildApplication) { tierQueue in
                let admin = TestCredentials.adminToken
                func list(_ query: String) async throws -> Page<AuditEvent> {
                    let response = try await tierQueue.send(.get, "/v1/audit\(query)", token: admin)
                    #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                    return try JSONCoding.decodeBody(Page<AuditEvent>.self, from: response.body)
                }
                func minutes(_ page: Page<AuditEvent>) -> [Int] {
                    page.items.compactMap { if case .number(let n) = $0.before?["n"] { Int(n) } else { nil } }
                }
                #expect(minutes(try await list("")) == Array((0..<12).reversed()))
                #expect(minutes(try await list("?person=\(agent.id)")) == [10, 8, 6, 4, 2, 0])
                #expect(minutes(try await list("?action=vip.added")) == [5, 4, 3, 2, 1, 0])
                #expect(minutes(try await list("?objectType=vip&objectId=vip-1")) == [10, 7, 4, 1])
                #expect(minutes(try await list("?objectType=problem")) == [])
                let from = ISO8601DateFormatter().string(from: start.addingTimeInterval(180))
                let to = ISO8601DateFormatter().string(from: start.addingTimeInterval(540))
                #expect(minutes(try await list("?from=\(from)&to=\(to)")) == [8, 7, 6, 5, 4, 3])
                #expect(minutes(try await list("?from=\(from)&to=\(to)&person=\(agent.id)&action=vip.removed")) == [8, 6])
                // Keyset pages of 5: every row once, newest first.
                var seen: [Int] = []
                var cursor: String?
                repeat {
                    let page = try await list("?limit=5" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    #expect(page.items.count <= 5)
                    seen += minutes(page)
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(seen == Array((0..<12).reversed()))
                for bad in ["?person=someone", "?from=yesterday", "?from=\(to)&to=\(from)", "?limit=0", "?cursor=abc"] {
                    let response = try await tierQueue.send(.get, "/v1/audit\(bad)", token: admin)
                    #expect(response.status == .unprocessableContent, "\(bad): \(response.status)")
                }
                let refused = try await tierQueue.send(.get, "/v1/audit", token: agentToken)
                #expect(refused.status == .forbidden && !String(buffer: refused.body).contains("vip-"))
                // An auditor reads it as the administrators do.
                let auditor = try await tierQueue.send(.get, "/v1/audit?action=vip.added", token: try await db.staffToken(role: .auditor))
                #expect(minutes(try JSONCoding.decodeBody(Page<AuditEvent>.self, from: auditor.body)) == [5, 4, 3, 2, 1, 0])
            }
        }
    }
}

extension AuditTrailTests {
    /// The four services on live ports over one database, and the matrix's world of callers and objects.
    static func withServices(client: PostgresClient, _ body: @escaping @Sendable (World) async throws -> Void) async throws {
        let environment = [
            "TIERDESK_RATE_LIMIT_PER_MINUTE": "1000000", "TIERDESK_REQUESTER_RATE_LIMIT_PER_MINUTE": "1000000", "TIERDESK_AUTH_FAILURES_PER_MINUTE": "1000000",
        ]
        try await withLiveApp(as: .intake, environment: environment, IntakeApp.buildApplication) { intake in
            try await withLiveApp(as: .triage, environment: environment, TriageApp.buildApplication) { triage in
                try await withLiveApp(as: .tierQueue, environment: environment, TierQueueApp.buildApplication) { tierQueue in
                    try await withLiveApp(as: .vendorBridge, environment: environment, VendorBridgeApp.buildApplication) { vendorBridge in
                        try await body(
                            try await World.make(
                                db: StoreFixture(client: client),
                                clients: [.intake: intake, .triage: triage, .tierQueue: tierQueue, .vendorBridge: vendorBridge]))
                    }
                }
            }
        }
    }

    /// Who makes the change in the acceptance run: the admin where it may, else the first caller the matrix lets in.
    static func successfulCaller(_ rule: Rule) -> (Who, Int)? {
        if let status = rule.allowed[.admin], status < 300 { return (.admin, status) }
        return Who.allCases.compactMap { who in rule.allowed[who].flatMap { $0 < 300 ? (who, $0) : nil } }.first
    }

    /// `path` with its first id replaced by one nobody has; nil when it has none.
    static func withUnknownID(_ path: String) -> String? {
        guard let match = path.firstMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/) else { return nil }
        return path.replacingCharacters(in: match.range, with: UUID().uuidString.lowercased())
    }

    static func count(_ world: World) async throws -> Int { try await world.db.count("audit_events") }

    static func newest(_ world: World) async throws -> AuditEvent? {
        try await AuditStore().list(AuditFilter(), limit: 1, after: nil, on: world.db.client, logger: world.db.logger).items.first
    }

    /// No token, key or signing secret handed out in the trail, and no column named for a secret in any before or after.
    static func expectNoSecrets(in world: World, handedOut: Set<String>) async throws {
        let text = try await world.db.client.all("SELECT a::text AS row FROM audit_events a", logger: world.db.logger) { try $0.get("row", as: String.self) }
            .joined(separator: "\n")
        #expect(!text.isEmpty)
        let found = handedOut.filter { text.contains($0) }
        #expect(found.isEmpty, "secrets in audit_events: \(found.map { String($0.prefix(8)) + "…" })")
        // Every key of every object in a before or after, at any depth.
        let states = try await world.db.client.all("SELECT concat_ws(' ', before::text, after::text) AS states FROM audit_events", logger: world.db.logger) {
            try $0.get("states", as: String.self)
        }.joined(separator: "\n")
        let keys = Set(states.matches(of: /"([A-Za-z_]+)":\s/).map { String($0.output.1) })
        #expect(keys.contains("name") && keys.contains("webhook_url"), "the scan sees the trail's keys: \(keys.sorted())")
        #expect(keys.filter { $0.contains(/hash|secret|sealed|password|totp|^token$|^api_key$|^key$/) }.isEmpty, "\(keys.sorted())")
    }

    /// Runs `sql` as `role`; the SQLSTATE PostgreSQL answered, or nil when it succeeded.
    static func sqlState(as role: ServiceRole, _ sql: String) async throws -> String? {
        try await TestDatabase.settings().with(username: role.rawValue).withClient(poolSize: 1, logger: TestDatabase.logger) { client in
            do {
                try await client.execute(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
                return nil
            } catch let error as PSQLError {
                return error.serverInfo?[.sqlState] ?? "no sqlstate: \(String(reflecting: error))"
            }
        }
    }
}

extension World {
    /// The staff person behind a caller's token, as the trail must name it (nil: no person).
    func person(_ who: Who) -> UUID? {
        switch who {
        case .levelAgent: levelAgent.id
        case .otherLevelAgent: otherLevelAgent.id
        case .assignee: assignee.id
        case .admin: TestCredentials.adminID
        default: nil
        }
    }
}
