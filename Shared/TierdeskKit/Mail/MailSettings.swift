import Configuration
import Foundation

/// The mail settings of a service that writes mail (intake, tier-queue): where its mail leaves
/// (`smtp`, nil while `TIERDESK_SMTP_HOST` is unset: mail then waits in the outbox), how the
/// dispatcher retries, and the reply addresses' domain. Every key is read whether or not SMTP is
/// configured, so `--help` lists exactly what is read.
public struct MailSettings: Sendable {
    /// The SMTP server and the sender; nil: no mail leaves this replica.
    public var smtp: SMTPSettings?
    /// The domain of the tickets' reply addresses (`reply+…@domain`) and of new Message-IDs; nil when unset.
    public var replyDomain: String?
    public var dispatch: MailDispatchSettings

    public init(smtp: SMTPSettings?, replyDomain: String? = nil, dispatch: MailDispatchSettings = MailDispatchSettings()) {
        self.smtp = smtp
        self.replyDomain = replyDomain
        self.dispatch = dispatch
    }

    public init(reader: ConfigReader) throws(ConfigurationError) {
        let host = reader.string(forKey: "tierdesk.smtp.host", default: "")
        let mode = reader.string(forKey: "tierdesk.smtp.tls", default: "starttls")
        guard let tls = SMTPSettings.TLSMode(rawValue: mode) else {
            throw ConfigurationError(key: "tierdesk.smtp.tls", problem: "must be starttls, tls or none, not '\(mode)'")
        }
        let port = try TierdeskConfiguration.int(reader, "tierdesk.smtp.port", default: tls == .tls ? 465 : 587, range: 1...65535)
        let user = reader.string(forKey: "tierdesk.smtp.user", default: "")
        let password = try Self.password(reader)
        let from = reader.string(forKey: "tierdesk.smtp.from", default: "")
        let caFile = reader.string(forKey: "tierdesk.smtp.ca.file", default: "")
        let timeout = try TierdeskConfiguration.int(reader, "tierdesk.smtp.timeout.ms", default: 30_000, range: 100...600_000)
        let domain = reader.string(forKey: "tierdesk.mail.reply.domain", default: "")
        replyDomain = domain.isEmpty ? nil : domain
        if let replyDomain, !MailAddress.isValidDomain(replyDomain) {
            throw ConfigurationError(key: "tierdesk.mail.reply.domain", problem: "must be a domain name, not '\(replyDomain)'")
        }
        dispatch = MailDispatchSettings(
            batchSize: try TierdeskConfiguration.int(reader, "tierdesk.smtp.batch.size", default: 100, range: 1...1000),
            connections: try TierdeskConfiguration.int(reader, "tierdesk.smtp.connections", default: 4, range: 1...16),
            maxAttempts: try TierdeskConfiguration.int(reader, "tierdesk.smtp.max.attempts", default: 30, range: 1...1000),
            maxBackoff: .milliseconds(try TierdeskConfiguration.int(reader, "tierdesk.smtp.max.backoff.ms", default: 600_000, range: 10...86_400_000)),
            retention: .seconds(86_400 * (try TierdeskConfiguration.int(reader, "tierdesk.mail.retention.days", default: 30, range: 1...3650))))
        guard !host.isEmpty else {
            smtp = nil
            return
        }
        // Plain SMTP carries the password and every mail readable on the wire: this machine only.
        if tls == .none && !["localhost", "127.0.0.1", "::1"].contains(host) && !host.hasPrefix("127.") {
            throw ConfigurationError(
                key: "tierdesk.smtp.tls", problem: "none is for a development server on this machine: TIERDESK_SMTP_HOST must be loopback, not '\(host)'")
        }
        guard let sender = MailAddress(parsing: from) else {
            throw ConfigurationError(
                key: "tierdesk.smtp.from", problem: "must be an address (`help@example.com` or `Help desk <help@example.com>`) when TIERDESK_SMTP_HOST is set")
        }
        if !user.isEmpty && password == nil {
            throw ConfigurationError(key: "tierdesk.smtp.password", problem: "or TIERDESK_SMTP_PASSWORD_FILE is required with TIERDESK_SMTP_USER")
        }
        smtp = SMTPSettings(
            host: host, port: port, tls: tls, credentials: user.isEmpty ? nil : .init(user: user, password: password ?? ""), from: sender,
            caFile: caFile.isEmpty ? nil : caFile, timeout: .milliseconds(timeout))
    }

    /// `TIERDESK_SMTP_PASSWORD`, or the content of the file `TIERDESK_SMTP_PASSWORD_FILE` names (a mounted secret).
    static func password(_ reader: ConfigReader) throws(ConfigurationError) -> String? {
        try TierdeskConfiguration.secret(reader, "tierdesk.smtp.password")
    }

    /// What `init(reader:)` reads.
    public static let settings =
        [
            ConfigSetting("tierdesk.smtp.host", "the SMTP server that sends mail (unset: mail waits in the outbox)"),
            ConfigSetting("tierdesk.smtp.port", "its port (default 587; 465 with TIERDESK_SMTP_TLS=tls)"),
            ConfigSetting(
                "tierdesk.smtp.tls",
                "starttls (default: refuse a server without it), tls (implicit TLS) or none (a development server on this machine: loopback only)"),
            ConfigSetting("tierdesk.smtp.user", "the user for AUTH PLAIN or LOGIN (unset: no authentication)"),
        ] + ConfigSetting.secret("tierdesk.smtp.password", "its password") + [
            ConfigSetting("tierdesk.smtp.from", "the sender, `help@example.com` or `Help desk <help@example.com>` (required with TIERDESK_SMTP_HOST)"),
            ConfigSetting("tierdesk.smtp.ca.file", "PEM file of a private CA to trust besides the system's, for the server's certificate"),
            ConfigSetting("tierdesk.smtp.timeout.ms", "longest wait to connect and for each reply of the server (default 30000)"),
            ConfigSetting("tierdesk.smtp.batch.size", "mails sent per leased batch over one connection (default 100)"),
            ConfigSetting("tierdesk.smtp.connections", "SMTP connections per replica, each sending its own batches (default 4)"),
            ConfigSetting("tierdesk.smtp.max.attempts", "attempts before a mail is dead-lettered (default 30)"),
            ConfigSetting("tierdesk.smtp.max.backoff.ms", "longest wait between attempts of one mail (default 600000)"),
            ConfigSetting("tierdesk.mail.retention.days", "days a sent mail is kept for the admin list and resend (default 30)"),
            ConfigSetting("tierdesk.mail.reply.domain", "the domain of the tickets' reply addresses, reply+…@domain"),
        ]
}

/// Where and how mail is sent.
public struct SMTPSettings: Sendable {
    public enum TLSMode: String, Sendable {
        /// Plain connect, then STARTTLS; a server that does not offer it is refused.
        case starttls
        /// TLS from the first byte (port 465).
        case tls
        /// No TLS at all: an explicit opt-in for a local development server.
        case none
    }

    public struct Credentials: Sendable {
        public var user: String
        public var password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    public var host: String
    public var port: Int
    public var tls: TLSMode
    public var credentials: Credentials?
    /// The `From` of every mail and its envelope sender.
    public var from: MailAddress
    /// A PEM file of CA certificates trusted besides the system's.
    public var caFile: String?
    /// The longest wait to connect and for each reply.
    public var timeout: Duration
    /// The name this client gives in EHLO.
    public var heloName: String

    public init(
        host: String, port: Int, tls: TLSMode = .starttls, credentials: Credentials? = nil, from: MailAddress, caFile: String? = nil,
        timeout: Duration = .seconds(30), heloName: String = "tierdesk.localhost"
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.credentials = credentials
        self.from = from
        self.caFile = caFile
        self.timeout = timeout
        self.heloName = heloName
    }
}

/// How the mail dispatcher leases, retries and prunes.
public struct MailDispatchSettings: Sendable {
    public var batchSize: Int
    /// SMTP connections per replica, each with its own batches.
    public var connections: Int
    public var maxAttempts: Int
    public var maxBackoff: Duration
    /// How long sent mail is kept.
    public var retention: Duration
    /// How long a leased batch stays invisible to other replicas; a batch stops sending at half of it.
    public var lease: Duration
    /// How often a replica looks for due mail besides its doorbell.
    public var pollInterval: Duration

    public init(
        batchSize: Int = 100, connections: Int = 4, maxAttempts: Int = 30, maxBackoff: Duration = .seconds(600), retention: Duration = .seconds(30 * 86_400),
        lease: Duration = .seconds(120), pollInterval: Duration = .milliseconds(500)
    ) {
        self.batchSize = batchSize
        self.connections = connections
        self.maxAttempts = maxAttempts
        self.maxBackoff = maxBackoff
        self.retention = retention
        self.lease = lease
        self.pollInterval = pollInterval
    }
}
