import Foundation

/// Why a mail cannot be written as a message: it is refused, never sent half-right.
public struct MailFormatError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var problem: String
    public var description: String { "\(field) \(problem)" }
}

/// Writes an `OutgoingMail` as an RFC 5322 message: CRLF line ends, every header line at most 78
/// characters where it can be folded (998 at most), non-ASCII header text as RFC 2047 encoded-words,
/// bodies in UTF-8 quoted-printable, multipart/alternative when there is an HTML part. A line break
/// in any header value or address (header injection) refuses the whole mail.
public enum MIMEMessage {
    /// The message of `mail` from `from`, dated `date`; `boundary` is fixed only by tests.
    public static func render(_ mail: OutgoingMail, from: MailAddress, date: Date, boundary: String? = nil) throws(MailFormatError) -> String {
        guard let to = MailAddress(mail.to, name: mail.toName) else { throw MailFormatError(field: "to", problem: "is not a plain address") }
        var lines: [String] = []
        lines.append("Date: " + rfc5322Date(date))
        lines.append(try header("From", mailbox(from)))
        lines.append(try header("To", mailbox(to)))
        lines.append(try header("Subject", unstructured(mail.subject, field: "Subject")))
        lines.append(try header("Message-ID", messageIDs([mail.messageID], field: "Message-ID")))
        if let inReplyTo = mail.inReplyTo { lines.append(try header("In-Reply-To", messageIDs([inReplyTo], field: "In-Reply-To"))) }
        if !mail.references.isEmpty { lines.append(try header("References", messageIDs(mail.references, field: "References"))) }
        if let replyTo = mail.replyTo {
            guard let address = MailAddress(parsing: replyTo) else { throw MailFormatError(field: "Reply-To", problem: "is not an address") }
            lines.append(try header("Reply-To", mailbox(address)))
        }
        let fixed: Set<String> = [
            "date", "from", "to", "subject", "message-id", "in-reply-to", "references", "reply-to", "mime-version", "content-type",
            "content-transfer-encoding", "cc", "bcc", "sender",
        ]
        for extra in mail.headers {
            guard !extra.name.isEmpty, extra.name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw MailFormatError(field: "header", problem: "name '\(extra.name.prefix(40))' is not a header name")
            }
            guard !fixed.contains(extra.name.lowercased()) else { throw MailFormatError(field: extra.name, problem: "is written by the sender itself") }
            lines.append(try header(extra.name, unstructured(extra.value, field: extra.name)))
        }
        lines.append("MIME-Version: 1.0")
        let text = quotedPrintable(mail.text)
        if let html = mail.html {
            let boundary = boundary ?? "=_td_" + UUID().uuidString.lowercased()
            lines.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a message in MIME format.")
            for (type, body) in [("text/plain", text), ("text/html", quotedPrintable(html))] {
                lines.append("--" + boundary)
                lines.append("Content-Type: \(type); charset=utf-8")
                lines.append("Content-Transfer-Encoding: quoted-printable")
                lines.append("")
                lines.append(body)
            }
            lines.append("--" + boundary + "--")
        } else {
            lines.append("Content-Type: text/plain; charset=utf-8")
            lines.append("Content-Transfer-Encoding: quoted-printable")
            lines.append("")
            lines.append(text)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: headers

    /// `Name: value`, the value folded at its spaces so lines stay within 78 characters where they can (998 at most).
    static func header(_ name: String, _ value: String) throws(MailFormatError) -> String {
        guard !value.hasLineBreak else { throw MailFormatError(field: name, problem: "holds a line break") }
        var lines: [String] = []
        var line = name + ":"
        for word in value.split(separator: " ", omittingEmptySubsequences: true) {
            if line.utf8.count + 1 + word.utf8.count > 78 && line.contains(where: { $0 != " " }) && line != name + ":" {
                lines.append(line)
                line = ""
            }
            line += " " + word
        }
        lines.append(line)
        guard lines.allSatisfy({ $0.utf8.count <= 998 }) else { throw MailFormatError(field: name, problem: "has a word too long for a header line") }
        return lines.joined(separator: "\r\n")
    }

    /// A mailbox: its display name (quoted, or encoded when not ASCII) and `<address>`.
    static func mailbox(_ mailbox: MailAddress) throws(MailFormatError) -> String {
        guard let name = mailbox.name else { return mailbox.address }
        guard !name.hasLineBreak else { throw MailFormatError(field: "address", problem: "name holds a line break") }
        let atext = name.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: " ") || Array("!#$%&'*+-/=?^_`{|}~".utf8).contains($0) }
        if atext { return "\(name) <\(mailbox.address)>" }
        if name.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) {
            return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\" <\(mailbox.address)>"
        }
        return encodedWords(name) + " <\(mailbox.address)>"
    }

    /// Free text: printable ASCII as it is (with tabs as spaces), anything else as encoded-words;
    /// a word too long to fold is encoded too, since encoded-words split anywhere.
    static func unstructured(_ value: String, field: String) throws(MailFormatError) -> String {
        guard !value.hasLineBreak else { throw MailFormatError(field: field, problem: "holds a line break") }
        let plain = value.replacingOccurrences(of: "\t", with: " ")
        let printable = plain.utf8.allSatisfy { $0 >= 32 && $0 < 127 }
        let foldable = plain.split(separator: " ").allSatisfy { $0.utf8.count <= 76 - field.utf8.count }
        // "=?" in plain text would be read as the start of an encoded-word.
        if printable && foldable && !plain.contains("=?") { return plain }
        return encodedWords(plain)
    }

    /// `<id@domain>` each, space-separated; an id with spaces, brackets inside or no `@` is refused.
    static func messageIDs(_ ids: [String], field: String) throws(MailFormatError) -> String {
        for id in ids {
            let inner = id.dropFirst().dropLast()
            guard id.hasPrefix("<"), id.hasSuffix(">"), inner.contains("@"), id.utf8.count <= 250,
                inner.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
            else { throw MailFormatError(field: field, problem: "'\(id.prefix(80))' is not a message id <unique@domain>") }
        }
        return ids.joined(separator: " ")
    }

    /// RFC 2047 `=?UTF-8?B?…?=` words of at most 64 characters each (a line with its header name stays within 78), split between characters, never inside one.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39 && !chunk.isEmpty {  // 39 bytes are 52 base64 characters: 64 with the markers
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: " ")
    }

    /// `Fri, 04 Dec 2026 23:22:56 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    // MARK: bodies

    /// UTF-8 quoted-printable (RFC 2045) with CRLF line ends: lines of at most 76 characters (soft
    /// breaks `=`), `=` and bytes outside printable ASCII as `=XX`, a space or tab at a line's end encoded.
    /// A line's leading `.` is encoded too, so no line reads as SMTP's end of data to a careless relay.
    public static func quotedPrintable(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var output: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current = ""
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                let token: String
                switch byte {
                case UInt8(ascii: "="): token = "=3D"
                case UInt8(ascii: " "), UInt8(ascii: "\t"): token = last ? String(format: "=%02X", byte) : String(UnicodeScalar(byte))
                case UInt8(ascii: ".") where index == 0: token = "=2E"
                case 33...126: token = String(UnicodeScalar(byte))
                default: token = String(format: "=%02X", byte)
                }
                // Keep room for the soft break's "=" (76 in all), unless this token ends the line.
                if current.utf8.count + token.utf8.count > (last ? 76 : 75) {
                    output.append(current + "=")
                    current = ""
                }
                current += token
            }
            output.append(current)
        }
        return output.joined(separator: "\r\n")
    }
}

extension String {
    /// A CR or LF anywhere (as a scalar: "\r\n" is one Character, so a Character test would miss it).
    var hasLineBreak: Bool { unicodeScalars.contains { $0 == "\r" || $0 == "\n" } }
}
