import Foundation
import Testing
import TierdeskTestSupport

@testable import TierdeskKit

/// The SMTP client against a real server (aiosmtpd) that requires STARTTLS (or speaks implicit TLS)
/// and AUTH, with a certificate of a CA made for the test: what arrives is read back from its folder.
@Suite struct SMTPClientTests {
    static func mail(_ n: Int = 1, text: String = "Hello", html: String? = nil) -> OutgoingMail {
        OutgoingMail(
            to: "ann@example.com", toName: "Ann Müller", subject: "[TD-\(n)] Drucker brennt — 🔥", text: text, html: html,
            messageID: "<m\(n)-\(UUID().uuidString.lowercased())@tierdesk.test>", inReplyTo: "<first@tierdesk.test>",
            references: ["<first@tierdesk.test>", "<second@tierdesk.test>"], replyTo: "reply+0a.1b@tierdesk.test",
            headers: [.init("Auto-Submitted", "auto-generated")])
    }

    func send(_ mails: [OutgoingMail], with settings: SMTPSettings) async throws {
        let connection = try await SMTPClient(settings: settings).connect()
        for mail in mails {
            try await connection.send(
                MIMEMessage.render(mail, from: settings.from, date: Date(timeIntervalSince1970: 1_796_000_000)), from: settings.from.address, to: mail.to)
        }
        await connection.close()
    }

    /// Why connecting fails, or nil when it succeeds.
    func failure(connecting client: SMTPClient) async -> SMTPError? {
        do {
            try await client.connect().close()
            return nil
        } catch {
            return error
        }
    }

    @Test func aMultipartMailArrivesWithItsHeadersEncodingsAndDots() async throws {
        let server = try await SMTPTestServer(mechanisms: "PLAIN")
        let text = "Line one\n.a line that starts with a dot\n..two dots\n.\nÜmlaut = sign"
        let mail = Self.mail(text: text, html: "<p>Hi &amp; <b>bye</b></p>\n.")
        try await send([mail], with: server.settings())
        let received = try await server.waitForMessages(1)
        #expect(received.count == 1)
        let message = try #require(received.first)
        #expect(SMTPTestServer.header("X-Envelope-From", in: message) == "<help@tierdesk.test>")
        #expect(SMTPTestServer.header("X-Envelope-To", in: message) == "<ann@example.com>")
        #expect(SMTPTestServer.header("Message-ID", in: message) == mail.messageID)
        #expect(SMTPTestServer.header("In-Reply-To", in: message) == "<first@tierdesk.test>")
        #expect(SMTPTestServer.header("References", in: message) == "<first@tierdesk.test> <second@tierdesk.test>")
        #expect(SMTPTestServer.header("Reply-To", in: message) == "reply+0a.1b@tierdesk.test")
        #expect(SMTPTestServer.header("Auto-Submitted", in: message) == "auto-generated")
        #expect(SMTPTestServer.header("From", in: message) == "Tierdesk <help@tierdesk.test>")
        #expect(MailDecoding.encodedWords(SMTPTestServer.header("Subject", in: message) ?? "") == mail.subject)
        #expect(SMTPTestServer.header("To", in: message)?.hasSuffix(" <ann@example.com>") == true)
        let boundary = try #require(message.firstMatch(of: /boundary="([^"]+)"/)?.1)
        let parts = message.components(separatedBy: "--" + boundary)
        #expect(parts.count == 4)
        let plain = try #require(parts[1].components(separatedBy: "\r\n\r\n").dropFirst().first)
        #expect(MailDecoding.quotedPrintable(plain) == text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n")
        #expect(parts[2].contains("text/html") && MailDecoding.quotedPrintable(parts[2]).contains("<p>Hi &amp; <b>bye</b></p>"))
    }

    @Test func authLoginWhenTheServerOffersOnlyLogin() async throws {
        let server = try await SMTPTestServer(mechanisms: "LOGIN")
        let mail = Self.mail()
        try await send([mail], with: server.settings())
        #expect(try await server.waitForMessages(1).count == 1)
        #expect(try server.messageIDs() == [mail.messageID])
    }

    @Test func implicitTLS() async throws {
        let server = try await SMTPTestServer(security: .implicitTLS)
        let mail = Self.mail()
        try await send([mail], with: server.settings())
        try await server.waitForMessages(1)
        #expect(try server.messageIDs() == [mail.messageID])
    }

    @Test func manyMailsTravelOverOneConnection() async throws {
        let server = try await SMTPTestServer()
        let mails = (1...50).map { Self.mail($0) }
        try await send(mails, with: server.settings())
        try await server.waitForMessages(50)
        #expect(try server.messageIDs() == mails.map(\.messageID))
    }

    @Test func pipelinedCommandsWhenTheServerOffersPipelining() async throws {
        let server = try await SMTPTestServer(pipelining: true)
        let connection = try await SMTPClient(settings: server.settings()).connect()
        #expect(connection.capabilities.contains("PIPELINING"))
        await connection.close()
        let mails = (1...20).map { Self.mail($0, text: ".dot\nline") }
        try await send(mails, with: server.settings())
        let received = try await server.waitForMessages(20)
        #expect(try server.messageIDs() == mails.map(\.messageID))
        #expect(received.allSatisfy { $0.contains("\r\n=2Edot\r\nline\r\n") })
    }

    @Test func aServerWithoutSTARTTLSIsRefusedBeforeAnyCredentialIsSent() async throws {
        let server = try await SMTPTestServer(security: .plain)
        let error = try #require(await failure(connecting: try SMTPClient(settings: server.settings())), "connected without TLS")
        #expect(error.isPermanent)
        #expect(error.description.contains("STARTTLS"))
        #expect(try server.messages().isEmpty)
    }

    /// `TIERDESK_SMTP_TLS=none`: plain SMTP to a development server, as ./scripts/dev runs it.
    @Test func plainSMTPWhenChosenExplicitly() async throws {
        let server = try await SMTPTestServer(security: .plain, requiresAuth: false)
        var settings = server.settings()
        settings.tls = .none
        settings.credentials = nil
        let mail = Self.mail()
        try await send([mail], with: settings)
        try await server.waitForMessages(1)
        #expect(try server.messageIDs() == [mail.messageID])
    }

    @Test func aWrongPasswordIsPermanent() async throws {
        let server = try await SMTPTestServer()
        var settings = server.settings()
        settings.credentials = .init(user: server.user, password: "wrong")
        let error = try #require(await failure(connecting: try SMTPClient(settings: settings)), "authenticated with a wrong password")
        guard case .rejected(_, let reply) = error else { throw error }
        #expect(reply.code == 535 && error.isPermanent)
    }

    @Test func aCertificateOfAnUnknownCAIsRefused() async throws {
        let server = try await SMTPTestServer()
        var settings = server.settings()
        settings.caFile = nil
        let error = try #require(await failure(connecting: try SMTPClient(settings: settings)), "trusted an unknown CA")
        #expect(error.description.contains("TLS"))
        #expect(try server.messages().isEmpty)
    }

    @Test func aClosedPortIsTemporary() async throws {
        let settings = SMTPSettings(host: "127.0.0.1", port: try Cluster.freePort(), from: MailAddress("help@tierdesk.test")!, timeout: .seconds(2))
        let error = try #require(await failure(connecting: try SMTPClient(settings: settings)), "connected to a closed port")
        #expect(!error.isPermanent)
    }
}
