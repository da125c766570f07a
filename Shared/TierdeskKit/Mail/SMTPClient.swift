import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One reply of an SMTP server: its code and its lines' texts (a multi-line reply has several).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]
    public var description: String { "\(code) " + lines.joined(separator: " / ") }
}

/// Why SMTP failed. A 4xx reply, a timeout or a lost connection is temporary (try again later); a
/// 5xx reply or a server this client must refuse (no STARTTLS, no usable AUTH) is permanent.
public enum SMTPError: Error, Sendable, CustomStringConvertible {
    /// The server answered `command` with a failure.
    case rejected(command: String, reply: SMTPReply)
    case timeout(waitingFor: String)
    case connection(String)
    /// The server lacks what the settings demand.
    case refused(String)

    public var isPermanent: Bool {
        switch self {
        case .rejected(_, let reply): reply.code >= 500
        case .timeout, .connection: false
        case .refused: true
        }
    }

    /// True when the connection can carry on with the next mail (the server refused one mail, nothing more).
    public var leavesConnectionUsable: Bool {
        if case .rejected = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .rejected(let command, let reply): "\(command): \(reply)"
        case .timeout(let waitingFor): "no answer in time to \(waitingFor)"
        case .connection(let problem): problem
        case .refused(let problem): problem
        }
    }
}

/// Opens SMTP sessions to one server with one set of settings; the TLS context (system roots plus
/// the optional CA file) is built once, when the client is.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    let tlsContext: NIOSSLContext?

    /// Throws when the CA file cannot be read.
    public init(settings: SMTPSettings) throws {
        self.settings = settings
        if settings.tls == .none {
            tlsContext = nil
        } else {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let caFile = settings.caFile { configuration.additionalTrustRoots = [.file(caFile)] }
            tlsContext = try NIOSSLContext(configuration: configuration)
        }
    }

    /// A session ready to send: greeted, TLS on (STARTTLS or implicit, per the settings), authenticated.
    public func connect() async throws(SMTPError) -> SMTPConnection {
        try await SMTPConnection.open(settings, tlsContext: tlsContext)
    }
}

/// One SMTP session, for many mails in turn (never two at once). Every reply is awaited with the
/// settings' timeout; after a timeout or a lost connection the session is closed and fails fast.
public struct SMTPConnection: Sendable {
    let channel: any Channel
    let handler: SMTPReplyHandler
    let timeout: TimeAmount
    /// The server's EHLO keywords (upper-cased), as it announced them last (after STARTTLS).
    public let capabilities: Set<String>

    /// False once the connection is closed.
    public var isOpen: Bool { channel.isActive }

    static func open(_ settings: SMTPSettings, tlsContext: NIOSSLContext?) async throws(SMTPError) -> SMTPConnection {
        let handler = SMTPReplyHandler()
        let timeout = TimeAmount.nanoseconds(Int64(settings.timeout.seconds * 1e9))
        // SNI takes a name, never an address; for an address NIOSSL checks the certificate against the peer's IP.
        let serverName = settings.host.contains(":") || settings.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : settings.host
        let implicit = settings.tls == .tls ? tlsContext : nil
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicit { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: implicit, serverHostname: serverName)) }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: settings.host, port: settings.port).get()
        } catch {
            throw .connection("cannot connect to \(settings.host):\(settings.port): \(error)")
        }
        var connection = SMTPConnection(channel: channel, handler: handler, timeout: timeout, capabilities: [])
        do {
            try await connection.expect(220, connection.replies(1, writing: nil, for: "the greeting")[0], "greeting")
            var hello = try await connection.command("EHLO \(settings.heloName)", expecting: 250)
            if settings.tls == .starttls {
                guard Self.capabilities(of: hello).contains("STARTTLS") else {
                    throw SMTPError.refused("\(settings.host) does not offer STARTTLS (TIERDESK_SMTP_TLS=starttls refuses to go on without it)")
                }
                try await connection.command("STARTTLS", expecting: 220)
                guard let tlsContext else { throw SMTPError.refused("no TLS context") }
                do {
                    try await channel.eventLoop.submit {
                        try handler.expectNothingBeforeTLS()
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName), position: .first)
                    }.get()
                } catch {
                    throw SMTPError.connection("TLS: \(error)")
                }
                hello = try await connection.command("EHLO \(settings.heloName)", expecting: 250)
            }
            connection = SMTPConnection(channel: channel, handler: handler, timeout: timeout, capabilities: Self.capabilities(of: hello))
            if let credentials = settings.credentials { try await connection.authenticate(credentials, offered: Self.authMechanisms(of: hello)) }
            return connection
        } catch {
            channel.close(promise: nil)
            throw error as? SMTPError ?? .connection(String(describing: error))
        }
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN; this runs only after TLS (or with `tls: none`, by the operator's explicit choice).
    func authenticate(_ credentials: SMTPSettings.Credentials, offered: Set<String>) async throws(SMTPError) {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if offered.contains("PLAIN") {
            try await command("AUTH PLAIN " + base64("\0\(credentials.user)\0\(credentials.password)"), named: "AUTH PLAIN", expecting: 235)
        } else if offered.contains("LOGIN") {
            try await command("AUTH LOGIN", expecting: 334)
            try await command(base64(credentials.user), named: "AUTH LOGIN (user)", expecting: 334)
            try await command(base64(credentials.password), named: "AUTH LOGIN (password)", expecting: 235)
        } else {
            throw .refused("the server offers neither AUTH PLAIN nor AUTH LOGIN (it offers: \(offered.sorted().joined(separator: " ")))")
        }
    }

    /// Sends one message (`message`, CRLF line ends) from `sender` to `recipient` (plain addresses).
    /// MAIL, RCPT and DATA go in one write when the server offers PIPELINING (RFC 2920), one by one
    /// otherwise. A refusal of this mail ends its transaction with RSET, so the session can send the next one.
    public func send(_ message: String, from sender: String, to recipient: String) async throws(SMTPError) {
        guard MailAddress.isValidAddress(sender), MailAddress.isValidAddress(recipient) else {
            throw .rejected(command: "envelope", reply: SMTPReply(code: 501, lines: ["not a plain address"]))
        }
        let commands = [("MAIL FROM:<\(sender)>", "MAIL FROM", [250]), ("RCPT TO:<\(recipient)>", "RCPT TO", [250, 251]), ("DATA", "DATA", [354])]
        do throws(SMTPError) {
            if capabilities.contains("PIPELINING") {
                let replies = try await replies(3, sending: commands.map { $0.0 + "\r\n" }.joined(), for: "MAIL, RCPT and DATA")
                if let failed = zip(commands, replies).first(where: { !$0.0.2.contains($0.1.code) }) {
                    // A server that opened DATA after a refused recipient gets an empty message ended at once.
                    if replies[2].code == 354 { _ = try await self.replies(1, sending: ".\r\n", for: "the end of data") }
                    throw SMTPError.rejected(command: failed.0.1, reply: failed.1)
                }
            } else {
                for (line, name, codes) in commands {
                    let reply = try await replies(1, sending: line + "\r\n", for: name)[0]
                    guard codes.contains(reply.code) else { throw SMTPError.rejected(command: name, reply: reply) }
                }
            }
        } catch {
            if error.leavesConnectionUsable { _ = try? await replies(1, sending: "RSET\r\n", for: "RSET") }
            throw error
        }
        try await expect(250, replies(1, writing: Self.dotStuffed(message), for: "the end of data")[0], "end of data")
    }

    /// Says QUIT (briefly) and closes the connection.
    public func close() async {
        if channel.isActive { _ = try? await replies(1, sending: "QUIT\r\n", for: "QUIT") }
        try? await channel.close()
    }

    // MARK: wire

    @discardableResult
    func command(_ line: String, named name: String? = nil, expecting codes: Int...) async throws(SMTPError) -> SMTPReply {
        let name = name ?? String(line.prefix(while: { $0 != ":" }))
        let reply = try await replies(1, sending: line + "\r\n", for: name)[0]
        guard codes.contains(reply.code) else { throw .rejected(command: name, reply: reply) }
        return reply
    }

    func expect(_ code: Int, _ reply: SMTPReply, _ name: String) throws(SMTPError) {
        guard reply.code == code else { throw .rejected(command: name, reply: reply) }
    }

    func replies(_ count: Int, sending text: String, for name: String) async throws(SMTPError) -> [SMTPReply] {
        try await replies(count, writing: ByteBuffer(string: text), for: name)
    }

    /// Writes `data` (if any) and awaits `count` replies, all within one timeout.
    func replies(_ count: Int, writing data: ByteBuffer?, for name: String) async throws(SMTPError) -> [SMTPReply] {
        let loop = channel.eventLoop
        let promises = (0..<count).map { _ in loop.makePromise(of: SMTPReply.self) }
        let (channel, handler, timeout) = (self.channel, self.handler, self.timeout)
        loop.execute {
            for promise in promises { handler.expect(promise) }
            if let data {
                channel.writeAndFlush(data).whenFailure { error in handler.fail(.connection("write failed: \(error)")) }
            }
            let timer = loop.scheduleTask(in: timeout) {
                handler.fail(.timeout(waitingFor: name))
                channel.close(promise: nil)
            }
            promises.last?.futureResult.whenComplete { _ in timer.cancel() }
        }
        var result: [SMTPReply] = []
        for promise in promises {
            do {
                result.append(try await promise.futureResult.get())
            } catch {
                throw error as? SMTPError ?? .connection(String(describing: error))
            }
        }
        return result
    }

    /// The message with every line that starts with "." doubled (RFC 5321 4.5.2), a final CRLF, and the ".\r\n" that ends DATA.
    static func dotStuffed(_ message: String) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.utf8.count + 64)
        var atLineStart = true
        for byte in message.utf8 {
            if atLineStart && byte == UInt8(ascii: ".") { bytes.append(byte) }
            bytes.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { bytes += Array("\r\n".utf8) }
        bytes += Array(".\r\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    /// The EHLO reply's keywords, upper-cased (`STARTTLS`, `AUTH`, `PIPELINING`, ...).
    static func capabilities(of hello: SMTPReply) -> Set<String> {
        Set(hello.lines.dropFirst().compactMap { $0.split(whereSeparator: { $0 == " " || $0 == "=" }).first.map { $0.uppercased() } })
    }

    /// The AUTH mechanisms the EHLO reply offers (`AUTH PLAIN LOGIN`, or the old `AUTH=LOGIN`).
    static func authMechanisms(of hello: SMTPReply) -> Set<String> {
        var mechanisms = Set<String>()
        for line in hello.lines.dropFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { $0.uppercased() }
            if words.first == "AUTH" { mechanisms.formUnion(words.dropFirst()) }
        }
        return mechanisms
    }
}

/// Reads the server's replies off the wire (multi-line ones whole) and hands them, in order, to
/// the promises of the commands awaiting them. Lives on its channel's event loop: every method is
/// called there.
final class SMTPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    private var lines: [String] = []
    private var code = 0
    private var replies = CircularBuffer<SMTPReply>()
    private var waiters = CircularBuffer<EventLoopPromise<SMTPReply>>()
    private var failure: SMTPError?

    /// The next reply goes to `promise` (or the reply that already came, or the failure).
    func expect(_ promise: EventLoopPromise<SMTPReply>) {
        if let failure {
            promise.fail(failure)
        } else if let reply = replies.popFirst() {
            promise.succeed(reply)
        } else {
            waiters.append(promise)
        }
    }

    /// Throws when the server sent anything after its answer to STARTTLS: bytes sent in plain text
    /// must never be read as if they came over TLS (the STARTTLS injection of CVE-2011-0411).
    func expectNothingBeforeTLS() throws {
        guard buffer.readableBytes == 0 && replies.isEmpty && lines.isEmpty else {
            throw SMTPError.refused("the server sent more after its answer to STARTTLS: refused, since it could be injected")
        }
    }

    /// Fails every waiting command and every later one: the session is over.
    func fail(_ error: SMTPError) {
        if failure == nil { failure = error }
        while let waiter = waiters.popFirst() { waiter.fail(failure ?? error) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            guard let line = buffer.readString(length: newline - buffer.readerIndex + 1) else { break }
            if !take(line.trimmingCharacters(in: .newlines)) {
                fail(.connection("the server sent a line that is no SMTP reply: \(line.prefix(100))"))
                context.close(promise: nil)
                return
            }
        }
        // A reply line is at most 512 octets (RFC 5321 4.5.3.1.5); far more without a line end is no SMTP.
        if buffer.readableBytes > 65_536 {
            fail(.connection("the server sent an overlong line"))
            context.close(promise: nil)
        }
        buffer.discardReadBytes()
    }

    /// One line `ddd-text` (more follow) or `ddd text` (the last); false when it is no reply line.
    private func take(_ line: String) -> Bool {
        let utf8 = Array(line.utf8)
        guard utf8.count >= 3, let code = Int(String(decoding: utf8[0..<3], as: UTF8.self)), (200...599).contains(code) else { return false }
        let more = utf8.count > 3 && utf8[3] == UInt8(ascii: "-")
        lines.append(utf8.count > 4 ? String(decoding: utf8[4...], as: UTF8.self) : "")
        self.code = code
        if !more {
            let reply = SMTPReply(code: code, lines: lines)
            lines = []
            if let waiter = waiters.popFirst() { waiter.succeed(reply) } else { replies.append(reply) }
        }
        return true
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.connection("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.connection(error is NIOSSLError || error is BoringSSLError ? "TLS: \(error)" : String(describing: error)))
        context.close(promise: nil)
    }
}
