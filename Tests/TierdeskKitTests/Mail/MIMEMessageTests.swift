import Foundation
import NIOCore
import Testing
import TierdeskTestSupport

@testable import TierdeskKit

/// The message writer's encoders, and its refusal of header injection: no I/O.
@Suite struct MIMEMessageTests {
    static let from = MailAddress(parsing: "Tierdesk <help@tierdesk.test>")!
    static let date = Date(timeIntervalSince1970: 1_796_000_000)

    static func mail(
        subject: String = "[TD-7] Printer on fire", text: String = "Hello", html: String? = nil, to: String = "ann@example.com", replyTo: String? = nil,
        headers: [OutgoingMail.Header] = []
    ) -> OutgoingMail {
        OutgoingMail(
            to: to, toName: "Ann Example", subject: subject, text: text, html: html, messageID: "<m1@tierdesk.test>", inReplyTo: "<m0@tierdesk.test>",
            references: ["<m0@tierdesk.test>"], replyTo: replyTo, headers: headers)
    }

    @Test func quotedPrintableEncodesWhatIsNotPlainASCII() {
        #expect(MIMEMessage.quotedPrintable("Grüße = 100%") == "Gr=C3=BC=C3=9Fe =3D 100%")
        #expect(MIMEMessage.quotedPrintable("trailing space \nand tab\t") == "trailing space=20\r\nand tab=09")
        #expect(MIMEMessage.quotedPrintable("a\r\nb\rc") == "a\r\nb\r\nc")
        #expect(MIMEMessage.quotedPrintable(".starts with a dot") == "=2Estarts with a dot")
    }

    @Test(arguments: [
        String(repeating: "x", count: 300), String(repeating: "é", count: 120), String(repeating: "ab ", count: 90) + " ",
        "line one\nline two with ünïcödé and = signs " + String(repeating: "=", count: 80), "",
    ])
    func quotedPrintableKeepsLinesShortAndRoundTrips(_ text: String) {
        let encoded = MIMEMessage.quotedPrintable(text)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76, "\(line)")
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
        }
        #expect(MailDecoding.quotedPrintable(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func encodedWordsSplitBetweenCharactersAndDecodeBack() {
        let subject = "Ticket ✅ für Jürgen — " + String(repeating: "日本語", count: 20)
        let encoded = MIMEMessage.encodedWords(subject)
        for word in encoded.split(separator: " ") {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?=") && word.utf8.count <= 75)
        }
        #expect(MailDecoding.encodedWords(encoded) == subject)
    }

    @Test func aPlainMailHasItsHeadersAndOneTextPart() throws {
        let message = try MIMEMessage.render(
            Self.mail(replyTo: "reply+ab.cd@tierdesk.test", headers: [.init("Auto-Submitted", "auto-generated")]), from: Self.from, date: Self.date)
        #expect(message.hasSuffix("\r\n"))
        #expect(!message.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF everywhere")
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.contains("Date: Mon, 30 Nov 2026 00:53:20 +0000"))
        #expect(head.contains("From: Tierdesk <help@tierdesk.test>"))
        #expect(head.contains("To: Ann Example <ann@example.com>"))
        #expect(head.contains("Subject: [TD-7] Printer on fire"))
        #expect(head.contains("Message-ID: <m1@tierdesk.test>"))
        #expect(head.contains("In-Reply-To: <m0@tierdesk.test>"))
        #expect(head.contains("References: <m0@tierdesk.test>"))
        #expect(head.contains("Reply-To: reply+ab.cd@tierdesk.test"))
        #expect(head.contains("Auto-Submitted: auto-generated"))
        #expect(head.contains("MIME-Version: 1.0"))
        #expect(head.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(head.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(message.hasSuffix("\r\n\r\nHello\r\n"))
    }

    @Test func anHTMLMailIsMultipartAlternativeTextFirst() throws {
        let message = try MIMEMessage.render(Self.mail(html: "<p>Hello</p>"), from: Self.from, date: Self.date, boundary: "=_b")
        #expect(message.contains("Content-Type: multipart/alternative;\r\n boundary=\"=_b\""))
        let parts = message.components(separatedBy: "--=_b")
        #expect(parts.count == 4 && parts[3] == "--\r\n")
        #expect(parts[1].contains("Content-Type: text/plain; charset=utf-8") && parts[1].contains("\r\n\r\nHello\r\n"))
        #expect(parts[2].contains("Content-Type: text/html; charset=utf-8") && parts[2].contains("\r\n\r\n<p>Hello</p>\r\n"))
    }

    @Test func headerLinesStayWithin78Characters() throws {
        let long = (0..<30).map { "<id\($0)-\(UUID().uuidString)@tierdesk.test>" }
        var mail = Self.mail(subject: "A rather long subject line that goes on " + String(repeating: "and on ", count: 20) + "ünd ön")
        mail.references = long
        let message = try MIMEMessage.render(mail, from: Self.from, date: Self.date)
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        for line in head.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
        #expect(SMTPTestServer.header("References", in: message) == long.joined(separator: " "))
        #expect(MailDecoding.encodedWords(SMTPTestServer.header("Subject", in: message) ?? "") == mail.subject)
    }

    @Test func nonASCIINamesAreEncodedAndQuotesEscaped() throws {
        #expect(try MIMEMessage.mailbox(MailAddress("a@b.test", name: "Zoë")!) == "=?UTF-8?B?Wm/Dqw==?= <a@b.test>")
        #expect(try MIMEMessage.mailbox(MailAddress("a@b.test", name: "Doe, \"J\"")!) == "\"Doe, \\\"J\\\"\" <a@b.test>")
        #expect(try MIMEMessage.mailbox(MailAddress("a@b.test", name: "Ann")!) == "Ann <a@b.test>")
    }

    @Test(arguments: [
        mail(subject: "hi\r\nBcc: victim@example.com"), mail(subject: "hi\nX: y"), mail(to: "ann@example.com\r\nBcc: x@y.z"),
        mail(replyTo: "r@tierdesk.test\r\nBcc: x@y.z"), mail(headers: [.init("X-Ok", "v\r\nBcc: x@y.z")]), mail(headers: [.init("X\r\nBcc", "v")]),
        mail(headers: [.init("Bcc", "x@y.z")]), mail(to: "not an address"),
    ])
    func headerInjectionIsRefused(_ mail: OutgoingMail) {
        #expect(throws: MailFormatError.self) { try MIMEMessage.render(mail, from: Self.from, date: Self.date) }
    }

    @Test func aMessageIDMustBeOne() {
        var mail = Self.mail()
        mail.messageID = "<no at sign>"
        #expect(throws: MailFormatError.self) { try MIMEMessage.render(mail, from: Self.from, date: Self.date) }
        mail.messageID = "plain@tierdesk.test"
        #expect(throws: MailFormatError.self) { try MIMEMessage.render(mail, from: Self.from, date: Self.date) }
    }

    @Test func addressesParseAndRefuseWhatCouldBreakAHeader() {
        #expect(MailAddress(parsing: "Help desk <help@example.com>") == MailAddress("help@example.com", name: "Help desk"))
        #expect(MailAddress(parsing: "\"Help, desk\" <help@example.com>")?.name == "Help, desk")
        #expect(MailAddress(parsing: "help@example.com")?.name == nil)
        for bad in ["", "help", "@example.com", "help@", "he lp@example.com", "help@exa mple.com", "a<b@example.com", "help@-x.com", "hëlp@example.com"] {
            #expect(MailAddress(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func dataIsDotStuffedAndEnded() {
        let stuffed = SMTPConnection.dotStuffed(".one\r\ntwo\r\n..three\r\n.")
        #expect(String(buffer: stuffed) == "..one\r\ntwo\r\n...three\r\n..\r\n.\r\n")
        #expect(String(buffer: SMTPConnection.dotStuffed("end\r\n")) == "end\r\n.\r\n")
    }

    @Test func repliesAndCapabilitiesAreRead() {
        let hello = SMTPReply(code: 250, lines: ["smtp.test", "SIZE 1000", "starttls", "AUTH=LOGIN", "AUTH PLAIN LOGIN"])
        #expect(SMTPConnection.capabilities(of: hello) == ["SIZE", "STARTTLS", "AUTH"])
        #expect(SMTPConnection.authMechanisms(of: hello) == ["PLAIN", "LOGIN"])
        #expect(SMTPError.rejected(command: "RCPT", reply: SMTPReply(code: 451, lines: [])).isPermanent == false)
        #expect(SMTPError.rejected(command: "RCPT", reply: SMTPReply(code: 550, lines: [])).isPermanent)
        #expect(SMTPError.timeout(waitingFor: "DATA").isPermanent == false)
    }
}

/// Decoders for the tests' checks: the inverse of what the writer encodes.
enum MailDecoding {
    static func quotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "="), index + 2 < input.count,
                let byte = UInt8(String(decoding: input[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func encodedWords(_ text: String) -> String {
        guard text.hasPrefix("=?") else { return text }
        return text.split(separator: " ").map { word -> String in
            let base64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(base64)) ?? Data(), as: UTF8.self)
        }.joined()
    }
}
