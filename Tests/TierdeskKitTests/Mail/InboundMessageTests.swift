import Foundation
import PropertyBased
import Testing
import TierdeskModels

@testable import TierdeskKit

/// The RFC 5322 / MIME reader behind `tierdesk mail-in`: pure logic, no I/O.
@Suite struct InboundMessageTests {
    func read(_ text: String) throws -> InboundMessage { try InboundMessage(Array(text.utf8)) }

    func email(_ text: String, recipient: String? = nil, authservID: String? = nil) throws -> InboundEmail {
        try read(text).inboundEmail(raw: Array(text.utf8), deliveredTo: recipient, authservID: authservID)
    }

    @Test func unfoldsHeadersAndDecodesEncodedWords() throws {
        let mail = try email(
            """
            From: =?utf-8?Q?Dana_M=C3=BCller?= <dana@example.com>
            To: help@example.com
            Subject: =?iso-8859-1?Q?Dr=FCcker?=
             =?utf-8?B?w7xiZXJoaXR6dA==?= now
            Message-ID: <m1@example.com>

            Hello
            """)
        #expect(mail.from == "Dana Müller <dana@example.com>")
        #expect(mail.subject == "Drückerüberhitzt now")
        #expect(mail.messageId == "<m1@example.com>")
        #expect(mail.text == "Hello")
    }

    @Test func readsAddressForms() {
        #expect(
            InboundAddress.list(#""Smith, Dana" <dana@example.com>, bob@example.com (Bob B), team: c@x.org, d@x.org;"#) == [
                InboundAddress(name: "Smith, Dana", address: "dana@example.com"), InboundAddress(name: "Bob B", address: "bob@example.com"),
                InboundAddress(address: "c@x.org"), InboundAddress(address: "d@x.org"),
            ])
        #expect(InboundAddress.list("undisclosed-recipients:;").isEmpty)
        #expect(InboundAddress.list("<@relay.example:dana@example.com>") == [InboundAddress(address: "dana@example.com")])
    }

    @Test func threadIDsAndAutomaticHeaders() throws {
        let mail = try email(
            """
            From: Out Of Office <dana@example.com>
            Subject: Automatic reply: [TD-1001] Printer
            Message-ID: <auto1@example.com>
            In-Reply-To: <td-1@help.example.com>
            References: <td-0@help.example.com>
             <td-1@help.example.com>
            Auto-Submitted: auto-replied
            X-Autoreply: yes
            Precedence: auto_reply
            Return-Path: <>

            I am away.
            """, recipient: "reply+abc.def@help.example.com")
        #expect(mail.inReplyTo == "<td-1@help.example.com>" && mail.references == ["<td-0@help.example.com>", "<td-1@help.example.com>"])
        #expect(mail.deliveredTo == "reply+abc.def@help.example.com")
        #expect(mail.autoSubmitted == "auto-replied" && mail.xAutoreply == "yes" && mail.precedence == "auto_reply" && mail.returnPath == "<>")
        #expect(mail.automatic == "auto-submitted: auto-replied")
    }

    @Test func automaticClassification() {
        func classify(_ change: (inout InboundEmail) -> Void) -> String? {
            var mail = InboundEmail(from: "dana@example.com", subject: "s", text: "t", messageId: "<a@b>")
            change(&mail)
            return mail.automatic
        }
        #expect(classify { _ in } == nil)
        #expect(classify { $0.autoSubmitted = "no" } == nil)
        #expect(classify { $0.autoSubmitted = "No (a comment)" } == nil)
        #expect(classify { $0.autoSubmitted = "auto-generated" } == "auto-submitted: auto-generated")
        #expect(classify { $0.xAutorespond = "1" } == "x-autorespond")
        #expect(classify { $0.precedence = "Bulk" } == "precedence: bulk")
        #expect(classify { $0.precedence = "first-class" } == nil)
        #expect(classify { $0.returnPath = "<dana@example.com>" } == nil)
        #expect(classify { $0.returnPath = "" } == "null sender")
        #expect(classify { $0.from = "MAILER-DAEMON@mx.example.com (Mail Delivery System)" } == "mailer-daemon")
    }

    @Test func automaticMailWhoseSenderIsNoAddressGetsOne() throws {
        let bounce = try email("From: Mail Delivery System <MAILER-DAEMON@localhost>\nSubject: Undelivered\nAuto-Submitted: auto-replied\n\nx")
        #expect(bounce.from == "Mail Delivery System MAILER-DAEMON@localhost <MAILER-DAEMON@mail-in.invalid>")
        #expect(bounce.automatic == "auto-submitted: auto-replied")
        #expect(try email("From: dana@localhost\nSubject: s\n\nx").from == "dana@localhost", "a person's mail is refused by intake as it is")
    }

    @Test func prefersTextPlainAndDecodesTransferEncodingsAndCharsets() throws {
        let mail = try email(
            """
            From: dana@example.com
            Subject: mixed
            Content-Type: multipart/mixed; boundary="outer"

            preamble
            --outer
            Content-Type: multipart/alternative; boundary=inner

            --inner
            Content-Type: text/plain; charset=iso-8859-15
            Content-Transfer-Encoding: quoted-printable

            Caf=E9 costs 5 =A4, a long line that is=
             soft-broken.
            --inner
            Content-Type: text/html; charset=utf-8

            <p>ignored</p>
            --inner--
            --outer
            Content-Type: application/pdf; name="=?utf-8?Q?Rechnung_M=C3=A4rz.pdf?="
            Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf
            Content-Transfer-Encoding: base64

            JVBERi0xLjQK
            --outer
            Content-Type: text/plain; charset=windows-1252
            Content-Transfer-Encoding: base64

            k3F1b3RlZJQgdGV4dA==
            --outer--
            epilogue
            """)
        #expect(mail.text == "Café costs 5 €, a long line that is soft-broken.\n\n“quoted” text")
        #expect(mail.attachments == [MailAttachment(fileName: "Rechnung März.pdf", contentType: "application/pdf", size: 9)])
    }

    @Test func turnsHTMLIntoTextWhenThereIsNoTextPart() throws {
        let mail = try email(
            """
            From: dana@example.com
            Subject: html
            Content-Type: text/html; charset="utf-8"

            <html><head><style>p { color: red }</style><title>x</title></head><body>
            <p>Hello&nbsp;team,</p><p>the <b>VPN</b> drops &amp; reconnects.<br>See <a href="https://status.example.com">status</a>.</p>
            <ul><li>one</li><li>two</li></ul><script>alert(1)</script>
            <blockquote>On Monday you wrote: old text</blockquote>
            </body></html>
            """)
        #expect(mail.text == "Hello team,\nthe VPN drops & reconnects.\nSee status (https://status.example.com).\n- one\n- two")
    }

    @Test func trimsQuotedHistory() {
        #expect(
            MailText.withoutQuotedHistory("Thanks, it works.\n\nOn Mon, 4 May 2026 at 10:00, Help Desk <help@example.com> wrote:\n> Try again\n> please")
                == "Thanks, it works.")
        #expect(MailText.withoutQuotedHistory("Still broken.\n\nOn Mon, 4 May 2026 at 10:00, Help Desk\n<help@example.com> wrote:\n> x") == "Still broken.")
        #expect(
            MailText.withoutQuotedHistory("Fixed now\n\n-----Original Message-----\nFrom: Help\nSent: Monday\nTo: Dana\nSubject: x\n\nold") == "Fixed now")
        #expect(
            MailText.withoutQuotedHistory(
                "Yes.\n\n________________________________\nFrom: Help Desk <help@example.com>\nSent: Monday, May 4, 2026\nTo: Dana\nSubject: RE: x\n\nold")
                == "Yes.")
        // Interleaved answers keep their questions; the trailing quote goes.
        #expect(
            MailText.withoutQuotedHistory("> Which printer?\nThe one on floor 3.\n> Since when?\nMonday.\n> Regards\n> Help")
                == "> Which printer?\nThe one on floor 3.\n> Since when?\nMonday.")
        // Nothing but quotation is kept whole.
        #expect(MailText.withoutQuotedHistory("> only a quote") == "> only a quote")
    }

    @Test func readsABouncesReport() throws {
        let mail = try email(
            """
            From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
            To: help@example.com
            Subject: Undelivered Mail Returned to Sender
            Message-ID: <dsn1@mx.example.com>
            Content-Type: multipart/report; report-type=delivery-status; boundary="b"

            --b
            Content-Type: text/plain

            I'm sorry to have to inform you that your message could not be delivered.
            --b
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.com

            Final-Recipient: rfc822; gone@example.org
            Original-Recipient: rfc822;gone@example.org
            Action: failed
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: User unknown

            Final-Recipient: rfc822; slow@example.org
            Action: delayed
            Status: 4.4.1
            --b
            Content-Type: text/rfc822-headers

            From: help@example.com
            To: gone@example.org
            Message-ID: <td-42@help.example.com>
            Subject: [TD-1001] Filed
            --b--
            """)
        #expect(
            mail.bounce
                == MailBounceReport(
                    failed: [.init(address: "gone@example.org", status: "5.1.1", diagnostic: "smtp; 550 5.1.1 <gone@example.org>: User unknown")],
                    originalMessageId: "<td-42@help.example.com>"))
        #expect(mail.automatic == "bounce")
        #expect(mail.text.hasPrefix("I'm sorry"))
        #expect(mail.attachments == [MailAttachment(fileName: nil, contentType: "text/rfc822-headers", size: 105)])
    }

    @Test func readsAuthenticationResultsOnlyFromOurOwnMTA() throws {
        let message = """
            Authentication-Results: mx.help.example.com; spf=pass smtp.mailfrom=example.com;
             dkim=fail header.d=example.com; dkim=pass (good) header.d=example.com; dmarc=pass (p=reject) header.from=example.com
            Authentication-Results: mx.help.example.com; dmarc=fail
            From: dana@example.com
            Subject: s

            t
            """
        #expect(try email(message, authservID: "mx.help.example.com").authentication == MailAuthentication(spf: "pass", dkim: "pass", dmarc: "pass"))
        #expect(try email(message, authservID: "MX.HELP.EXAMPLE.COM").authentication?.passed == true)
        #expect(try email(message, authservID: "other.example").authentication == nil)
        #expect(try email(message, authservID: nil).authentication == nil)
        // A sender's own header below ours is never read; one above ours would be our MTA's.
        let forged = "Authentication-Results: attacker.example; dmarc=pass\n" + message
        #expect(try email(forged, authservID: "mx.help.example.com").authentication == nil)
    }

    @Test func aMessageWithoutMessageIDGetsOneFromItsBytes() throws {
        let text = "From: dana@example.com\nSubject: s\n\nbody\n"
        let (first, again, other) = (try email(text), try email(text), try email(text + "more"))
        #expect(first.messageId.hasSuffix("@mail-in.tierdesk.invalid>") && first.messageId == again.messageId)
        #expect(other.messageId != first.messageId)
    }

    @Test func toleratesSloppyMail() throws {
        // Bare LF, an unclosed multipart, broken base64 and quoted-printable, an unknown charset, 8-bit headers.
        let bytes: [UInt8] =
            Array("From: dana@example.com\nSubject: caf".utf8) + [0xE9] + Array("\nContent-Type: multipart/mixed; boundary=x\n\n--x\n".utf8)
            + Array("Content-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ=4".utf8) + [0xC3, 0xA9, 0xFF]
        let message = try InboundMessage(bytes)
        let mail = message.inboundEmail(raw: bytes, deliveredTo: nil, authservID: nil)
        #expect(mail.subject == "café")
        #expect(mail.text == "=ZZ=4Ã©ÿ")
        #expect(MIMEParser.base64(Array("aGVs*bG8=garbage".utf8)[...]) == Array("hello".utf8))
        #expect(MailCharset.decode([0xE9], charset: "utf-8") == "\u{FFFD}")
        #expect(MailCharset.decode([0x80, 0x9F], charset: "cp1252") == "€Ÿ")
    }

    @Test func refusesWhatIsNoMessage() {
        #expect(throws: MailParseError.empty) { try InboundMessage(Array(" \r\n".utf8)) }
        #expect(throws: MailParseError.noHeaderFields) { try InboundMessage(Array("just some text without any header".utf8)) }
        #expect(throws: MailParseError.missingFrom) { try InboundMessage(Array("Subject: no sender\n\nbody".utf8)) }
        #expect(throws: MailParseError.tooLarge(limit: 64)) {
            try InboundMessage(Array(("From: a@b.c\n\n" + String(repeating: "x", count: 100)).utf8), parser: MIMEParser(maxBytes: 64))
        }
        var nested = "From: a@b.c\nContent-Type: multipart/mixed; boundary=b0\n\n"
        for level in 0..<40 { nested += "--b\(level)\nContent-Type: multipart/mixed; boundary=b\(level + 1)\n\n" }
        #expect(throws: MailParseError.tooDeep(limit: 16)) { try InboundMessage(Array(nested.utf8)) }
        let many = "From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n" + String(repeating: "--b\n\nx\n", count: 600)
        #expect(throws: MailParseError.tooManyParts(limit: 500)) { try InboundMessage(Array(many.utf8)) }
    }

    /// Whatever the bytes, reading either succeeds with a request intake accepts, or names what is wrong.
    @Test func garbageNeverTraps() async {
        let fragments = [
            "From: a@example.com\n", "Subject: =?utf-8?B?", "?=", "=?x?Q?=FF_?=", "Content-Type: multipart/mixed; boundary=b\n",
            "Content-Type: message/rfc822\n", "Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: quoted-printable\n", "--b\n",
            "--b--\n", "\n", "\r\n", " folded\n", "=", "=4", "=\n", "<p>", "</blockquote>", "&#x", "&amp", "> quote\n", "On x wrote:\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n", "Content-Type: message/delivery-status\n",
            "Final-Recipient: rfc822; x@y.z\nAction: failed\n", "\u{0}", "é", "\t", "filename*0*=utf-8''%E2%82", "filename*1=%AC",
        ]
        let structured = Gen.element(of: fragments).array(of: 0...80).map { Array($0.compactMap { $0 }.joined().utf8) }
        let noise = Gen.int(in: 0...255).array(of: 0...600).map { $0.map { UInt8($0) } }
        await propertyCheck(count: 400, input: structured, noise) { text, bytes in
            for input in [text, bytes, text + bytes] {
                do {
                    let message = try InboundMessage(input, parser: MIMEParser(maxBytes: 1 << 20, maxDepth: 8, maxParts: 100))
                    let mail = message.inboundEmail(raw: input, deliveredTo: nil, authservID: "mx")
                    #expect(!mail.messageId.isEmpty && mail.text.count <= InboundMessage.maxTextLength + 40)
                    #expect(!mail.text.unicodeScalars.contains("\u{0}") && !mail.subject.unicodeScalars.contains("\u{0}"))
                } catch {
                    #expect(!"\(error)".isEmpty)
                }
            }
        }
    }
}
