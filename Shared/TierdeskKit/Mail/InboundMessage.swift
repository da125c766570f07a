import Crypto
import Foundation
import TierdeskModels

/// An RFC 5322 message read for intake's mail gateway (`tierdesk mail-in`): the sender, the
/// thread's ids, the text an agent reads (text/plain preferred, else the HTML as text, the quoted
/// history trimmed), the attachments as a list, the headers that mark automatic mail, a bounce's
/// report, and the sender's authentication as our own MTA recorded it.
public struct InboundMessage: Sendable {
    /// Longest text passed on; the rest is cut (and said so), so the gateway's request stays under
    /// intake's 1 MiB body limit whatever the message (2026-05, issue 25).
    public static let maxTextLength = 200_000
    public static let maxSubjectLength = 2_000

    public let root: MIMEPart

    public init(_ bytes: [UInt8], parser: MIMEParser = MIMEParser()) throws(MailParseError) {
        root = try parser.parse(bytes)
        guard from != nil else { throw .missingFrom }
    }

    public var headers: MailHeaders { root.headers }

    /// The author (`From`, else `Sender`), its display name decoded.
    public var from: InboundAddress? {
        (headers.first("from").map(InboundAddress.list) ?? []).first ?? headers.first("sender").flatMap { InboundAddress.list($0).first }
    }

    /// The first `<id>` of a Message-ID, In-Reply-To or References header.
    static func messageIDs(_ value: String?) -> [String] {
        guard let value else { return [] }
        let ids = value.matches(of: /<[^<>\s]{1,996}>/).map { String($0.0) }
        if ids.isEmpty, let bare = value.split(whereSeparator: \.isWhitespace).first, bare.contains("@"), bare.count <= 996 { return ["<\(bare)>"] }
        return ids
    }

    /// The Message-ID; a message without one gets one made from its bytes' digest, so a second
    /// delivery of the same message is still recognised.
    public func messageID(raw: [UInt8]) -> String {
        if let id = Self.messageIDs(headers.first("message-id")).first { return id }
        let digest = SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined()
        return "<\(digest.prefix(40))@mail-in.tierdesk.invalid>"
    }

    /// The body's text: the first text/plain of each alternative (inline, not attached), joined in
    /// order; else the HTML as text; with the quoted history trimmed.
    public var text: String {
        let (plain, html) = Self.texts(root)
        let body = plain.isEmpty ? html.map(MailText.fromHTML).joined(separator: "\n\n") : plain.joined(separator: "\n\n")
        return MailText.withoutQuotedHistory(Self.clean(body.replacingOccurrences(of: "\r\n", with: "\n"), multiline: true))
    }

    /// `text` without the control characters intake refuses: each becomes a space (line breaks
    /// and tabs stay in multiline text; NUL and a lone CR go).
    static func clean(_ text: String, multiline: Bool) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\u{0}" || (multiline && scalar == "\r") { continue }
            if multiline && (scalar == "\n" || scalar == "\t") {
                scalars.append(scalar)
            } else {
                scalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
            }
        }
        return String(scalars)
    }

    /// The inline text/plain and text/html bodies of `part`, each alternative counted once.
    static func texts(_ part: MIMEPart) -> (plain: [String], html: [String]) {
        switch part.body {
        case .message:
            return ([], [])
        case .multipart(let parts):
            let type = part.headers.contentType.value
            if type == "multipart/alternative" {
                // The richest last (RFC 2046 §5.1.4); text/plain is preferred, so take the first that has any.
                let each = parts.map(texts)
                if let plain = each.first(where: { !$0.plain.isEmpty }) { return (plain.plain, []) }
                return ([], each.first(where: { !$0.html.isEmpty })?.html ?? [])
            }
            // A report's machine-readable parts and a signature are no text for agents.
            let readable = parts.filter { !["message/delivery-status", "application/pgp-signature"].contains($0.headers.contentType.value) }
            let each = readable.map(texts)
            return (each.flatMap(\.plain), each.flatMap(\.html))
        case .leaf(let bytes):
            guard !isAttachment(part) else { return ([], []) }
            let type = part.headers.contentType
            let text = MailCharset.decode(bytes, charset: type.parameters["charset"])
            switch type.value {
            case "text/plain": return ([text], [])
            case "text/html": return ([], [text])
            default: return ([], [])
            }
        }
    }

    /// A part is an attachment when it says so, carries a file name, or is neither text nor a container.
    static func isAttachment(_ part: MIMEPart) -> Bool {
        if part.headers.disposition?.value == "attachment" { return true }
        if fileName(part) != nil { return true }
        let type = part.headers.contentType.value
        return !(type.hasPrefix("text/plain") || type.hasPrefix("text/html") || type.hasPrefix("multipart/") || type == "message/delivery-status")
    }

    /// A part's file name (`Content-Disposition`'s `filename`, else `Content-Type`'s `name`), decoded and cut to 255.
    static func fileName(_ part: MIMEPart) -> String? {
        let name = part.headers.disposition?.parameters["filename"] ?? part.headers.contentType.parameters["name"]
        return name.map(EncodedWords.decode).map { String($0.prefix(255)) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The files carried: every leaf that is an attachment, and every enclosed message (by its subject).
    public var attachments: [MailAttachment] {
        var files: [MailAttachment] = []
        func visit(_ part: MIMEPart) {
            switch part.body {
            case .multipart(let parts):
                parts.forEach(visit)
            case .message(let inner):
                let name = Self.fileName(part) ?? inner.headers.decoded("subject").map { String($0.prefix(200)) + ".eml" }
                files.append(MailAttachment(fileName: name, contentType: part.headers.contentType.value, size: part.encodedSize))
            case .leaf(let bytes):
                if Self.isAttachment(part) {
                    files.append(
                        MailAttachment(fileName: Self.fileName(part), contentType: String(part.headers.contentType.value.prefix(255)), size: bytes.count))
                }
            }
        }
        visit(root)
        return files
    }

    /// A delivery status notification's failed recipients (RFC 3464): `Action: failed` in the
    /// `message/delivery-status` part of a `multipart/report`, with the bounced mail's Message-ID
    /// from the enclosed message or headers.
    public var bounce: MailBounceReport? {
        guard headers.contentType.value == "multipart/report", case .multipart(let parts) = root.body,
            let report = parts.first(where: { ["message/delivery-status", "message/global-delivery-status"].contains($0.headers.contentType.value) }),
            case .leaf(let bytes) = report.body
        else { return nil }
        var failed: [MailBounceReport.Recipient] = []
        // Per-message fields, then one group of fields per recipient, separated by blank lines.
        let text = MailCharset.decode(bytes, charset: "utf-8").replacingOccurrences(of: "\r\n", with: "\n")
        for group in text.components(separatedBy: "\n\n") {
            let fields = MailHeaders.parse(Array(group.utf8)[...])
            guard fields.first("action")?.lowercased().hasPrefix("failed") == true,
                let recipient = fields.first("final-recipient") ?? fields.first("original-recipient")
            else { continue }
            // `rfc822; user@example.com`
            let address = (recipient.split(separator: ";", maxSplits: 1).last.map(String.init) ?? recipient)
                .trimmingCharacters(in: CharacterSet(charactersIn: " <>"))
            guard address.contains("@") else { continue }
            failed.append(
                MailBounceReport.Recipient(
                    address: String(address.prefix(254)), status: fields.first("status").map { String($0.prefix(100)) },
                    diagnostic: fields.first("diagnostic-code").map { String($0.prefix(998)) }))
        }
        var original: String?
        for part in parts {
            switch part.body {
            case .message(let inner): original = Self.messageIDs(inner.headers.first("message-id")).first
            case .leaf(let bytes) where part.headers.contentType.value == "text/rfc822-headers":
                original = Self.messageIDs(MailHeaders.parse(bytes[...]).first("message-id")).first
            default: break
            }
            if original != nil { break }
        }
        guard !failed.isEmpty else { return nil }
        return MailBounceReport(failed: Array(failed.prefix(InboundEmail.maxBouncedRecipients)), originalMessageId: original)
    }

    /// SPF, DKIM and DMARC from the first `Authentication-Results` header (RFC 8601), only when its
    /// authserv-id is `authservID`, our own MTA's: one a sender wrote into the message is below
    /// the one our MTA prepends, and one with another id proves nothing. nil without a match.
    public func authentication(authservID: String?) -> MailAuthentication? {
        guard let authservID, !authservID.isEmpty, let header = headers.first("authentication-results") else { return nil }
        let statements = HeaderValue.split(HeaderValue.withoutComments(header)).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let id = statements.first?.split(whereSeparator: \.isWhitespace).first, id.lowercased() == authservID.lowercased() else { return nil }
        var results = MailAuthentication()
        for statement in statements.dropFirst() {
            guard let method = statement.split(whereSeparator: \.isWhitespace).first else { continue }
            let pair = method.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let (name, result) = (pair[0].lowercased(), String(pair[1].lowercased().prefix(100)))
            // The first result of each method counts (a message may carry several DKIM signatures: any pass is a pass).
            switch name {
            case "spf" where results.spf == nil: results.spf = result
            case "dkim" where results.dkim == nil || result == "pass": results.dkim = result
            case "dmarc" where results.dmarc == nil: results.dmarc = result
            default: break
            }
        }
        return results == MailAuthentication() ? nil : results
    }

    /// The request for intake's gateway: `deliveredTo` is the envelope recipient the MTA gives,
    /// `authservID` our MTA's Authentication-Results id (nil: authentication is never read).
    public func inboundEmail(raw: [UInt8], deliveredTo: String?, returnPath: String? = nil, authservID: String?) -> InboundEmail {
        let sender = from ?? InboundAddress(address: "unknown@invalid.invalid")
        var text = text
        if text.count > Self.maxTextLength { text = String(text.prefix(Self.maxTextLength)) + "\n\n[the rest of this message was cut]" }
        let references = headers.all("references").flatMap { Self.messageIDs($0) }
        let files = attachments
        let headerPath = headers.first("return-path")
        var email = InboundEmail(
            from: Self.clean(sender.formatted, multiline: false),
            to: headers.first("to").map { Self.clean(String(EncodedWords.decode($0).prefix(998)), multiline: false) },
            deliveredTo: deliveredTo.flatMap { $0.isEmpty ? nil : $0 },
            subject: Self.clean(String((headers.decoded("subject") ?? "").prefix(Self.maxSubjectLength)), multiline: false),
            text: text, messageId: messageID(raw: raw), inReplyTo: Self.messageIDs(headers.first("in-reply-to")).first,
            references: references.isEmpty ? nil : Array(references.suffix(100)), authentication: authentication(authservID: authservID),
            returnPath: returnPath ?? headerPath, autoSubmitted: headers.first("auto-submitted"), precedence: headers.first("precedence"),
            xAutoreply: headers.first("x-autoreply"), xAutorespond: headers.first("x-autorespond"), bounce: bounce,
            attachments: files.isEmpty ? nil : Array(files.prefix(InboundEmail.maxAttachments)))
        // Automatic mail opens no ticket, but intake still wants an address: a bounce from
        // `MAILER-DAEMON@localhost` keeps what it said as the name of one that is clearly nobody's.
        if email.automatic != nil, !Validation.isEmail(email.sender.email) {
            let said = email.from.filter { !"<>\",".contains($0) }.trimmingCharacters(in: .whitespaces)
            email.from = "\(String(said.prefix(150))) <\(Self.unknownAutomaticSender)>"
        }
        return email
    }

    /// The sender given to automatic mail whose own is no address intake accepts.
    public static let unknownAutomaticSender = "MAILER-DAEMON@mail-in.invalid"
}
