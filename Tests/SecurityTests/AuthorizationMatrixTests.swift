import Configuration
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

/// Every route of every service × every kind of caller, against the four services running on live
/// ports over one database. The routes come from the routers themselves: a route without a row here
/// fails the test. Every refusal is checked to have stored nothing. Afterwards the whole database is
/// searched for any token or key the run handed out, in plain text.
@Suite struct AuthorizationMatrixTests {
    @Test(.freshDatabase) func everyRouteAnswersEveryCallerAsItShould() async throws {
        try await TestDatabase.withClient { client in
            let environment = [
                "TIERDESK_RATE_LIMIT_PER_MINUTE": "1000000", "TIERDESK_REQUESTER_RATE_LIMIT_PER_MINUTE": "1000000",
                "TIERDESK_AUTH_FAILURES_PER_MINUTE": "1000000", "TIERDESK_SIGN_IN_RATE_PER_MINUTE": "1000000",
                "TIERDESK_PASSWORD_BCRYPT_COST": "4",
                // The SLA watcher changes tickets on its own: once a minute, it rarely lands inside a refused cell's check.
                "TIERDESK_SLA_CHECK_MS": "60000",
            ]
            try await withLiveApp(as: .intake, environment: environment, IntakeApp.buildApplication) { intake in
                try await withLiveApp(as: .triage, environment: environment, TriageApp.buildApplication) { triage in
                    try await withLiveApp(as: .tierQueue, environment: environment, TierQueueApp.buildApplication) { tierQueue in
                        try await withLiveApp(as: .vendorBridge, environment: environment, VendorBridgeApp.buildApplication) { vendorBridge in
                            let world = try await World.make(
                                db: StoreFixture(client: client),
                                clients: [.intake: intake, .triage: triage, .tierQueue: tierQueue, .vendorBridge: vendorBridge])
                            try await Self.run(world)
                        }
                    }
                }
            }
        }
    }

    static func run(_ world: World) async throws {
        let rules = Rules.all
        // Every served route has exactly one rule, and every rule a route.
        for service in Service.allCases {
            let served = try await service.routes()
            let covered = Set(rules.filter { $0.service == service }.map(\.route))
            #expect(
                served == covered,
                "\(service): routes without a rule \(served.subtracting(covered).sorted()), rules without a route \(covered.subtracting(served).sorted())")
        }
        var handedOut = world.fixedSecrets
        var cells = 0
        for rule in rules {
            for who in Who.allCases {
                let target = try await rule.setup(world)
                let expected = rule.expected(who)
                let before = try await world.fingerprint()
                let (method, _) = rule.methodAndPath
                let status: Int
                let body: String
                var headers = HTTPFields()
                if rule.streams && expected == 200 {
                    // A stream that is let in stays open: read what it sends at once, then hang up.
                    (status, body) = try await world.openStream(target.path, token: world.token(who, target))
                } else {
                    let response = try await world.clients[rule.service]!.send(method, target.path, token: world.token(who, target), raw: target.body)
                    (status, body, headers) = (Int(response.status.code), String(buffer: response.body), response.headers)
                }
                #expect(status == expected, "\(rule.route) on \(rule.service) as \(who): \(status), expected \(expected): \(String(body.prefix(300)))")
                let foreign = world.notificationLeaks(in: body, to: who, listing: rule.route == "GET /v1/notifications" && status == 200)
                #expect(foreign.isEmpty, "\(rule.route) on \(rule.service) as \(who): \(foreign)")
                if expected >= 400 {
                    let after = try await world.fingerprint()
                    #expect(before == after, "\(rule.route) as \(who) was refused but changed \(World.changed(before, after))")
                }
                let shouted = upperCaseIDs(in: body) + headers.flatMap { upperCaseIDs(in: $0.value) }
                #expect(shouted.isEmpty, "\(rule.route) on \(rule.service) as \(who) spells ids in upper case: \(shouted)")
                // A list of sessions and tokens never holds a token or its hash.
                if rule.route.hasPrefix("GET "), rule.route.hasSuffix("/tokens") {
                    #expect(!body.contains("tda_") && !body.lowercased().contains("hash"), "\(rule.route) as \(who) shows a token: \(body.prefix(300))")
                }
                let leaks = BodyRule.leaks(in: body, to: who) + (try await world.unreadableIncidents(in: body, for: who))
                #expect(leaks.isEmpty, "\(rule.route) on \(rule.service) answered \(who) what it may not see: \(leaks)")
                handedOut.formUnion(World.secrets(in: body))
                if let ticket = target.ticket { handedOut.insert(Secrets.requesterToken(ticketID: ticket, secret: TestCredentials.secret)) }
                cells += 1
            }
        }
        #expect(cells == rules.count * Who.allCases.count)
        try await world.expectNoPlaintext(handedOut)
        try await world.expectLowerCaseIDsAtRest()
    }
}

/// The ids in `text` spelled with an upper-case hex digit (RFC 9562's canonical form is lower case).
func upperCaseIDs(in text: String) -> [String] {
    text.matches(of: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/).map { String($0.output) }
        .filter { $0 != $0.lowercased() }
}

/// Who calls.
enum Who: String, CaseIterable, Sendable {
    /// `signedInRequester`: the other requester (ticket B's), signed in by email: a session for all their tickets.
    /// `lead`: a team lead of level 1 (answered as `levelAgent` unless a rule says otherwise); `auditor`
    /// reads reports; `bootstrap` is `TIERDESK_ADMIN_TOKEN`, which only creates the first administrator.
    case anonymous, bogusToken, requester, otherRequester, signedInRequester, levelAgent, otherLevelAgent, assignee, lead, owningVendor, otherVendor,
        integration, mailGateway, admin, auditor, bootstrap, `internal`
}

enum Service: String, CaseIterable, Sendable {
    case intake, triage, tierQueue, vendorBridge

    /// The routes the service's router serves, as `METHOD /path`.
    func routes() async throws -> Set<String> {
        let reader = TestCredentials.reader(database: try TestDatabase.settings())
        switch self {
        case .intake:
            let configuration = try TierdeskConfiguration(
                reader: reader, serviceName: Intake.serviceName, defaultPort: Intake.defaultPort, keys: IntakeDependencies.keyPurposes)
            let runtime = try ServiceRuntime(configuration: configuration)
            return OpenAPICheck.served(IntakeApp.buildRouter(try IntakeDependencies(runtime: runtime, configuration: IntakeConfiguration())))
        case .triage:
            let runtime = try ServiceRuntime(
                configuration: TierdeskConfiguration(reader: reader, serviceName: Triage.serviceName, defaultPort: Triage.defaultPort))
            return OpenAPICheck.served(TriageApp.buildRouter(TriageDependencies(runtime: runtime)))
        case .tierQueue:
            let configuration = try TierdeskConfiguration(reader: reader, serviceName: TierQueue.serviceName, defaultPort: TierQueue.defaultPort)
            let runtime = try ServiceRuntime(configuration: configuration)
            let deps = TierQueueDependencies(
                runtime: runtime, configuration: TierQueueConfiguration(tiers: [.firstLine]),
                vendorBridge: HTTPVendorBridgeClient(baseURL: "http://127.0.0.1:9", internalToken: TestCredentials.internalToken),
                intake: HTTPIntakeClient(baseURL: "http://127.0.0.1:9", internalToken: TestCredentials.internalToken),
                triage: HTTPTriageClient(baseURL: "http://127.0.0.1:9", internalToken: TestCredentials.internalToken))
            return OpenAPICheck.served(TierQueueApp.buildRouter(deps))
        case .vendorBridge:
            let configuration = try TierdeskConfiguration(
                reader: reader, serviceName: VendorBridge.serviceName, defaultPort: VendorBridge.defaultPort, keys: VendorBridgeDependencies.keyPurposes)
            return OpenAPICheck.served(VendorBridgeApp.buildRouter(try VendorBridgeDependencies(runtime: try ServiceRuntime(configuration: configuration))))
        }
    }

    /// Tokens only intake recognises (elsewhere they are unknown tokens: 401).
    static let intakeOnly: Set<Who> = [.requester, .otherRequester, .signedInRequester, .integration, .mailGateway]
}

/// What one cell sends: the concrete path, a JSON body, and the ticket that "this ticket" means.
struct Target: Sendable {
    var path: String
    var body: String?
    var ticket: UUID?
}

/// One route's rule: who gets what.
struct Rule: Sendable {
    var service: Service
    var route: String
    /// Status for the callers allowed (or answered specially).
    var allowed: [Who: Int]
    /// Status without a token.
    var anonymous = 401
    /// Callers answered 404, as if the object did not exist (they may not know it does).
    var hidden: Set<Who> = []
    /// A Server-Sent Events stream: a caller let in is read briefly, then hung up on.
    var streams = false
    var setup: @Sendable (World) async throws -> Target

    var methodAndPath: (HTTPRequest.Method, String) {
        let parts = route.split(separator: " ", maxSplits: 1)
        return (HTTPRequest.Method(String(parts[0]))!, String(parts[1]))
    }

    /// The routes of a person's own credentials, which an auditor's read-only token may use.
    static let ownAccount: Set<String> = [
        "POST /v1/sign-out", "PUT /v1/me/password", "POST /v1/me/totp", "POST /v1/me/totp/confirm", "POST /v1/me/tokens", "DELETE /v1/me/tokens/{tokenID}",
    ]

    func expected(_ who: Who) -> Int {
        if who == .bogusToken || (service != .intake && Service.intakeOnly.contains(who)) { return 401 }
        // An auditor's token only reads: anything else is refused before the route, but for their own
        // password, second factor, tokens and sign-out (`AuthMiddleware.isOwnAccount`).
        if who == .auditor, methodAndPath.0 != .get, !Self.ownAccount.contains(route) { return 403 }
        if let status = allowed[who] { return status }
        if who == .lead { return expected(.levelAgent) }
        if who == .anonymous { return anonymous }
        return hidden.contains(who) ? 404 : 403
    }
}

enum Rules {
    /// Every recognised caller, with `status`.
    static func everyone(_ status: Int) -> [Who: Int] {
        Dictionary(uniqueKeysWithValues: Who.allCases.filter { $0 != .bogusToken }.map { ($0, status) })
    }

    static func path(_ text: String) -> @Sendable (World) async throws -> Target { { _ in Target(path: text) } }

    static func json(_ value: some Encodable) -> String { (try? JSONCoding.string(value)) ?? "" }

    static var all: [Rule] { Service.allCases.flatMap(common) + intake + triage + tierQueue + vendorBridge }

    static func common(_ service: Service) -> [Rule] {
        [
            Rule(service: service, route: "GET /health/live", allowed: everyone(200), anonymous: 200, setup: path("/health/live")),
            Rule(service: service, route: "GET /health/ready", allowed: everyone(200), anonymous: 200, setup: path("/health/ready")),
            Rule(service: service, route: "GET /metrics", allowed: everyone(200), anonymous: 200, setup: path("/metrics")),
            Rule(service: service, route: "GET /openapi.yaml", allowed: everyone(200), anonymous: 200, setup: path("/openapi.yaml")),
            Rule(service: service, route: "GET /v1/admin/dead-letters", allowed: [.admin: 200], setup: path("/v1/admin/dead-letters")),
            Rule(service: service, route: "POST /v1/admin/dead-letters/{eventId}/retry", allowed: [.admin: 202]) { world in
                Target(path: "/v1/admin/dead-letters/\(try await world.deadLetter(source: service.sourceName))/retry")
            },
            Rule(service: service, route: "POST /internal/v1/events", allowed: [.internal: 200]) { world in
                let event = try await world.consumedEvent(for: service)
                return Target(path: "/internal/v1/events", body: json(event), ticket: event.ticketId)
            },
        ]
    }

    static let agentsAndAdmin: [Who: Int] = [.levelAgent: 200, .assignee: 200, .admin: 200]

    static var intake: [Rule] {
        [
            // Every service's outgoing mail: the administrator's alone (nobody else sees a recipient or a subject).
            Rule(service: .intake, route: "GET /v1/admin/mail", allowed: [.admin: 200]) { world in
                _ = try await world.sentMail()
                return Target(path: "/v1/admin/mail?status=sent")
            },
            Rule(service: .intake, route: "POST /v1/admin/mail/{id}/resend", allowed: [.admin: 202]) { world in
                Target(path: "/v1/admin/mail/\(try await world.sentMail())/resend")
            },
            // On `api`: an integration allowed it, an agent or the admin; anonymous callers file on the web only.
            Rule(
                service: .intake, route: "POST /v1/tickets",
                allowed: [.levelAgent: 201, .otherLevelAgent: 201, .assignee: 201, .admin: 201, .integration: 201], anonymous: 403
            ) { _ in
                let id = UUID().uuidString.prefix(8)
                return Target(path: "/v1/tickets", body: json(SubmitTicketRequest.fixture(email: "m\(id)@example.com", channel: .api, subject: "Matrix \(id)")))
            },
            Rule(
                service: .intake, route: "GET /v1/tickets/{id}", allowed: agentsAndAdmin.merging([.requester: 200]) { a, _ in a },
                hidden: [.otherRequester, .signedInRequester, .otherLevelAgent]
            ) {
                world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)", ticket: ticket)
            },
            Rule(service: .intake, route: "POST /v1/tickets/{id}/replies", allowed: [.requester: 200], hidden: [.otherRequester, .signedInRequester]) {
                world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/replies", body: json(CommentRequest(message: "More detail")), ticket: ticket)
            },
            Rule(service: .intake, route: "POST /v1/tickets/{id}/confirm", allowed: [.requester: 200], hidden: [.otherRequester, .signedInRequester]) {
                world in
                let ticket = try await world.workedTicket(resolved: true)
                return Target(path: "/v1/tickets/\(ticket)/confirm", ticket: ticket)
            },
            Rule(service: .intake, route: "POST /v1/tickets/{id}/requester-token", allowed: [.admin: 200]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/requester-token", ticket: ticket)
            },
            Rule(service: .intake, route: "POST /v1/inbound/email", allowed: [.mailGateway: 201]) { _ in
                let mail = InboundEmail(from: "pat@example.com", to: "it@example.com", subject: "Matrix mail", text: "Hello", messageId: "<\(UUID())@matrix>")
                return Target(path: "/v1/inbound/email", body: json(mail))
            },
            Rule(service: .intake, route: "GET /v1/requesters/{id}", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/requesters/\(try await world.requester(of: ticket))", ticket: ticket)
            },
            Rule(service: .intake, route: "PATCH /v1/requesters/{id}", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(
                    path: "/v1/requesters/\(try await world.requester(of: ticket))", body: json(UpdateRequesterRequest(phone: "+41 44 555 55 55")),
                    ticket: ticket)
            },
            Rule(service: .intake, route: "GET /v1/kb/search", allowed: everyone(200), anonymous: 200, setup: path("/v1/kb/search?q=vpn")),
            Rule(service: .intake, route: "GET /v1/kb/articles/{id}", allowed: everyone(200), anonymous: 200) { world in
                Target(path: "/v1/kb/articles/\(try await world.article())")
            },
            Rule(service: .intake, route: "POST /v1/kb/articles", allowed: [.otherLevelAgent: 201, .admin: 201]) { _ in
                Target(path: "/v1/kb/articles", body: json(CreateArticleRequest(title: "Matrix article \(UUID())", body: "Body.")))
            },
            Rule(service: .intake, route: "PUT /v1/kb/articles/{id}", allowed: [.otherLevelAgent: 200, .admin: 200]) { world in
                Target(path: "/v1/kb/articles/\(try await world.article())", body: json(CreateArticleRequest(title: "Edited", body: "Edited body.")))
            },
            Rule(service: .intake, route: "DELETE /v1/kb/articles/{id}", allowed: [.otherLevelAgent: 204, .admin: 204]) { world in
                Target(path: "/v1/kb/articles/\(try await world.article())")
            },
            // Every version of an article: level 3 and the audit's readers; restoring one is writing the article.
            Rule(service: .intake, route: "GET /v1/kb/articles/{id}/versions", allowed: [.otherLevelAgent: 200, .admin: 200, .auditor: 200]) { world in
                Target(path: "/v1/kb/articles/\(try await world.article())/versions")
            },
            Rule(service: .intake, route: "POST /v1/kb/articles/{id}/versions/{version}/restore", allowed: [.otherLevelAgent: 200, .admin: 200]) { world in
                Target(path: "/v1/kb/articles/\(try await world.article())/versions/1/restore")
            },
            Rule(service: .intake, route: "GET /v1/kb/drafts", allowed: [.otherLevelAgent: 200, .admin: 200], setup: path("/v1/kb/drafts")),
            Rule(service: .intake, route: "POST /v1/kb/articles/{id}/publish", allowed: [.otherLevelAgent: 200, .admin: 200]) { world in
                Target(path: "/v1/kb/articles/\(try await world.article(draft: true))/publish")
            },
            Rule(
                service: .intake, route: "POST /v1/kb/articles/{id}/votes",
                allowed: [.requester: 200, .otherRequester: 200, .signedInRequester: 200, .levelAgent: 200, .otherLevelAgent: 200, .assignee: 200]
            ) { world in
                Target(path: "/v1/kb/articles/\(try await world.article())/votes", body: json(VoteRequest(helpful: true)))
            },
            Rule(service: .intake, route: "POST /v1/self-service/suggestions", allowed: everyone(200), anonymous: 200) { _ in
                Target(path: "/v1/self-service/suggestions", body: json(SuggestionRequest(subject: "VPN drops")))
            },
            Rule(
                service: .intake, route: "POST /v1/self-service/resolutions",
                allowed: [
                    .requester: 201, .otherRequester: 201, .signedInRequester: 201, .levelAgent: 201, .otherLevelAgent: 201, .assignee: 201, .admin: 201,
                ], anonymous: 201
            ) { world in
                let request = SelfServiceResolutionRequest(
                    requester: RequesterInput(email: "s\(UUID().uuidString.prefix(8))@example.com"), subject: "Solved it", articleId: try await world.article())
                return Target(path: "/v1/self-service/resolutions", body: json(request))
            },
            Rule(service: .intake, route: "POST /v1/integrations", allowed: [.admin: 201]) { _ in
                Target(path: "/v1/integrations", body: json(CreateIntegrationRequest(name: "Matrix \(UUID())", channels: [.api])))
            },
            Rule(service: .intake, route: "GET /v1/integrations", allowed: [.admin: 200], setup: path("/v1/integrations")),
            Rule(service: .intake, route: "DELETE /v1/integrations/{id}", allowed: [.admin: 204]) { world in
                Target(path: "/v1/integrations/\(try await world.integration().id)")
            },
            // The same answer for everybody: whether an address has tickets is nobody's business.
            Rule(service: .intake, route: "POST /v1/requester-sign-in", allowed: everyone(202), anonymous: 202) { world in
                Target(path: "/v1/requester-sign-in", body: json(SignInLinkRequest(email: try await world.requesterEmail(of: world.ticketA))))
            },
            // The link's key is the credential, whoever holds it.
            Rule(service: .intake, route: "POST /v1/requester-sessions", allowed: everyone(201), anonymous: 201) { world in
                Target(path: "/v1/requester-sessions", body: json(RequesterSessionRequest(key: try await world.signInKey())))
            },
            Rule(service: .intake, route: "GET /v1/me/tickets", allowed: [.signedInRequester: 200], setup: path("/v1/me/tickets")),
            Rule(
                service: .intake, route: "GET /v1/tickets/{id}/satisfaction", allowed: agentsAndAdmin.merging([.requester: 200]) { a, _ in a },
                hidden: [.otherRequester, .signedInRequester, .otherLevelAgent]
            ) { world in
                let ticket = try await world.workedTicket(resolved: true, rated: true)
                return Target(path: "/v1/tickets/\(ticket)/satisfaction", ticket: ticket)
            },
            Rule(
                service: .intake, route: "PUT /v1/tickets/{id}/satisfaction", allowed: [.requester: 200], hidden: [.otherRequester, .signedInRequester]
            ) { world in
                let ticket = try await world.workedTicket(resolved: true)
                return Target(path: "/v1/tickets/\(ticket)/satisfaction", body: json(SatisfactionRequest(rating: 4)), ticket: ticket)
            },
            Rule(
                service: .intake, route: "GET /v1/reports/satisfaction", allowed: [.otherLevelAgent: 200, .lead: 200, .admin: 200, .auditor: 200],
                setup: path("/v1/reports/satisfaction?by=agent")),
            // Last of intake's: it ends the signed-in requester's session (its setup opens it again for this rule's cells).
            Rule(service: .intake, route: "DELETE /v1/requester-sessions/current", allowed: [.signedInRequester: 204]) { world in
                try await world.openSignedInSession()
                return Target(path: "/v1/requester-sessions/current")
            },
        ]
    }

    static let anyAgentAndAdmin: [Who: Int] = [.levelAgent: 200, .otherLevelAgent: 200, .assignee: 200, .admin: 200]

    static var triage: [Rule] {
        let rule = RuleRequest(name: "Matrix rule", match: RuleMatch(keywords: ["matrixword"]), route: RuleRoute(tier: 2))
        return [
            Rule(service: .triage, route: "GET /v1/rules", allowed: [.admin: 200], setup: path("/v1/rules")),
            Rule(service: .triage, route: "POST /v1/rules", allowed: [.admin: 201]) { _ in Target(path: "/v1/rules", body: json(rule)) },
            Rule(service: .triage, route: "GET /v1/rules/{id}", allowed: [.admin: 200]) { world in
                Target(path: "/v1/rules/\(try await world.triageRule())")
            },
            Rule(service: .triage, route: "PUT /v1/rules/{id}", allowed: [.admin: 200]) { world in
                Target(path: "/v1/rules/\(try await world.triageRule())", body: json(rule))
            },
            Rule(service: .triage, route: "DELETE /v1/rules/{id}", allowed: [.admin: 204]) { world in
                Target(path: "/v1/rules/\(try await world.triageRule())")
            },
            Rule(service: .triage, route: "GET /v1/rules/{id}/history", allowed: [.admin: 200, .auditor: 200]) { world in
                Target(path: "/v1/rules/\(try await world.triageRule(audited: true))/history")
            },
            Rule(service: .triage, route: "POST /v1/rules/test", allowed: [.admin: 200]) { _ in
                Target(path: "/v1/rules/test", body: json(RuleTestRequest(subject: "VPN drops", description: "Since this morning")))
            },
            Rule(service: .triage, route: "GET /v1/classifier", allowed: [.admin: 200], setup: path("/v1/classifier")),
            Rule(service: .triage, route: "POST /v1/classifier/train", allowed: [.admin: 200]) { world in
                try await world.resolvedHistory()
                return Target(path: "/v1/classifier/train")
            },
            Rule(service: .triage, route: "GET /v1/vip", allowed: [.admin: 200], setup: path("/v1/vip")),
            Rule(service: .triage, route: "POST /v1/vip", allowed: [.admin: 201]) { _ in
                Target(path: "/v1/vip", body: json(VIPRequest(email: "vip-\(UUID().uuidString.prefix(8))@example.com")))
            },
            Rule(service: .triage, route: "DELETE /v1/vip/{id}", allowed: [.admin: 204]) { world in
                Target(path: "/v1/vip/\(try await world.vip())")
            },
            Rule(service: .triage, route: "GET /v1/categories", allowed: [.admin: 200], setup: path("/v1/categories")),
            Rule(service: .triage, route: "PUT /v1/categories/{name}", allowed: [.admin: 200]) { _ in
                Target(path: "/v1/categories/printing", body: json(CategoryDefaultsRequest(impact: .low, urgency: .low)))
            },
            Rule(service: .triage, route: "GET /internal/v1/tickets/{id}/problem", allowed: [.internal: 200]) { world in
                Target(path: "/internal/v1/tickets/\(world.ticketA)/problem")
            },
            Rule(service: .triage, route: "GET /v1/problems", allowed: anyAgentAndAdmin, setup: path("/v1/problems")),
            Rule(service: .triage, route: "GET /v1/problems/{id}", allowed: anyAgentAndAdmin) { world in
                Target(path: "/v1/problems/\(try await world.problem())")
            },
            Rule(service: .triage, route: "PATCH /v1/problems/{id}", allowed: [.otherLevelAgent: 200, .admin: 200]) { world in
                Target(path: "/v1/problems/\(try await world.problem())", body: json(UpdateProblemRequest(workaround: "Restart the spooler")))
            },
            // Levels 2 and 3 confirm a storm's mass change; level 1 may not.
            Rule(service: .triage, route: "POST /v1/problems/{id}/storm/confirm", allowed: [.otherLevelAgent: 200, .admin: 200]) { world in
                Target(path: "/v1/problems/\(try await world.problem(storm: true))/storm/confirm")
            },
        ]
    }

    /// Every member of staff the matrix has, with `status`.
    static func staff(_ status: Int) -> [Who: Int] {
        [.levelAgent: status, .otherLevelAgent: status, .assignee: status, .lead: status, .admin: status, .auditor: status]
    }

    /// Local accounts, sessions and tokens (issue 26): sign-in is anyone's; a person's own account
    /// and tokens are theirs (another's token is 404 to them); anyone's are the administrators'.
    static var staffAccounts: [Rule] {
        [
            Rule(service: .tierQueue, route: "POST /v1/sign-in", allowed: everyone(200), anonymous: 200) { world in
                let account = try await world.localAccount()
                return Target(
                    path: "/v1/sign-in", body: json(SignInRequest(email: account.email, password: account.password, newPassword: "matrix passphrase")))
            },
            Rule(service: .tierQueue, route: "POST /v1/sign-out", allowed: staff(204), setup: path("/v1/sign-out")),
            Rule(service: .tierQueue, route: "GET /v1/me/account", allowed: staff(200), setup: path("/v1/me/account")),
            Rule(service: .tierQueue, route: "PUT /v1/me/password", allowed: staff(200)) { _ in
                Target(path: "/v1/me/password", body: json(ChangePasswordRequest(newPassword: "matrix passphrase")))
            },
            Rule(service: .tierQueue, route: "POST /v1/me/totp", allowed: staff(200), setup: path("/v1/me/totp")),
            Rule(service: .tierQueue, route: "POST /v1/me/totp/confirm", allowed: staff(422)) { _ in
                Target(path: "/v1/me/totp/confirm", body: json(ConfirmTOTPRequest(code: "not a code")))
            },
            Rule(service: .tierQueue, route: "GET /v1/me/tokens", allowed: staff(200), setup: path("/v1/me/tokens")),
            Rule(service: .tierQueue, route: "POST /v1/me/tokens", allowed: staff(201)) { _ in
                Target(
                    path: "/v1/me/tokens", body: json(CreatePersonalTokenRequest(name: "matrix", scope: .read, expiresAt: Date().addingTimeInterval(86_400))))
            },
            Rule(service: .tierQueue, route: "DELETE /v1/me/tokens/{tokenID}", allowed: staff(404)) { world in
                Target(path: "/v1/me/tokens/\(try await world.spareToken().token)")
            },
            Rule(service: .tierQueue, route: "GET /v1/staff/{id}/account", allowed: [.admin: 200]) { world in
                Target(path: "/v1/staff/\(try await world.spareAgent())/account")
            },
            Rule(service: .tierQueue, route: "POST /v1/staff/{id}/password", allowed: [.admin: 200]) { world in
                Target(path: "/v1/staff/\(try await world.spareAgent())/password")
            },
            Rule(service: .tierQueue, route: "DELETE /v1/staff/{id}/totp", allowed: [.admin: 200]) { world in
                Target(path: "/v1/staff/\(try await world.spareAgent())/totp")
            },
            Rule(service: .tierQueue, route: "POST /v1/staff/{id}/unlock", allowed: [.admin: 200]) { world in
                Target(path: "/v1/staff/\(try await world.spareAgent())/unlock")
            },
            Rule(service: .tierQueue, route: "GET /v1/staff/{id}/tokens", allowed: [.admin: 200]) { world in
                Target(path: "/v1/staff/\(try await world.spareToken().person)/tokens")
            },
            Rule(service: .tierQueue, route: "DELETE /v1/staff/{id}/tokens/{tokenID}", allowed: [.admin: 204]) { world in
                let spare = try await world.spareToken()
                return Target(path: "/v1/staff/\(spare.person)/tokens/\(spare.token)")
            },
        ]
    }

    static var tierQueue: [Rule] {
        staffAccounts + [
            Rule(service: .tierQueue, route: "POST /v1/agents", allowed: [.admin: 201]) { _ in
                Target(path: "/v1/agents", body: json(CreateAgentRequest(name: "Matrix", email: "a\(UUID().uuidString.prefix(8))@example.com", tiers: [1])))
            },
            Rule(service: .tierQueue, route: "GET /v1/agents", allowed: [.admin: 200], setup: path("/v1/agents")),
            Rule(service: .tierQueue, route: "PATCH /v1/agents/{id}", allowed: [.admin: 200]) { world in
                Target(path: "/v1/agents/\(try await world.spareAgent())", body: json(UpdateAgentRequest(wipLimit: 7)))
            },
            Rule(service: .tierQueue, route: "POST /v1/agents/{id}/token", allowed: [.admin: 200]) { world in
                Target(path: "/v1/agents/\(try await world.spareAgent())/token")
            },
            Rule(service: .tierQueue, route: "GET /v1/queues/{tier}", allowed: agentsAndAdmin, setup: path("/v1/queues/1")),
            Rule(service: .tierQueue, route: "POST /v1/queues/{tier}/claim", allowed: [.levelAgent: 200, .assignee: 200]) { world in
                _ = try await world.db.queued(tier: .firstLine)
                return Target(path: "/v1/queues/1/claim")
            },
            Rule(service: .tierQueue, route: "GET /v1/tickets/{id}", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)", ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/comments", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/comments", body: json(CommentRequest(message: "Looking into it")), ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/pending", allowed: [.assignee: 200, .admin: 200], hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(
                    path: "/v1/tickets/\(ticket)/pending", body: json(PendingRequest(reason: .awaitingCustomerInfo, note: "Waiting for logs")), ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/resolve", allowed: [.assignee: 200, .admin: 200], hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/resolve", body: json(ResolveRequest(resolution: "Fixed")), ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/escalate", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/escalate", body: json(EscalateRequest(reason: "Needs the network team")), ticket: ticket)
            },
            // Worked at level 2 by the assignee (a level 1 agent): only it and the admin may send it back.
            Rule(
                service: .tierQueue, route: "POST /v1/tickets/{id}/de-escalate", allowed: [.assignee: 200, .admin: 200],
                hidden: [.levelAgent, .otherLevelAgent]
            ) { world in
                let ticket = try await world.db.inProgress(tier: .backOffice, agent: world.assignee)
                return Target(path: "/v1/tickets/\(ticket.id)/de-escalate", body: json(DeescalateRequest(note: "Known issue")), ticket: ticket.id)
            },
            // The level's team lead hands a ticket on whoever holds it.
            Rule(
                service: .tierQueue, route: "POST /v1/tickets/{id}/reassign", allowed: [.assignee: 200, .lead: 200, .admin: 200], hidden: [.otherLevelAgent]
            ) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/reassign", body: json(ReassignRequest(agentId: world.levelAgent.id)), ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/reopen", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket(resolved: true)
                return Target(path: "/v1/tickets/\(ticket)/reopen", body: json(ReopenRequest(reason: "The fix did not hold")), ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/close", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket(resolved: true)
                return Target(path: "/v1/tickets/\(ticket)/close", body: json(CloseRequest(note: "Confirmed")), ticket: ticket)
            },
            Rule(service: .tierQueue, route: "POST /v1/tickets/{id}/collaborators", allowed: agentsAndAdmin, hidden: [.otherLevelAgent]) { world in
                let ticket = try await world.workedTicket()
                return Target(path: "/v1/tickets/\(ticket)/collaborators", body: json(CollaboratorRequest(agentId: world.otherLevelAgent.id)), ticket: ticket)
            },
            // The collaborator may leave the swarm itself.
            Rule(
                service: .tierQueue, route: "DELETE /v1/tickets/{id}/collaborators/{agentId}",
                allowed: [.levelAgent: 204, .otherLevelAgent: 204, .assignee: 204, .admin: 204]
            ) { world in
                let ticket = try await world.workedTicket()
                try await world.db.client.execute(
                    "INSERT INTO ticket_collaborators (ticket_id, agent_id, added_at) VALUES (\(ticket), \(world.otherLevelAgent.id), now())",
                    logger: world.db.logger)
                return Target(path: "/v1/tickets/\(ticket)/collaborators/\(world.otherLevelAgent.id)", ticket: ticket)
            },
            Rule(service: .tierQueue, route: "GET /v1/agents/me", allowed: anyAgent, setup: path("/v1/agents/me")),
            Rule(service: .tierQueue, route: "GET /v1/agents/me/tickets", allowed: anyAgent, setup: path("/v1/agents/me/tickets")),
            // Each agent its own notifications (`World.notificationLeaks` checks every body); the admin has none.
            Rule(service: .tierQueue, route: "GET /v1/notifications", allowed: anyAgent, setup: path("/v1/notifications")),
            Rule(service: .tierQueue, route: "POST /v1/notifications/read", allowed: anyAgent, setup: path("/v1/notifications/read")),
            Rule(
                service: .tierQueue, route: "POST /v1/notifications/{id}/read", allowed: [.levelAgent: 200, .lead: 404], hidden: [.otherLevelAgent, .assignee]
            ) { world in
                Target(path: "/v1/notifications/\(world.notifications[.levelAgent]!.id)/read")
            },
            Rule(service: .tierQueue, route: "GET /v1/notifications/settings", allowed: anyAgent, setup: path("/v1/notifications/settings")),
            Rule(service: .tierQueue, route: "PUT /v1/notifications/settings", allowed: anyAgent) { _ in
                Target(path: "/v1/notifications/settings", body: json(NotificationSettings(mail: .immediate)))
            },
            // The admin's stream carries only "queue changed" (it has no notifications).
            Rule(service: .tierQueue, route: "GET /v1/notifications/stream", allowed: anyAgentAndAdmin, streams: true, setup: path("/v1/notifications/stream")),
            Rule(service: .tierQueue, route: "GET /v1/agents/colleagues", allowed: anyAgentAndAdmin, setup: path("/v1/agents/colleagues?tier=2")),
            Rule(service: .tierQueue, route: "GET /v1/agents/{id}", allowed: [.admin: 200]) { world in
                Target(path: "/v1/agents/\(try await world.spareAgent())")
            },
            Rule(service: .tierQueue, route: "GET /v1/sla/policies", allowed: anyAgentAndAdmin, setup: path("/v1/sla/policies")),
            Rule(service: .tierQueue, route: "PUT /v1/sla/policies/{priority}", allowed: [.admin: 200]) { _ in
                Target(path: "/v1/sla/policies/P4", body: json(SLAPolicyRequest(firstResponseSeconds: 28_800, resolutionSeconds: 259_200, businessHours: true)))
            },
            Rule(service: .tierQueue, route: "GET /v1/sla/calendar", allowed: anyAgentAndAdmin, setup: path("/v1/sla/calendar")),
            Rule(service: .tierQueue, route: "PUT /v1/sla/calendar", allowed: [.admin: 200]) { _ in
                Target(path: "/v1/sla/calendar", body: json(BusinessCalendar(timeZone: "Europe/Berlin", week: ["mon": ["09:00", "17:00"]])))
            },
            Rule(service: .tierQueue, route: "GET /v1/escalation-contracts", allowed: anyAgentAndAdmin, setup: path("/v1/escalation-contracts")),
            Rule(service: .tierQueue, route: "PUT /v1/escalation-contracts/{tier}", allowed: [.admin: 200]) { _ in
                Target(path: "/v1/escalation-contracts/3", body: json(EscalationContractRequest(fields: [.init(name: "logs", label: "Logs")])))
            },
            Rule(service: .tierQueue, route: "GET /v1/work-modes", allowed: anyAgentAndAdmin, setup: path("/v1/work-modes")),
            Rule(service: .tierQueue, route: "PUT /v1/work-modes/{category}", allowed: [.admin: 200]) { _ in
                Target(path: "/v1/work-modes/printing", body: json(WorkModeRequest(mode: .swarm)))
            },
            Rule(service: .tierQueue, route: "DELETE /v1/work-modes/{category}", allowed: [.admin: 204]) { world in
                try await world.db.client.execute(
                    "INSERT INTO work_modes (category, mode, updated_at) VALUES ('matrix', 'swarm', now()) ON CONFLICT DO NOTHING", logger: world.db.logger)
                return Target(path: "/v1/work-modes/matrix")
            },
            // The audit trail: administrators and auditors only.
            Rule(service: .tierQueue, route: "GET /v1/audit", allowed: [.admin: 200, .auditor: 200]) { world in
                _ = try await world.triageRule(audited: true)
                return Target(path: "/v1/audit?objectType=triage_rule")
            },
            // Level 3 reads the reports with the admin (otherLevelAgent is the level 3 agent).
            Rule(
                service: .tierQueue, route: "GET /v1/reports/summary", allowed: [.admin: 200, .auditor: 200, .lead: 200, .otherLevelAgent: 200],
                setup: path("/v1/reports/summary")),
            // The tests' administrator exists: the bootstrap token creates no other.
            Rule(service: .tierQueue, route: "POST /v1/bootstrap", allowed: [.bootstrap: 409]) { _ in
                Target(path: "/v1/bootstrap", body: json(BootstrapRequest(name: "Second", email: "second@example.com")))
            },
            Rule(
                service: .tierQueue, route: "GET /v1/staff/me",
                allowed: [.levelAgent: 200, .otherLevelAgent: 200, .assignee: 200, .lead: 200, .admin: 200, .auditor: 200], setup: path("/v1/staff/me")),
            // Single sign-on (issue 26, item 1): the console, after it verified an ID token. Each call a new person of the provider.
            Rule(service: .tierQueue, route: "POST /internal/v1/staff-sign-ins", allowed: [.internal: 201]) { _ in
                Target(path: "/internal/v1/staff-sign-ins", body: json(World.staffSignIn()))
            },
            // A lead reads the worklists of its levels' agents (the assignee works level 1); other agents may not.
            Rule(service: .tierQueue, route: "GET /v1/agents/{id}/tickets", allowed: [.lead: 200, .admin: 200]) { world in
                Target(path: "/v1/agents/\(world.assignee.id)/tickets")
            },
        ]
    }

    static let anyAgent: [Who: Int] = [.levelAgent: 200, .otherLevelAgent: 200, .assignee: 200]

    static var vendorBridge: [Rule] {
        [
            Rule(service: .vendorBridge, route: "POST /v1/vendors", allowed: [.admin: 201]) { _ in
                Target(
                    path: "/v1/vendors",
                    body: json(CreateVendorRequest(name: "Matrix \(UUID())", webhookUrl: "https://vendor.example.com/hook", categories: [])))
            },
            Rule(service: .vendorBridge, route: "GET /v1/vendors", allowed: [.admin: 200], setup: path("/v1/vendors")),
            Rule(service: .vendorBridge, route: "PATCH /v1/vendors/{id}", allowed: [.admin: 200]) { world in
                Target(path: "/v1/vendors/\(try await world.spareVendor())", body: json(UpdateVendorRequest(categories: ["email"])))
            },
            Rule(service: .vendorBridge, route: "GET /v1/vendors/{id}", allowed: [.admin: 200]) { world in
                Target(path: "/v1/vendors/\(try await world.spareVendor())")
            },
            Rule(service: .vendorBridge, route: "GET /v1/vendors/{id}/deliveries", allowed: [.admin: 200]) { world in
                Target(path: "/v1/vendors/\(world.owningVendor)/deliveries")
            },
            Rule(service: .vendorBridge, route: "GET /v1/vendors/{id}/scorecard", allowed: [.admin: 200]) { world in
                Target(path: "/v1/vendors/\(world.owningVendor)/scorecard")
            },
            Rule(service: .vendorBridge, route: "POST /v1/deliveries/{id}/redeliver", allowed: [.admin: 202]) { world in
                let (ticket, vendorCase) = try await world.vendorCase()
                let delivery = try await world.db.client.first(
                    "SELECT id FROM webhook_deliveries WHERE case_id = \(vendorCase)", logger: world.db.logger
                ) { try $0.get("id", as: UUID.self) }
                return Target(path: "/v1/deliveries/\(try #require(delivery))/redeliver", ticket: ticket)
            },
            Rule(
                service: .vendorBridge, route: "GET /v1/cases", allowed: [.levelAgent: 200, .otherLevelAgent: 200, .assignee: 200, .admin: 200],
                setup: path("/v1/cases?overdue=true")),
            // The case's owner (level 3, holding the ticket) and the admin write to the vendor; agents
            // who may not read the ticket learn nothing of it.
            Rule(
                service: .vendorBridge, route: "POST /v1/tickets/{id}/vendor-messages", allowed: [.otherLevelAgent: 201, .admin: 201],
                hidden: [.levelAgent, .assignee]
            ) { world in
                let (ticket, _) = try await world.vendorCase()
                return Target(path: "/v1/tickets/\(ticket)/vendor-messages", body: json(VendorMessageRequest(message: "The logs are attached")), ticket: ticket)
            },
            Rule(service: .vendorBridge, route: "POST /v1/vendors/{id}/api-key", allowed: [.admin: 200]) { world in
                Target(path: "/v1/vendors/\(try await world.spareVendor())/api-key")
            },
            Rule(
                service: .vendorBridge, route: "GET /internal/v1/vendors/match", allowed: [.internal: 200],
                setup: path("/internal/v1/vendors/match?category=network")),
            Rule(service: .vendorBridge, route: "GET /v1/vendor/cases", allowed: [.owningVendor: 200, .otherVendor: 200], setup: path("/v1/vendor/cases")),
            Rule(service: .vendorBridge, route: "GET /v1/vendor/cases/{id}", allowed: [.owningVendor: 200], hidden: [.otherVendor]) { world in
                let (ticket, vendorCase) = try await world.vendorCase()
                return Target(path: "/v1/vendor/cases/\(vendorCase)", ticket: ticket)
            },
            Rule(service: .vendorBridge, route: "POST /v1/vendor/cases/{id}/updates", allowed: [.owningVendor: 200], hidden: [.otherVendor]) { world in
                let (ticket, vendorCase) = try await world.vendorCase()
                return Target(
                    path: "/v1/vendor/cases/\(vendorCase)/updates", body: json(VendorUpdateRequest(status: .acknowledged, message: "On it")), ticket: ticket)
            },
        ]
    }
}

extension Service {
    /// The name its outbox rows carry.
    var sourceName: String {
        switch self {
        case .intake: Intake.serviceName
        case .triage: Triage.serviceName
        case .tierQueue: TierQueue.serviceName
        case .vendorBridge: VendorBridge.serviceName
        }
    }
}

/// The callers and the objects the cells act on.
struct World: Sendable {
    let db: StoreFixture
    let clients: [Service: any TestClientProtocol]
    let levelAgent: AgentIdentity
    let otherLevelAgent: AgentIdentity
    let assignee: AgentIdentity
    let tokens: [Who: String]
    let owningVendor: UUID
    /// "This ticket" for routes about no ticket, and the other requester's ticket.
    let ticketA: UUID
    let ticketB: UUID
    let fixedSecrets: Set<String>
    /// One notification of each agent (`levelAgent`, `otherLevelAgent`, `assignee`): its id and text.
    let notifications: [Who: (id: UUID, text: String)]

    static func make(db: StoreFixture, clients: [Service: any TestClientProtocol]) async throws -> World {
        let levelAgent = AgentIdentity.fixture(tiers: [.firstLine])
        let otherLevelAgent = AgentIdentity.fixture(tiers: [.specialist])
        let assignee = AgentIdentity.fixture(tiers: [.firstLine])
        var tokens: [Who: String] = [
            .bogusToken: "tda_" + String(repeating: "x", count: 43), .mailGateway: TestCredentials.mailGatewayToken, .admin: TestCredentials.adminToken,
            .internal: TestCredentials.internalToken,
        ]
        tokens[.levelAgent] = try await db.agentToken(levelAgent)
        tokens[.otherLevelAgent] = try await db.agentToken(otherLevelAgent)
        tokens[.assignee] = try await db.agentToken(assignee)
        tokens[.lead] = try await db.agentToken(AgentIdentity.fixture(tiers: [.firstLine], isLead: true))
        tokens[.auditor] = try await db.staffToken(role: .auditor)
        tokens[.bootstrap] = TestCredentials.bootstrapToken
        let vendors = VendorStore(sealingKey: TestCredentials.sealingKey)
        let owning = try await vendors.create(
            CreateVendorRequest(name: "Owning", webhookUrl: "https://owning.example.com", categories: ["network"]), on: db.client, now: Date(),
            logger: db.logger)
        let other = try await vendors.create(
            CreateVendorRequest(name: "Other", webhookUrl: "https://other.example.com", categories: []), on: db.client, now: Date(), logger: db.logger)
        tokens[.owningVendor] = owning.apiKey
        tokens[.otherVendor] = other.apiKey
        let integration = try await IntegrationStore().create(
            CreateIntegrationRequest(name: "Matrix monitoring", channels: [.api]), defaultRate: 1_000_000, on: db.client, now: Date(), logger: db.logger)
        tokens[.integration] = integration.key
        let ticketA = try await db.queued(tier: .firstLine).id
        let ticketB = try await db.queued(tier: .firstLine).id
        // Both requesters were served by an agent (who has since left): they may vote on articles.
        for ticket in [ticketA, ticketB] {
            try await db.client.execute(
                """
                INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
                VALUES (\(UUID()), \(ticket), 'ticket.commented', \("agent:\(UUID().uuidString.lowercased())"), true, '{"message": "On it"}', now())
                """, logger: db.logger)
        }
        tokens[.otherRequester] = Secrets.requesterToken(ticketID: ticketB, secret: TestCredentials.secret)
        tokens[.signedInRequester] = Secrets.newToken(.requesterSession)
        var notifications: [Who: (id: UUID, text: String)] = [:]
        for (who, agent) in [(Who.levelAgent, levelAgent), (.otherLevelAgent, otherLevelAgent), (.assignee, assignee)] {
            let (id, text) = (UUID(), "Only for the \(who.rawValue): \(UUID().uuidString.lowercased())")
            try await db.client.execute(
                "INSERT INTO notifications (id, agent_id, kind, ticket_id, text, created_at, mailed_at) VALUES (\(id), \(agent.id), 'assigned', \(ticketA), \(text), now(), now())",
                logger: db.logger)
            notifications[who] = (id, text)
        }
        let fixed = Set(tokens.filter { $0.key != .bogusToken }.values).union([owning.signingSecret, other.signingSecret].compactMap { $0 })
        let world = World(
            db: db, clients: clients, levelAgent: levelAgent, otherLevelAgent: otherLevelAgent, assignee: assignee, tokens: tokens, owningVendor: owning.id,
            ticketA: ticketA, ticketB: ticketB, fixedSecrets: fixed, notifications: notifications)
        try await world.openSignedInSession()
        return world
    }

    /// The signed-in requester's session (ticket B's requester), stored as intake stores one: its hash.
    func openSignedInSession() async throws {
        try await db.client.execute(
            """
            INSERT INTO requester_sessions (token_hash, requester_id, created_at, expires_at)
            VALUES (\(Secrets.hash(tokens[.signedInRequester]!)), \(try await requester(of: ticketB)), now(), now() + interval '1 day')
            ON CONFLICT (token_hash) DO NOTHING
            """, logger: db.logger)
    }

    /// The key of a new sign-in link for ticket A's requester (its hash stored, as intake does).
    func signInKey() async throws -> String {
        let key = Secrets.base64URL(Secrets.randomBytes(32))
        try await db.client.execute(
            """
            INSERT INTO requester_sign_in_links (key_hash, requester_id, created_at, expires_at)
            VALUES (\(Secrets.hash(key)), \(try await requester(of: ticketA)), now(), now() + interval '15 minutes')
            """, logger: db.logger)
        return key
    }

    func requesterEmail(of ticket: UUID) async throws -> String {
        try #require(try await db.store.find(ticket, on: db.client, logger: db.logger)).requester.email
    }

    /// The notifications of other agents that `body` shows `who` (any is a leak); when `listing`
    /// (the agent's list), `who`'s own must be there.
    func notificationLeaks(in body: String, to who: Who, listing: Bool) -> [String] {
        var found = notifications.filter { $0.key != who && (body.contains($0.value.text) || body.contains($0.value.id.uuidString.lowercased())) }
            .map { "the \($0.key.rawValue)'s notification" }
        if listing, let own = notifications[who], !body.contains(own.text) { found.append("not its own notification") }
        return found
    }

    /// Opens a Server-Sent Events stream on tier-queue and reads until its first comment; its status
    /// and what it sent by then.
    func openStream(_ path: String, token: String?) async throws -> (Int, String) {
        let port = try #require(clients[.tierQueue]!.port)
        let stream = try await EventStreamClient.open(
            "http://127.0.0.1:\(port)\(path)", headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
        if stream.status == .ok { #expect(try await stream.wait(timeout: .seconds(5)) { !$0.isEmpty }) }
        let sent = stream.received.map { "\($0.event ?? "") \($0.data) \($0.comment ?? "")" }.joined(separator: "\n")
        try await stream.close()
        return (Int(stream.status.code), sent)
    }

    func token(_ who: Who, _ target: Target) -> String? {
        switch who {
        case .anonymous: nil
        case .requester: Secrets.requesterToken(ticketID: target.ticket ?? ticketA, secret: TestCredentials.secret)
        default: tokens[who]
        }
    }

    /// A ticket at level 1, in progress with `assignee`; resolved when asked, and rated by its requester.
    func workedTicket(resolved: Bool = false, rated: Bool = false) async throws -> UUID {
        let ticket = try await db.inProgress(tier: .firstLine, agent: assignee)
        // The requester's stored profile holds details this submission never gave: no outsider may read them.
        try await db.client.execute(
            "UPDATE requesters SET name = 'Stored Name', phone = '+41 44 555 01 00', organization = 'Stored Org' WHERE id = \(ticket.requester.id)",
            logger: db.logger)
        if resolved { _ = try await db.change(ticket.id) { $0.status = .resolved } }
        if rated {
            try await db.client.execute(
                "INSERT INTO satisfaction_answers (ticket_id, rating, comment, answered_at, changed_at) VALUES (\(ticket.id), 5, 'Thanks', now(), now())",
                logger: db.logger)
        }
        return ticket.id
    }

    /// The incidents an agent's answer names (`incidentIds`, `incidents[].id`) that the agent may not read.
    func unreadableIncidents(in body: String, for who: Who) async throws -> [String] {
        let agents: [Who: AgentIdentity] = [.levelAgent: levelAgent, .otherLevelAgent: otherLevelAgent, .assignee: assignee]
        guard let agent = agents[who], let value = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(body.utf8)) else { return [] }
        var named: Set<UUID> = []
        BodyRule.walk(value, path: "$") { path, key, value in
            if key == "incidentIds", case .array(let ids) = value { named.formUnion(ids.compactMap { $0.stringValue.flatMap(UUID.init(uuidString:)) }) }
            if path.contains(".incidents["), key == "id", let id = value.stringValue.flatMap(UUID.init(uuidString:)) { named.insert(id) }
        }
        guard !named.isEmpty else { return [] }
        let readable = Set(try await db.store.summaries(of: Array(named), readableBy: agent, on: db.client, logger: db.logger).map(\.id))
        return named.subtracting(readable).map { "incident \($0)" }
    }

    func requester(of ticket: UUID) async throws -> UUID {
        try #require(try await db.store.find(ticket, on: db.client, logger: db.logger)).requester.id
    }

    /// A rule; `audited`: with its creation in the audit trail, as the API records it.
    func triageRule(audited: Bool = false) async throws -> UUID {
        let request = RuleRequest(name: "Spare rule", match: RuleMatch(keywords: ["sparerule"]), route: RuleRoute(tier: 3))
        return try await db.client.transaction(logger: db.logger) { connection in
            let id = try #require(try await PolicyStore().save(request, id: nil, on: connection, now: Date(), logger: db.logger)).id
            if audited {
                try await AuditTrail.record(
                    "triage_rule.created", AuditObject(type: "triage_rule", table: "triage_rules"), id: "\(id)", before: nil,
                    by: AuditActor(personID: TestCredentials.adminID, actor: "admin:\(TestCredentials.adminID.uuidString.lowercased())"), on: connection,
                    now: Date(), logger: db.logger)
            }
            return id
        }
    }

    func vip() async throws -> UUID {
        try await db.client.transaction(logger: db.logger) { connection in
            try await PolicyStore().addVIP(
                VIPRequest(domain: "spare-\(UUID().uuidString.prefix(8).lowercased()).example"), on: connection, now: Date(), logger: db.logger
            ).id
        }
    }

    /// An open problem of a category of its own.
    func problem(storm: Bool = false) async throws -> UUID {
        let id = UUID()
        try await db.client.execute(
            """
            INSERT INTO problems (id, title, status, category, storm, created_at, updated_at)
            VALUES (\(id), 'Spare problem', 'open', \("spare-\(id.uuidString.prefix(8).lowercased())"), \(storm), now(), now())
            """, logger: db.logger)
        // An incident at level 1 and one at level 3: each agent may read only one of them.
        for tier in [Tier.firstLine, .specialist] {
            let incident = try await db.queued(tier: tier).id
            try await db.client.execute(
                "INSERT INTO problem_incidents (problem_id, ticket_id, reason, linked_at) VALUES (\(id), \(incident), 'storm', now())", logger: db.logger)
        }
        return id
    }

    /// Resolved tickets with categories, for the classifier to learn from.
    func resolvedHistory() async throws {
        let requester = try await db.requester("history-\(UUID().uuidString.prefix(8))@example.com")
        let texts = [("printer jams paper toner", "printing"), ("password locked account login", "access")]
        _ = try await db.store.importClosed(
            (0..<20).map { index in
                let (text, category) = texts[index % 2]
                return TicketStore.HistoricalTicket(
                    id: UUID(), requesterId: requester, tier: .firstLine, impact: .low, urgency: .low, category: category, channel: .web,
                    subject: "\(text) \(index)", description: text, resolution: "Fixed", openedAt: Date(), resolvedAt: Date())
            }, on: db.client, logger: db.logger)
    }

    func article(draft: Bool = false) async throws -> UUID {
        try #require(
            try await KnowledgeBaseStore().publish(
                CreateArticleRequest(title: "VPN reconnects \(UUID())", body: "Restart the client."), draft: draft, on: db.client, now: Date(),
                logger: db.logger))
    }

    func integration() async throws -> Integration {
        try await IntegrationStore().create(
            CreateIntegrationRequest(name: "Spare \(UUID())", channels: [.api]), defaultRate: 10, on: db.client, now: Date(), logger: db.logger)
    }

    func spareAgent() async throws -> UUID {
        let agent = AgentIdentity.fixture()
        _ = try await db.agentToken(agent)
        return agent.id
    }

    /// A person with a temporary password an administrator set: their email and that password.
    func localAccount() async throws -> (email: String, password: String) {
        let http = clients[.tierQueue]!
        let email = "local-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let person = try await http.send(
            .post, "/v1/agents", token: TestCredentials.adminToken, json: CreateAgentRequest(name: "Local", email: email, tiers: [1])
        ).decode(Agent.self)
        let reset = try await http.send(.post, "/v1/staff/\(person.id)/password", token: TestCredentials.adminToken).decode(TemporaryPassword.self)
        return (email, reset.temporaryPassword)
    }

    /// A spare person and the id of their live token.
    func spareToken() async throws -> (person: UUID, token: UUID) {
        let person = try await spareAgent()
        let tokens = try await clients[.tierQueue]!.send(.get, "/v1/staff/\(person)/tokens", token: TestCredentials.adminToken)
        return (person, try #require(try tokens.decode(Page<StaffTokenSummary>.self).items.first).id)
    }

    func spareVendor() async throws -> UUID {
        try await VendorStore(sealingKey: TestCredentials.sealingKey).create(
            CreateVendorRequest(name: "Spare \(UUID())", webhookUrl: "https://spare.example.com", categories: []), on: db.client, now: Date(), logger: db.logger
        ).id
    }

    /// A ticket waiting on the owning vendor at level 4 and its open case.
    func vendorCase() async throws -> (UUID, UUID) {
        let ticket = try await waitingOnVendor()
        let event = EventEnvelope(
            type: .ticketEscalated, ticketId: ticket, occurredAt: Date(), data: ["toTier": 4, "reason": "r", "vendorId": .string(owningVendor.uuidString)])
        let opened = try await clients[.vendorBridge]!.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event)
        #expect(opened.status == .ok)
        let id = try await db.client.first("SELECT id FROM vendor_cases WHERE ticket_id = \(ticket)", logger: db.logger) { try $0.get("id", as: UUID.self) }
        return (ticket, try #require(id))
    }

    func waitingOnVendor() async throws -> UUID {
        let ticket = try await db.inProgress(tier: .specialist, agent: otherLevelAgent)
        let vendor = owningVendor
        return try await db.change(ticket.id) {
            $0.status = .pendingVendor
            $0.tier = .vendor
            $0.vendorId = vendor
        }.id
    }

    /// A dead-lettered outbox row of `source`.
    func deadLetter(source: String) async throws -> UUID {
        let id = UUID()
        try await db.client.execute(
            """
            INSERT INTO outbox (event_id, destination, source, event_type, payload, attempts, next_attempt_at, created_at, dead_at)
            VALUES (\(id), 'nowhere', \(source), 'ticket.created', '{}', 25, now(), now(), now())
            """, logger: db.logger)
        return id
    }

    /// A mail tier-queue sent (intake's admin endpoints serve every service's mail).
    func sentMail() async throws -> UUID {
        let mail = OutgoingMail(
            to: "matrix@example.com", subject: "[TD-1] Assigned to you", text: "Assigned", messageID: OutgoingMail.newMessageID(domain: "tierdesk.test"))
        try await MailOutbox.enqueue(mail, kind: "agent.notification", ticketID: nil, source: "tier-queue", on: db.client, now: Date(), logger: db.logger)
        return try await db.client.first(
            "UPDATE mail_outbox SET sent_at = now(), attempts = 1 WHERE message_id = \(mail.messageID) RETURNING id", logger: db.logger
        ) { try $0.get("id", as: UUID.self) }!
    }

    /// An event the service consumes, about a ticket in the state that event expects.
    func consumedEvent(for service: Service) async throws -> EventEnvelope {
        switch service {
        case .intake:
            let ticket = try await db.queued()
            return EventEnvelope(type: .kbPublished, ticketId: ticket.id, occurredAt: Date(), data: ["title": "From a ticket", "body": "Do this."])
        case .triage:
            let ticket = try await newTicket()
            return EventEnvelope(type: .ticketCreated, ticketId: ticket, occurredAt: Date(), data: ["channel": "web"])
        case .tierQueue:
            let ticket = try await newTicket()
            _ = try await db.change(ticket) {
                $0.status = .triaged
                $0.tier = .firstLine
            }
            return EventEnvelope(type: .ticketTriaged, ticketId: ticket, occurredAt: Date(), data: ["tier": 1])
        case .vendorBridge:
            let ticket = try await waitingOnVendor()
            return EventEnvelope(
                type: .ticketEscalated, ticketId: ticket, occurredAt: Date(), data: ["toTier": 4, "reason": "r", "vendorId": .string(owningVendor.uuidString)])
        }
    }

    func newTicket() async throws -> UUID {
        let requester = try await db.requester("n\(UUID().uuidString.prefix(8))@example.com")
        let draft = TicketDraft(impact: .low, urgency: .low, category: nil, channel: .web, subject: "New", description: "New", requesterID: requester)
        let (store, logger) = (db.store, db.logger)
        _ = try await db.client.transaction(logger: logger) { connection in
            try await store.insert(draft, event: EventDraft(id: draft.id, type: .ticketCreated, actor: "test"), on: connection, now: Date(), logger: logger)
        }
        return draft.id
    }

    /// A digest of every table's rows (the outbox by its rows' identity only: dispatchers keep
    /// updating their attempts), to show a refused request stored nothing.
    func fingerprint() async throws -> [String: String] {
        let tables = try await db.client.all(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", logger: db.logger
        ) { try $0.get("tablename", as: String.self) }
        let parts = tables.map { table in
            // Delivery bookkeeping moves in the background: the outbox and webhook rows count by
            // identity, and the delivery attempts (written only by the deliverer) not at all.
            let rows =
                switch table {
                case "outbox": "(r.event_id, r.destination)::text"
                case "webhook_deliveries": "r.id::text"
                case "webhook_delivery_attempts": "NULL::text"
                default: "r::text"
                }
            return "SELECT '\(table)' AS t, md5(coalesce(string_agg(\(rows), '|' ORDER BY \(rows)), '')) AS d FROM \(table) r"
        }
        let digests = try await db.client.all(PostgresQuery(unsafeSQL: parts.joined(separator: " UNION ALL ")), logger: db.logger) {
            (try $0.get("t", as: String.self), try $0.get("d", as: String.self))
        }
        return Dictionary(uniqueKeysWithValues: digests)
    }

    static func changed(_ before: [String: String], _ after: [String: String]) -> [String] {
        after.keys.filter { before[$0] != after[$0] }.sorted()
    }

    /// A sign-in of a new person of an OpenID provider, an agent of level 1, as the console sends it.
    static func staffSignIn() -> StaffSignInRequest {
        let subject = UUID().uuidString.lowercased()
        return StaffSignInRequest(
            issuer: "https://id.example.com", subject: subject, email: "sso-\(subject.prefix(8))@example.com", emailVerified: true, name: "Signed On",
            role: .agent, tiers: [1], createStaff: true, sessionExpiresAt: Date().addingTimeInterval(3600))
    }

    /// The tokens, keys and signing secrets in a response body; a temporary password, and a TOTP
    /// secret both as the app is given it (base32) and as its key's text.
    static func secrets(in body: String) -> Set<String> {
        var found = Set(body.matches(of: /(tda_|tdv_|tdi_|tdr_|tdp_)[A-Za-z0-9_-]{40,}|whsec_[A-Za-z0-9+\/=]{20,}/).map { String($0.output.0) })
        for match in body.matches(of: /"temporaryPassword":"([^"]+)"/) { found.insert(String(match.output.1)) }
        for match in body.matches(of: /"secret":"([A-Z2-7]{16,})"/) {
            found.insert(String(match.output.1))
            if let key = Base32.decode(String(match.output.1)) { found.insert(key) }
        }
        return found
    }

    /// No token, key or signing secret the run handed out rests in the database in plain text:
    /// every row of every table as text, and a `pg_dump` of the whole database.
    func expectNoPlaintext(_ secrets: Set<String>) async throws {
        #expect(secrets.count > 100, "the run handed out tokens of every kind: \(secrets.count)")
        for prefix in ["tda_", "tdv_", "tdi_", "tdr_", "tdp_", "whsec_"] {
            #expect(secrets.contains { $0.hasPrefix(prefix) }, "\(prefix) tokens were handed out")
        }
        let tables = try await db.client.all(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", logger: db.logger
        ) { try $0.get("tablename", as: String.self) }
        var everything = ""
        for table in tables {
            let rows = try await db.client.all(PostgresQuery(unsafeSQL: "SELECT r::text AS row FROM \(table) r"), logger: db.logger) {
                try $0.get("row", as: String.self)
            }
            everything += rows.joined(separator: "\n")
        }
        #expect(everything.contains("Matrix mail"), "the scan reads the data it should")
        #expect(try await db.count("staff_credentials") > 0, "the run set passwords and TOTP secrets")
        #expect(secrets.contains { $0.count == 20 && !$0.contains("_") }, "temporary passwords were handed out")
        // A password rests only as its bcrypt hash, and that sealed: no bcrypt hash in plain form.
        let bcrypt = /\$2[abxy]\$[0-9]{2}\$/
        #expect(everything.firstMatch(of: bcrypt) == nil, "a bcrypt hash rests in plain text")
        for secret in secrets { #expect(!everything.contains(secret), "\(secret.prefix(8))… rests in plain text") }
        let dump = try pgDump()
        #expect(dump.contains("Matrix mail"))
        for secret in secrets { #expect(!dump.contains(secret), "\(secret.prefix(8))… is in the database dump") }
        #expect(dump.firstMatch(of: bcrypt) == nil, "a bcrypt hash is in the database dump")
    }

    /// What the run left behind (events, outbox payloads, webhook bodies, stored answers, actors)
    /// spells every id in lower case.
    func expectLowerCaseIDsAtRest() async throws {
        let tables = try await db.client.all(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", logger: db.logger
        ) { try $0.get("tablename", as: String.self) }
        for table in tables {
            let rows = try await db.client.all(PostgresQuery(unsafeSQL: "SELECT r::text AS row FROM \(table) r"), logger: db.logger) {
                try $0.get("row", as: String.self)
            }
            let shouted = rows.flatMap(upperCaseIDs(in:))
            #expect(shouted.isEmpty, "\(table) holds ids in upper case: \(shouted.prefix(5))")
        }
        #expect(try await db.count("webhook_deliveries") > 0, "the scan reads webhook bodies")
        #expect(try await db.count("outbox") > 0, "the scan reads events")
    }

    func pgDump() throws -> String {
        let settings = try TestDatabase.settings()
        let candidates = ["/usr/lib/postgresql/15/bin/pg_dump", "/usr/bin/pg_dump"]
        let binary = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, "pg_dump is installed with PostgreSQL")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--dbname", settings.url, "--data-only", "--no-owner"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}

/// What each caller may find in an answer's body: whoever is not staff never reads a member of
/// staff's id, what one level wrote for another (`internal`, hand-off fields, an escalation's reason),
/// the desk's assignment (assignee, vendor, skills) or where an article came from; vendors never
/// read `internal`.
enum BodyRule {
    static let outsiders: Set<Who> = [.anonymous, .requester, .otherRequester, .signedInRequester, .integration, .mailGateway, .bootstrap]
    static let vendors: Set<Who> = [.owningVendor, .otherVendor]
    /// Keys an outsider's answer never holds with a value.
    static let staffOnly: Set<String> = [
        "internal", "handOff", "assigneeId", "vendorId", "requiredSkills", "authorAgentId", "sourceTicketId", "takenBy", "integration", "transcript",
    ]

    /// The paths of what `who` may not see in `body` (a JSON body; anything else holds no fields).
    static func leaks(in body: String, to who: Who) -> [String] {
        guard outsiders.contains(who) || vendors.contains(who), let value = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(body.utf8)) else {
            return []
        }
        var found: [String] = []
        walk(value, path: "$") { path, key, value in
            if vendors.contains(who) {
                if key == "internal" { found.append(path) }
                return
            }
            if let key, staffOnly.contains(key), !isEmpty(value) { found.append(path) }
            if path.hasSuffix(".requester.name") || path.hasSuffix(".requester.phone") || path.hasSuffix(".requester.organization"), !isEmpty(value) {
                found.append(path)
            }
            if case .string(let text) = value, ["agent:", "admin:", "system:", "integration:"].contains(where: text.hasPrefix) {
                found.append(path)
            }
        }
        return found
    }

    static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .array(let items): items.isEmpty
        case .object(let members): members.isEmpty
        default: false
        }
    }

    static func walk(_ value: JSONValue, path: String, key: String? = nil, _ visit: (String, String?, JSONValue) -> Void) {
        visit(path, key, value)
        switch value {
        case .object(let members): for (name, member) in members { walk(member, path: path + "." + name, key: name, visit) }
        case .array(let items): for (index, item) in items.enumerated() { walk(item, path: path + "[\(index)]", visit) }
        default: break
        }
    }
}
