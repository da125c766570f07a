import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IntakeApp
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Testing
import TierQueueApp
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// The console on a live port, with the real intake and tier-queue beside it on the test's database,
/// the clock its sessions and caches expire by, and what it logs. Triage and vendor-bridge are down:
/// they answer every request 503 (or, with `refusingTriage`, triage's address refuses connections).
struct ConsoleSystem: Sendable {
    static let secret = "console-test-secret-0123456789"
    /// Where nothing listens: a call fails to connect (after the client's connect timeout, 2 s).
    static let refusing = "http://127.0.0.1:1"

    let console: any TestClientProtocol
    let intake: any TestClientProtocol
    let tierQueue: any TestClientProtocol
    let clock: ManualClock
    let log: LogRecorder

    /// Runs `test` with the three started; `insecureCookies` as scripts/dev and the browser test run it.
    /// `tierQueue` adds to tier-queue's environment and puts it on the console's clock (local accounts' tests);
    /// `console` adds to the console's (single sign-on's tests).
    static func run(
        insecureCookies: Bool = true, refusingTriage: Bool = false, tierQueue tierQueueEnvironment: [String: String]? = nil,
        console extra: [String: String] = [:],
        _ test: @Sendable (ConsoleSystem) async throws -> Void
    ) async throws {
        let clock = ManualClock(Date())
        let log = LogRecorder()
        try await Self.unavailable.test(.live) { down in
            let down = "http://127.0.0.1:\(down.port!)"
            try await withLiveApp(as: .intake, environment: ["TIERDESK_RATE_LIMIT_PER_MINUTE": "100000"], IntakeApp.buildApplication) { intake in
                let peers = ["TIERDESK_INTAKE_URL": "http://127.0.0.1:\(intake.port!)", "TIERDESK_TRIAGE_URL": down, "TIERDESK_VENDOR_BRIDGE_URL": down]
                let onClock = tierQueueEnvironment != nil
                try await withLiveApp(
                    as: .tierQueue, environment: peers.merging(tierQueueEnvironment ?? [:]) { $1 },
                    { try await TierQueueApp.buildApplication(reader: $0, clock: onClock ? clock : SystemClock()) }
                ) { tierQueue in
                    // The console logs to the recorder only, at info as in production.
                    let environment = [
                        "TIERDESK_CONSOLE_SECRET": secret, "TIERDESK_INTAKE_URL": "http://127.0.0.1:\(intake.port!)",
                        "TIERDESK_TIER_QUEUE_URL": "http://127.0.0.1:\(tierQueue.port!)", "TIERDESK_TRIAGE_URL": refusingTriage ? refusing : down,
                        "TIERDESK_VENDOR_BRIDGE_URL": down, "TIERDESK_CONSOLE_INSECURE_COOKIES": insecureCookies ? "true" : "false",
                        "TIERDESK_LOG_LEVEL": "info",
                    ].merging(extra) { _, new in new }
                    let logger = Logger(label: "console") { _ in log.handler() }
                    try await withLiveApp(
                        as: .console, environment: environment, { try await ConsoleApp.buildApplication(reader: $0, clock: clock, logger: logger) }
                    ) { console in
                        try await test(ConsoleSystem(console: console, intake: intake, tierQueue: tierQueue, clock: clock, log: log))
                    }
                }
            }
        }
    }

    /// A service that is down behind its load balancer: every request answers 503.
    static var unavailable: some ApplicationProtocol {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("**", method: method) { _, _ in Response(status: .serviceUnavailable) }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// A new agent of `tiers` (level 1 by default) and its token.
    func agent(tiers: [Int] = [1], name: String = "Ada") async throws -> (agent: Agent, token: String) {
        let response = try await tierQueue.send(
            .post, "/v1/agents", token: TestCredentials.adminToken,
            json: CreateAgentRequest(
                name: name, email: "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com", tiers: tiers, skills: nil, wipLimit: nil))
        let agent = try response.decode(Agent.self)
        return (agent, try #require(agent.token))
    }

    /// A browser whose staff session of `role` (with `token`) is stored straight in the table, for a
    /// role whose service is down here (a vendor's).
    func browser(role: Session.Role, token: String) async throws -> Browser {
        let sealKey = ConsoleKeys.key(ConsoleKeys.sealPurpose, secret: Self.secret)
        let id = try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            try await SessionStore(client: client, sealKey: sealKey).create(
                role: role, token: token, ticketID: nil, lifetime: SessionLifetime(idle: 3600, absolute: 3600), now: clock.now(), logger: TestDatabase.logger)
        }
        let browser = browser()
        browser.cookies["td_session"] = id
        return browser
    }

    /// A browser with its own cookies.
    func browser() -> Browser { Browser(client: console) }

    /// A new agent of level 1, and its token.
    func agentToken() async throws -> String {
        let response = try await tierQueue.send(
            .post, "/v1/agents", token: TestCredentials.adminToken,
            json: CreateAgentRequest(name: "Ada", email: "ada-\(UUID().uuidString.prefix(8))@example.com", tiers: [1], skills: nil, wipLimit: nil))
        return try #require(try response.decode(Agent.self).token)
    }

    /// A ticket filed with intake, and its requester token.
    func ticket(subject: String = "VPN drops every hour") async throws -> (id: UUID, token: String) {
        let created = try await intake.send(.post, "/v1/tickets", json: SubmitTicketRequest.fixture(subject: subject)).decode(SubmitTicketResponse.self)
        return (created.id, try #require(created.requesterToken))
    }

    /// Every row of `console_sessions`, as stored.
    func rows() async throws -> [SessionRow] {
        try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            var found: [SessionRow] = []
            let rows = try await client.query("SELECT id_hash, role, sealed_token, csrf_secret, ticket_id FROM console_sessions", logger: TestDatabase.logger)
            for try await (idHash, role, sealed, csrfSecret, ticketID) in rows.decode((Data, String, Data, Data, UUID?).self) {
                found.append(SessionRow(idHash: idHash, role: role, sealed: sealed, csrfSecret: csrfSecret, ticketID: ticketID))
            }
            return found
        }
    }
}

/// A row of `console_sessions`.
struct SessionRow: Sendable {
    var idHash: Data
    var role: String
    var sealed: Data
    var csrfSecret: Data
    var ticketID: UUID?
}

/// What a browser does with the console's cookies: keeps what Set-Cookie sets (dropping what it
/// clears) and sends them back; takes the CSRF token from the page it loaded last.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var csrf = ""
    var last: TestResponse?

    init(client: any TestClientProtocol) { self.client = client }

    var cookieHeader: String { cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    @discardableResult
    func get(_ path: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await send(.get, path, body: nil, headers: headers)
    }

    /// Posts a form with this browser's CSRF token (unless the fields carry their own `_csrf`).
    @discardableResult
    func post(_ path: String, _ fields: [String: String] = [:]) async throws -> TestResponse {
        var all = ["_csrf": csrf]
        all.merge(fields) { _, new in new }
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await send(.post, path, body: ByteBuffer(string: body), headers: [.contentType: "application/x-www-form-urlencoded"])
    }

    func send(_ method: HTTPRequest.Method, _ path: String, body: ByteBuffer?, headers extra: HTTPFields) async throws -> TestResponse {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        for line in response.headers[values: .setCookie] {
            let pair = line.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            if line.contains("Max-Age=0") || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
        }
        if let token = String(buffer: response.body).firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1 { csrf = String(token) }
        last = response
        return response
    }

    /// Signs in with `token` through the sign-in form.
    @discardableResult
    func signIn(_ token: String) async throws -> TestResponse {
        try await get("/signin")
        return try await post("/signin", ["token": token])
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var location: String? { headers[.location] }
    /// The values this answer's Set-Cookie headers give, by cookie name.
    var setCookies: [String: String] {
        var set: [String: String] = [:]
        for line in headers[values: .setCookie] {
            let pair = line.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            set[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return set
    }
}

/// What the console logged: each entry's level, message and metadata (with the request id).
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let recorded = Mutex<[Entry]>([])

    var entries: [Entry] { recorded.withLock { $0 } }

    /// The entries logged for the request `id`.
    func entries(ofRequest id: String) -> [Entry] { entries.filter { $0.metadata["hb.request.id"] == id } }

    func handler() -> Handler { Handler(recorder: self) }

    func append(_ entry: Entry) { recorded.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            recorder.append(Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}
