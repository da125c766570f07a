import AsyncHTTPClient
import Configuration
import Foundation
import NIOCore
import NIOHTTP1
import TierdeskModels

/// The exit codes of `tierdesk mail-in`, from sysexits.h, as an MTA's pipe transport or fetchmail's
/// `--mda` reads them: only `temporaryFailure` keeps the message queued for another try.
public enum SysExit: Int32, Sendable {
    case ok = 0
    /// EX_DATAERR: the message can never be accepted (the MTA bounces it to its sender).
    case dataError = 65
    /// EX_TEMPFAIL: try again later (the MTA keeps it queued).
    case temporaryFailure = 75
    /// EX_CONFIG: a setting is missing or malformed.
    case configuration = 78
}

/// What `tierdesk mail-in` reads (`--help` lists `settings`).
public struct MailInSettings: Sendable {
    public var intakeURL: String
    public var token: String
    /// Our own MTA's authserv-id: only its `Authentication-Results` are read; nil: none are.
    public var authservID: String?
    public var timeout: Duration
    public var maxBytes: Int

    public init(intakeURL: String, token: String, authservID: String? = nil, timeout: Duration = .seconds(30), maxBytes: Int = 32 << 20) {
        self.intakeURL = intakeURL
        self.token = token
        self.authservID = authservID
        self.timeout = timeout
        self.maxBytes = maxBytes
    }

    public init(reader: ConfigReader) throws(ConfigurationError) {
        intakeURL = try PeerDirectory.url(reader.string(forKey: "tierdesk.intake.url", default: "http://127.0.0.1:8080"), key: "tierdesk.intake.url")
        guard let token = try TierdeskConfiguration.optional(reader, "tierdesk.mail.gateway.token", minLength: 16) else {
            throw ConfigurationError(key: "tierdesk.mail.gateway.token", problem: "is required (or TIERDESK_MAIL_GATEWAY_TOKEN_FILE)")
        }
        self.token = token
        authservID = reader.string(forKey: "tierdesk.mail.authserv.id").flatMap { $0.isEmpty ? nil : $0 }
        timeout = .milliseconds(try TierdeskConfiguration.int(reader, "tierdesk.mail.in.timeout.ms", default: 30_000, range: 100...600_000))
        maxBytes = try TierdeskConfiguration.int(reader, "tierdesk.mail.in.max.bytes", default: 32 << 20, range: 1024...(1 << 30))
    }

    /// What `init(reader:)` reads.
    public static let settings =
        [
            ConfigSetting("tierdesk.intake.url", "intake's base URL, where mail-in posts (default http://127.0.0.1:8080)")
        ] + ConfigSetting.secret("tierdesk.mail.gateway.token", "the mail gateway's bearer token, as intake has it (this or the file is required)") + [
            ConfigSetting(
                "tierdesk.mail.authserv.id",
                "the authserv-id of our own MTA's Authentication-Results (unset: mail-in reads none, and only reply addresses thread)"),
            ConfigSetting("tierdesk.mail.in.timeout.ms", "longest wait for intake's answer before the message is left to the MTA's retry (default 30000)"),
            ConfigSetting("tierdesk.mail.in.max.bytes", "largest message mail-in reads (default 33554432; larger ones are refused with 65)"),
        ]
}

/// One message from an MTA to intake's mail gateway, as `tierdesk mail-in` does it: read, parse,
/// post to `POST /v1/inbound/email`, and say how it went in a sysexits code and one line for
/// standard error. Nothing accepted is lost: whatever leaves the outcome unknown (intake down,
/// slow, overloaded, refusing the token) is `temporaryFailure`, so the MTA keeps the message and
/// tries again, and intake recognises a second delivery by its Message-ID.
public struct MailIn: Sendable {
    public var settings: MailInSettings

    public init(settings: MailInSettings) { self.settings = settings }

    /// The exit code and the line to print.
    public func deliver(_ raw: [UInt8], recipient: String?, sender: String?) async -> (SysExit, String) {
        guard raw.count <= settings.maxBytes else { return (.dataError, "mail-in: refused: the message is larger than \(settings.maxBytes) bytes") }
        let message: InboundMessage
        do {
            message = try InboundMessage(raw, parser: MIMEParser(maxBytes: settings.maxBytes))
        } catch {
            return (.dataError, "mail-in: refused: \(error)")
        }
        let email = message.inboundEmail(raw: raw, deliveredTo: recipient, returnPath: sender.map { "<\($0)>" }, authservID: settings.authservID)
        return await post(email)
    }

    func post(_ email: InboundEmail) async -> (SysExit, String) {
        let body: Data
        do {
            body = try JSONCoding.encoder.json.encode(email)
        } catch {
            return (.dataError, "mail-in: refused: the message cannot be encoded: \(error)")
        }
        var request = HTTPClientRequest(url: settings.intakeURL + "/v1/inbound/email")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(settings.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))
        // A client of its own that fails at once when intake refuses the connection (the shared one
        // retries until the deadline: 30 s of an MTA's delivery slot for an answer it already has).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(5))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let answered: Result<(HTTPResponseStatus, String), any Error>
        do {
            let response = try await client.execute(request, timeout: .milliseconds(settings.timeout.wholeMilliseconds))
            answered = .success((response.status, String(buffer: try await response.body.collect(upTo: 1 << 20))))
        } catch {
            answered = .failure(error)
        }
        do {
            try await client.shutdown()
        } catch {
            // The answer is already in hand; a one-shot client that shuts down badly loses nothing.
        }
        switch answered {
        case .failure(let error):
            return (.temporaryFailure, "mail-in: intake at \(settings.intakeURL) did not answer (\(error)); the MTA will retry")
        case .success(let (status, answer)):
            return Self.outcome(status: status, answer: answer, messageID: email.messageId)
        }
    }

    /// Intake's answer as an exit code: 2xx delivered; a refusal of the message itself (400, 413,
    /// 415, 422) can never succeed; anything else (5xx, 429, a refused token, a wrong URL) is
    /// retried, so a fault on our side never bounces a customer's mail.
    static func outcome(status: HTTPResponseStatus, answer: String, messageID: String) -> (SysExit, String) {
        let detail = String(answer.replacingOccurrences(of: "\n", with: " ").prefix(500))
        switch status.code {
        case 200..<300:
            let result = try? JSONCoding.decoder.decode(InboundEmailResult.self, from: Data(answer.utf8))  // the delivery stands without it
            let what = result.map { "\($0.outcome.rawValue)\($0.reference.map { " \($0)" } ?? "")" } ?? "accepted"
            return (.ok, "mail-in: \(messageID) delivered: \(what)")
        case 400, 413, 415, 422:
            return (.dataError, "mail-in: intake refused \(messageID) (\(status.code)): \(detail)")
        case 401, 403:
            return (
                .temporaryFailure,
                "mail-in: intake refused the gateway token (\(status.code)): check TIERDESK_MAIL_GATEWAY_TOKEN; the MTA will retry"
            )
        default:
            return (.temporaryFailure, "mail-in: intake answered \(status.code) for \(messageID); the MTA will retry: \(detail)")
        }
    }
}

extension Duration {
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
