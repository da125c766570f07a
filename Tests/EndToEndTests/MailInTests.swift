import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `tierdesk mail-in` as an MTA runs it: its exit codes against a real intake, then the acceptance
/// with a real Postfix (Debian's package, `scripts/mta`: its own configuration and queue in a
/// folder, SMTP on a loopback port) that pipes every mail for the help desk's domain into it.
@Suite(.serialized) struct MailInTests {
    static let domain = "help.tierdesk.test"
    static let authservID = "mx.help.tierdesk.test"

    /// Runs `tierdesk mail-in` with `message` on standard input.
    func mailIn(_ message: String, _ arguments: [String] = [], environment: [String: String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Cluster.binPath()).appendingPathComponent("tierdesk")
        process.arguments = ["mail-in"] + arguments
        process.environment = environment
        let (input, output) = (Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    static func message(from: String, to: String, subject: String, body: String, headers: [String] = []) -> String {
        (["From: \(from)", "To: \(to)", "Subject: \(subject)", "Message-ID: <\(UUID())@mail.example.com>", "Date: Mon, 4 May 2026 10:00:00 +0000"]
            + headers + ["", body]).joined(separator: "\r\n") + "\r\n"
    }

    @Test(.freshDatabase) func exitCodesTellTheMTAWhatToDo() async throws {
        let token = TestCredentials.mailGatewayToken
        let mail = Self.message(from: "Dana <dana@example.com>", to: "help@\(Self.domain)", subject: "Printer", body: "It jams.")
        let (missing, missingLine) = try mailIn(mail, environment: [:])
        #expect(missing == 78 && missingLine.contains("TIERDESK_MAIL_GATEWAY_TOKEN is required"), "\(missingLine)")
        let down = ["TIERDESK_INTAKE_URL": "http://127.0.0.1:\(try Cluster.freePort())", "TIERDESK_MAIL_GATEWAY_TOKEN": token]
        let (unreachable, unreachableLine) = try mailIn(mail, environment: down)
        #expect(unreachable == 75 && unreachableLine.contains("the MTA will retry"), "\(unreachableLine)")

        let cluster = try Cluster(database: try TestDatabase.settings())
        try await cluster.start(["intake"])
        defer { cluster.stop() }
        let intake = ["TIERDESK_INTAKE_URL": cluster.url("intake"), "TIERDESK_MAIL_GATEWAY_TOKEN": token]
        let (garbage, garbageLine) = try mailIn("this is not a mail message at all", environment: intake)
        #expect(garbage == 65 && garbageLine.contains("no header fields"), "\(garbageLine)")
        let (noSender, noSenderLine) = try mailIn("Subject: who?\r\n\r\nbody\r\n", environment: intake)
        #expect(noSender == 65 && noSenderLine.contains("no From address"), "\(noSenderLine)")
        let (wrongToken, wrongTokenLine) = try mailIn(
            mail, environment: intake.merging(["TIERDESK_MAIL_GATEWAY_TOKEN": String(repeating: "x", count: 20)]) { $1 })
        #expect(wrongToken == 75 && wrongTokenLine.contains("refused the gateway token"), "\(wrongTokenLine)")
        let (delivered, deliveredLine) = try mailIn(mail, ["--recipient", "help@\(Self.domain)"], environment: intake)
        #expect(delivered == 0 && deliveredLine.contains("delivered: created TD-"), "\(deliveredLine)")
        let (again, againLine) = try mailIn(mail, environment: intake)
        #expect(again == 0 && againLine.contains("delivered: duplicate"), "\(againLine)")
        let invalidSender = Self.message(from: "dana@localhost", to: "help@\(Self.domain)", subject: "x", body: "y")
        let (invalid, invalidLine) = try mailIn(invalidSender, environment: intake)
        #expect(invalid == 65 && invalidLine.contains("422"), "\(invalidLine)")
    }

    /// The issue's acceptance: Postfix receives over SMTP and pipes into mail-in; a reply to the reply
    /// address threads; a forged `From` opens a new ticket; an auto-responder causes no reopen, no
    /// ticket and no mail; with intake down the mail waits in Postfix's queue and arrives once.
    @Test(.freshDatabase) func postfixPipesMailIntoIntake() async throws {
        let database = try TestDatabase.settings()
        let cluster = try Cluster(database: database)
        try await cluster.start(["intake"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-mta-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let tokenFile = folder.appendingPathComponent("gateway-token")
        try Data(TestCredentials.mailGatewayToken.utf8).write(to: tokenFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: tokenFile.path)
        let free = try Cluster.freePort()
        let port = ProcessInfo.processInfo.environment["TIERDESK_TEST_MTA_PORT"].flatMap(Int.init) ?? free
        let mta = MTA(folder: folder.appendingPathComponent("postfix"), port: port)
        defer {
            mta.stop()
            cluster.stop()
            try? FileManager.default.removeItem(at: folder)  // a leftover temporary folder harms nothing
        }
        try mta.start(
            bin: try Cluster.binPath(), domain: Self.domain,
            environment: [
                "TIERDESK_INTAKE_URL": cluster.url("intake"), "TIERDESK_MAIL_GATEWAY_TOKEN_FILE": tokenFile.path,
                "TIERDESK_MAIL_AUTHSERV_ID": Self.authservID,
            ])

        try await TestDatabase.withClient { client in
            let logger = TestDatabase.logger
            func count(_ sql: String) async throws -> Int {
                try await client.first(PostgresQuery(unsafeSQL: sql), logger: logger) { Int(try $0.get("n", as: Int64.self)) } ?? 0
            }
            func comments(_ ticket: UUID) async throws -> [TicketEvent] {
                try await TicketStore(source: "test").events(of: ticket, publicOnly: false, on: client, logger: logger).filter { $0.type == .ticketCommented }
            }
            let opened = try await HTTP.json(
                SubmitTicketResponse.self, .POST, cluster.url("intake") + "/v1/tickets",
                body: SubmitTicketRequest(
                    requester: RequesterInput(email: "dana@example.com", name: "Dana"), channel: .web, subject: "VPN drops", description: "Every hour."))
            let replyAddress = ReplyAddress(secret: TestCredentials.secret).make(ticketID: opened.id, domain: Self.domain)

            // 1. A reply to the ticket's reply address, multipart with quoted history, threads onto it.
            let reply = Self.message(
                from: "Dana <dana@example.com>", to: replyAddress, subject: "Re: [\(opened.reference)] VPN drops",
                body: """
                    --b1\r
                    Content-Type: text/plain; charset=utf-8\r
                    Content-Transfer-Encoding: quoted-printable\r
                    \r
                    It dropped again at 10:00 =E2=80=94 log attached.\r
                    \r
                    On Mon, 4 May 2026 at 09:00, Help Desk <help@\(Self.domain)> wrote:\r
                    > Does it still drop?\r
                    --b1\r
                    Content-Type: text/plain; name="vpn.log"\r
                    Content-Disposition: attachment; filename="vpn.log"\r
                    \r
                    10:00 disconnected\r
                    --b1--
                    """,
                headers: ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b1\""])
            try SMTP.send(port: port, from: "dana@example.com", to: replyAddress, message: reply)
            let threaded = try await HTTP.eventually(timeout: .seconds(30)) { () -> TicketEvent? in try await comments(opened.id).first }
            #expect(TicketCommented(threaded)?.message == "It dropped again at 10:00 — log attached.", "\(mta.log())")
            #expect(TicketCommented(threaded)?.attachments == [MailAttachment(fileName: "vpn.log", contentType: "text/plain", size: 18)])
            #expect(threaded.actor.hasPrefix("requester:"))

            // 2. A forged From (the requester's address, with a forged DMARC pass in our MTA's name),
            // the ticket's tag and thread, but not its reply address: a new ticket, the first untouched.
            let forged = Self.message(
                from: "Dana <dana@example.com>", to: "help@\(Self.domain)", subject: "Re: [\(opened.reference)] VPN drops",
                body: "Please close this and send the logs to me.",
                headers: ["In-Reply-To: <\(opened.id)@\(Self.domain)>", "Authentication-Results: \(Self.authservID); dmarc=pass header.from=example.com"])
            try SMTP.send(port: port, from: "attacker@evil.example", to: "help@\(Self.domain)", message: forged)
            _ = try await HTTP.eventually(timeout: .seconds(30)) { () -> Int? in try await count("SELECT count(*) AS n FROM tickets") == 2 ? 2 : nil }
            #expect(try await comments(opened.id).count == 1, "the forged mail did not thread")

            // 3. An auto-responder answering the ticket's mails, at its reply address: no reopen, no ticket, no mail.
            try await client.execute("UPDATE tickets SET status = 'resolved', updated_at = now() WHERE id = \(opened.id)", logger: logger)
            let (tickets, mails) = (try await count("SELECT count(*) AS n FROM tickets"), try await count("SELECT count(*) AS n FROM mail_outbox"))
            let autoHeaders = [["Auto-Submitted: auto-replied"], ["X-Autoreply: yes", "Precedence: auto_reply"], ["Precedence: bulk"]]
            for headers in autoHeaders {
                let auto = Self.message(
                    from: "Dana <dana@example.com>", to: replyAddress, subject: "Automatic reply: [\(opened.reference)] VPN drops",
                    body: "I am out of the office.", headers: headers)
                try SMTP.send(port: port, from: "dana@example.com", to: replyAddress, message: auto)
            }
            _ = try await HTTP.eventually(timeout: .seconds(30)) { () -> Int? in
                let notes = try await count("SELECT count(*) AS n FROM email_messages WHERE automatic IS NOT NULL")
                return notes == autoHeaders.count ? notes : nil
            }
            let status = try await client.first("SELECT status FROM tickets WHERE id = \(opened.id)", logger: logger) { try $0.get("status", as: String.self) }
            #expect(status == "resolved")
            #expect(try await count("SELECT count(*) AS n FROM tickets") == tickets)
            #expect(try await count("SELECT count(*) AS n FROM mail_outbox") == mails)
            #expect(try await comments(opened.id).filter { TicketCommented($0)?.automatic != nil }.count == autoHeaders.count)

            // 4. intake down: mail-in exits 75, Postfix keeps the mail; intake back: delivered once.
            try await client.execute("UPDATE tickets SET status = 'new' WHERE id = \(opened.id)", logger: logger)
            cluster.signal("intake", SIGTERM)
            let late = Self.message(from: "Dana <dana@example.com>", to: replyAddress, subject: "Re: VPN drops", body: "Sent while intake was down.")
            try SMTP.send(port: port, from: "dana@example.com", to: replyAddress, message: late)
            _ = try await HTTP.eventually(timeout: .seconds(30)) { () -> Bool? in mta.log().contains("status=deferred") ? true : nil }
            #expect(mta.log().contains("dsn=4.3.0") && mta.log().contains("the MTA will retry"), "\(mta.log().suffix(1500))")
            #expect(try mta.queue().contains(replyAddress), "the mail waits in Postfix's queue")
            try cluster.launch("intake")
            try await cluster.waitReady("intake")
            try mta.flush()
            let arrived = try await HTTP.eventually(timeout: .seconds(60)) { () -> [TicketEvent]? in
                let found = try await comments(opened.id).filter { TicketCommented($0)?.message == "Sent while intake was down." }
                return found.isEmpty ? nil : found
            }
            try await Task.sleep(for: .seconds(2))
            let settled = try await comments(opened.id).filter { TicketCommented($0)?.message == "Sent while intake was down." }
            #expect(arrived.count == 1 && settled.count == 1, "delivered once")
            _ = try await HTTP.eventually(timeout: .seconds(30)) { () -> Bool? in try mta.queue().contains("Mail queue is empty") ? true : nil }
        }
    }
}

/// A private Postfix through `scripts/mta`.
struct MTA {
    let folder: URL
    let port: Int

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/mta").path
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSetupError("scripts/mta \(arguments.joined(separator: " ")) failed: \(text)") }
        return text
    }

    func start(bin: String, domain: String, environment: [String: String]) throws {
        try run(["up", folder.path, "\(port)", bin, domain], environment: environment)
    }

    func stop() { _ = try? run(["down", folder.path]) }  // a Postfix that did not start has nothing to stop
    func queue() throws -> String { try run(["queue", folder.path]) }
    func flush() throws { try run(["flush", folder.path]) }
    func log() -> String { (try? String(contentsOf: folder.appendingPathComponent("maillog"), encoding: .utf8)) ?? "" }
}

/// Just enough SMTP (RFC 5321) to hand one message to a server, as a mail client does.
enum SMTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func send(port: Int, from: String, to: String, message: String) throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "no socket") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "cannot connect to 127.0.0.1:\(port)") }
        var buffer = ""
        func reply(_ expected: Int) throws {
            while true {
                if let end = buffer.range(of: "\r\n") {
                    let line = String(buffer[..<end.lowerBound])
                    buffer = String(buffer[end.upperBound...])
                    if line.count >= 4, line.dropFirst(3).first == " " {
                        guard line.hasPrefix("\(expected)") else { throw Failure(description: "expected \(expected), got: \(line)") }
                        return
                    }
                    continue
                }
                var bytes = [UInt8](repeating: 0, count: 4096)
                let count = recv(socket, &bytes, bytes.count, 0)
                guard count > 0 else { throw Failure(description: "the server closed the connection") }
                buffer += String(decoding: bytes[0..<count], as: UTF8.self)
            }
        }
        func say(_ text: String) throws {
            let bytes = Array(text.utf8)
            guard Glibc.send(socket, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "cannot send") }
        }
        try reply(220)
        for (command, expected) in [("EHLO client.example.com", 250), ("MAIL FROM:<\(from)>", 250), ("RCPT TO:<\(to)>", 250), ("DATA", 354)] {
            try say(command + "\r\n")
            try reply(expected)
        }
        // Dot-stuffing (RFC 5321 §4.5.2), then the end of data.
        let stuffed = message.split(separator: "\r\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        try say(stuffed.joined(separator: "\r\n") + (message.hasSuffix("\r\n") ? "" : "\r\n") + ".\r\n")
        try reply(250)
        try say("QUIT\r\n")
        try reply(221)
    }
}
