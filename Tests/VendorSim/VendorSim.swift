import ArgumentParser
import AsyncHTTPClient
import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// `tierdesk-vendor-sim`: a stand-in for an external vendor, for tests and the demo (a test double,
/// so it lives with the tests' support code, not in the admin command). It receives
/// vendor-bridge's webhooks (Standard Webhooks, verified with the vendor's signing secret) and acts
/// through vendor-bridge's vendor API with the vendor's key: acknowledges each new case, asks a
/// question on every Nth case and waits for the company's answer, then works and resolves.
@main
struct VendorSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tierdesk-vendor-sim",
        abstract: "Play a vendor: answer vendor-bridge's webhooks through its vendor API (for tests and the demo).",
        discussion: """
            POST /webhooks (or any path below it) takes vendor-bridge's signed webhooks: 401 unless the signature \
            verifies, 204 at once otherwise; the vendor's updates follow in the background. GET /health answers 200. \
            Each option may come from the environment variable named beside it instead; the flag wins. \
            Prefer the environment for the secret and the key: flags show in the process list. Also reads \
            TIERDESK_LOG_LEVEL and TIERDESK_LOG_FORMAT.
            """,
        version: TierdeskVersion.current)

    @Option(help: "Address to listen on (TIERDESK_VENDOR_SIM_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on, 0 for any free one (TIERDESK_VENDOR_SIM_PORT; default 8090).") var port: Int?
    @Option(help: "The vendor's webhook signing secret, whsec_... (TIERDESK_VENDOR_SIM_SECRET; required).") var secret: String?
    @Option(help: "The vendor's API key, tdv_... (TIERDESK_VENDOR_SIM_KEY; required).") var key: String?
    @Option(help: "A file holding the signing secret, instead of it (TIERDESK_VENDOR_SIM_SECRET_FILE: a mounted secret).") var secretFile: String?
    @Option(help: "A file holding the API key, instead of it (TIERDESK_VENDOR_SIM_KEY_FILE: a mounted secret).") var keyFile: String?
    @Option(help: "vendor-bridge's base URL (TIERDESK_VENDOR_BRIDGE_URL; default http://127.0.0.1:8083).") var bridgeUrl: String?
    @Option(help: "Milliseconds before a new case is acknowledged (TIERDESK_VENDOR_SIM_ACK_AFTER_MS; default 500).") var ackAfterMs: Int?
    @Option(help: "Milliseconds of work before a case is resolved (TIERDESK_VENDOR_SIM_RESOLVE_AFTER_MS; default 3000).") var resolveAfterMs: Int?
    @Option(help: "Ask a question on every Nth new case, 0 for never (TIERDESK_VENDOR_SIM_ASK_EVERY; default 2).") var askEvery: Int?

    func run() async throws {
        let given: [String: String?] = [
            "--host": host, "--port": port.map(String.init), "--secret": secret, "--key": key, "--secret-file": secretFile,
            "--key-file": keyFile, "--bridge-url": bridgeUrl,
            "--ack-after-ms": ackAfterMs.map(String.init), "--resolve-after-ms": resolveAfterMs.map(String.init), "--ask-every": askEvery.map(String.init),
        ]
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        for setting in VendorSimConfiguration.settings {
            if let value = given[setting.flag] ?? nil {
                flags[AbsoluteConfigKey(ConfigKey(setting.key))] = ConfigValue(.string(value), isSecret: setting.isSecret)
            }
        }
        let reader = ConfigReader(providers: [InMemoryProvider(name: "flags", values: flags), EnvironmentVariablesProvider()])
        let configuration: VendorSimConfiguration
        do throws(ConfigurationError) {
            configuration = try VendorSimConfiguration(reader: reader)
        } catch {
            let flag = VendorSimConfiguration.settings.first { $0.key == error.key }.map { " (or \($0.flag))" } ?? ""
            let name = TierdeskConfiguration.environmentName(error.key)
            FileHandle.standardError.write(Data("tierdesk-vendor-sim: configuration error: \(name)\(flag) \(error.problem)\n".utf8))
            throw ExitCode(78)
        }
        TierdeskLogging.bootstrap()
        try await VendorSimulatorApp.run(configuration)
    }
}

/// What the simulator runs with, read once. Each key is a flag or its environment variable
/// (`tierdesk.vendor.sim.port` ↔ `--port` ↔ `TIERDESK_VENDOR_SIM_PORT`); vendor-bridge's URL is
/// the peer key every service reads.
struct VendorSimConfiguration: Sendable {
    var host: String
    /// 0: any free port (the ready line names the one taken).
    var port: Int
    var signingSecret: String
    var apiKey: String
    var bridgeURL: String
    var acknowledgeAfter: Duration
    var resolveAfter: Duration
    /// Every Nth new case gets a question before the work starts; 0: none does.
    var askEvery: Int

    /// Every setting's key and flag; secrets are kept out of configuration access logs.
    static let settings: [(key: String, flag: String, isSecret: Bool)] = [
        ("tierdesk.vendor.sim.host", "--host", false), ("tierdesk.vendor.sim.port", "--port", false),
        ("tierdesk.vendor.sim.secret", "--secret", true), ("tierdesk.vendor.sim.key", "--key", true),
        ("tierdesk.vendor.sim.secret.file", "--secret-file", false), ("tierdesk.vendor.sim.key.file", "--key-file", false),
        ("tierdesk.vendor.bridge.url", "--bridge-url", false), ("tierdesk.vendor.sim.ack.after.ms", "--ack-after-ms", false),
        ("tierdesk.vendor.sim.resolve.after.ms", "--resolve-after-ms", false), ("tierdesk.vendor.sim.ask.every", "--ask-every", false),
    ]

    init(reader: ConfigReader) throws(ConfigurationError) {
        host = reader.string(forKey: "tierdesk.vendor.sim.host", default: "127.0.0.1")
        port = try TierdeskConfiguration.int(reader, "tierdesk.vendor.sim.port", default: 8090, range: 0...65535)
        signingSecret = try TierdeskConfiguration.required(reader, "tierdesk.vendor.sim.secret", secret: true)
        do {
            _ = try WebhookSignature.sign(id: "probe", timestamp: 0, body: Data(), secret: signingSecret)
        } catch {
            throw ConfigurationError(key: "tierdesk.vendor.sim.secret", problem: "must be a signing secret: whsec_ and base64 of 24 to 64 bytes")
        }
        apiKey = try TierdeskConfiguration.required(reader, "tierdesk.vendor.sim.key", secret: true)
        guard Secrets.isWellFormed(apiKey, .vendorKey) else {
            throw ConfigurationError(key: "tierdesk.vendor.sim.key", problem: "must be a vendor API key (tdv_...)")
        }
        let url = reader.string(forKey: "tierdesk.vendor.bridge.url", default: "http://127.0.0.1:8083")
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
            throw ConfigurationError(key: "tierdesk.vendor.bridge.url", problem: "must be an http(s) URL, not '\(url)'")
        }
        bridgeURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        let hour = 3_600_000
        acknowledgeAfter = .milliseconds(try TierdeskConfiguration.int(reader, "tierdesk.vendor.sim.ack.after.ms", default: 500, range: 0...hour))
        resolveAfter = .milliseconds(try TierdeskConfiguration.int(reader, "tierdesk.vendor.sim.resolve.after.ms", default: 3000, range: 0...hour))
        askEvery = try TierdeskConfiguration.int(reader, "tierdesk.vendor.sim.ask.every", default: 2, range: 0...1000)
    }
}

/// Assembles and runs the simulator: the HTTP side, the vendor, and the runner of its case scripts.
enum VendorSimulatorApp {
    static func run(_ configuration: VendorSimConfiguration) async throws {
        let logger = Logger(label: "vendor-sim")
        let (scripts, queue) = AsyncStream.makeStream(of: CaseScript.self)
        let api = VendorAPIClient(baseURL: configuration.bridgeURL, apiKey: configuration.apiKey, http: .shared)
        let vendor = SimulatedVendor(configuration: configuration, api: api, scripts: queue)
        let host = configuration.host
        let app = Application(
            router: buildRouter(vendor: vendor, signingSecret: configuration.signingSecret, logger: logger),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "vendor-sim"),
            services: [ScriptRunner(scripts: scripts)],
            onServerRunning: { channel in
                // One line on stdout, written at once (not buffered): scripts and tests wait for it.
                let port = channel.localAddress?.port ?? configuration.port
                FileHandle.standardOutput.write(Data("vendor-sim listening on http://\(host):\(port)\n".utf8))
            },
            logger: logger)
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
    }

    /// `POST /webhooks` (and any path below it) and `GET /health`.
    static func buildRouter(vendor: SimulatedVendor, signingSecret: String, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.get("health") { _, _ in JSONResponse(["status": "ok"]) }
        let receiver = WebhookReceiver(vendor: vendor, signingSecret: signingSecret, logger: logger)
        router.post("webhooks", use: receiver.receive)
        router.post("webhooks/**", use: receiver.receive)
        return router
    }
}

/// Why the simulator refuses a webhook, as the problem document it answers.
enum VendorSimError: ProblemConvertible {
    case signature(WebhookSignature.Failure)
    case malformedWebhook(String)

    var problem: Problem {
        switch self {
        case .signature(let failure):
            let detail =
                switch failure {
                case .missingHeaders: "send webhook-id, webhook-timestamp and webhook-signature"
                case .malformedTimestamp: "webhook-timestamp must be Unix seconds"
                case .timestampOutOfTolerance: "webhook-timestamp is more than 5 minutes from this vendor's clock"
                case .noMatchingSignature: "no v1 signature in webhook-signature matches the body under this vendor's secret"
                case .malformedSecret: "this vendor's signing secret is malformed"
                }
            return Problem(type: Problem.typeBase + "invalid-webhook-signature", title: "Invalid webhook signature", status: 401, detail: detail)
        case .malformedWebhook(let detail):
            return Problem(type: Problem.typeBase + "malformed-webhook", title: "Malformed webhook", status: 400, detail: detail)
        }
    }
}

/// A webhook as the simulator reads it: leniently, so a new event type or a new field is logged,
/// never refused (`VendorCase` ignores fields it does not know).
struct SimulatedWebhook: Decodable, Sendable {
    struct Payload: Decodable, Sendable {
        var `case`: VendorCase?
        /// The company's words on `vendor.message`.
        var message: String?
        /// On `vendor.message`: the company sent a resolved case back.
        var reopened: Bool?
    }

    enum Kind: String {
        case caseOpened = "vendor.case_opened"
        case message = "vendor.message"
        case caseClosed = "vendor.case_closed"
        case caseOverdue = "vendor.case_overdue"
    }

    var type: String
    var timestamp: Date?
    var data: Payload?

    var kind: Kind? { Kind(rawValue: type) }
}

/// Verifies each delivery before anything else, answers at once and leaves the vendor's follow-up
/// work to its scripts.
struct WebhookReceiver: Sendable {
    let vendor: SimulatedVendor
    let signingSecret: String
    let logger: Logger

    static let id = HTTPField.Name("webhook-id")!
    static let timestamp = HTTPField.Name("webhook-timestamp")!
    static let signature = HTTPField.Name("webhook-signature")!

    @Sendable func receive(request: Request, context: BasicRequestContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let body = Data(buffer.readableBytesView)
        let id = request.headers[Self.id]
        var logger = logger
        logger[metadataKey: "webhook.id"] = "\(id ?? "-")"
        do throws(WebhookSignature.Failure) {
            try WebhookSignature.verify(
                id: id, timestamp: request.headers[Self.timestamp], signatures: request.headers[Self.signature], body: body, secret: signingSecret,
                now: SystemClock().now())
        } catch {
            let refusal = VendorSimError.signature(error)
            logger.warning("webhook rejected", metadata: ["reason": "\(refusal.problem.detail ?? "\(error)")"])
            throw refusal
        }
        let webhook: SimulatedWebhook
        do {
            webhook = try JSONCoding.decodeBody(SimulatedWebhook.self, from: buffer)
        } catch {
            logger.warning("webhook rejected", metadata: ["reason": "malformed body: \(error)"])
            throw error
        }
        logger[metadataKey: "webhook.type"] = "\(webhook.type)"
        if let vendorCase = webhook.data?.case {
            logger[metadataKey: "case.id"] = "\(vendorCase.id)"
            logger[metadataKey: "ticket.reference"] = "\(vendorCase.ticketReference)"
        } else if webhook.kind != nil {
            logger.warning("webhook rejected", metadata: ["reason": "no data.case"])
            throw VendorSimError.malformedWebhook("\(webhook.type) carries the case in data.case")
        }
        // Verified, so the id is vendor-bridge's: the same id again is a redelivery.
        switch await vendor.receive(webhook, deliveryID: id ?? "", logger: logger) {
        case .accepted: logger.info("webhook accepted")
        case .redelivery: logger.info("webhook accepted: a redelivery, already handled")
        }
        return Response(status: .noContent)
    }
}
