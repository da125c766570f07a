import Foundation

/// A mailbox as an incoming message's address header has it (RFC 5322 §3.4; the outgoing, checked
/// kind is `MailAddress`): `"Dana Smith" <dana@example.com>`,
/// `Dana <dana@example.com>`, `dana@example.com (Dana)`, members of a group `team: a@x, b@x;`.
/// Display names have their encoded words decoded.
public struct InboundAddress: Sendable, Equatable {
    public var name: String?
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// `Name <address>` (the name without quotes or angle brackets), or the bare address.
    public var formatted: String {
        guard let name, !name.isEmpty else { return address }
        let clean = name.filter { $0 != "<" && $0 != ">" && $0 != "\"" && $0 != "," }.trimmingCharacters(in: .whitespaces)
        return clean.isEmpty ? address : "\(clean) <\(address)>"
    }

    /// The mailboxes of an address list; entries without an `@` (a group's name, garbage) are left out.
    public static func list(_ header: String) -> [InboundAddress] {
        entries(header).compactMap(mailbox)
    }

    /// The list's entries, split at commas (and a group's `:` and `;`) outside quotes, angle brackets and comments.
    static func entries(_ header: String) -> [String] {
        var entries: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        var depth = 0
        var angle = false
        for character in header {
            if escaped {
                escaped = false
                current.append(character)
                continue
            }
            switch character {
            case "\\" where quoted || depth > 0:
                escaped = true
                current.append(character)
            case "\"" where depth == 0:
                quoted.toggle()
                current.append(character)
            case "(" where !quoted:
                depth += 1
                current.append(character)
            case ")" where !quoted && depth > 0:
                depth -= 1
                current.append(character)
            case "<" where !quoted && depth == 0:
                angle = true
                current.append(character)
            case ">" where !quoted && depth == 0:
                angle = false
                current.append(character)
            case ",", ";", ":":
                if quoted || depth > 0 || angle {
                    current.append(character)
                } else if character == ":" {
                    current = ""  // a group's display name
                } else {
                    entries.append(current)
                    current = ""
                }
            default:
                current.append(character)
            }
        }
        entries.append(current)
        return entries.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// One mailbox: `name <addr>` or `addr (comment)`.
    static func mailbox(_ entry: String) -> InboundAddress? {
        let text = entry.trimmingCharacters(in: .whitespacesAndNewlines)
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            let address = Self.clean(String(text[text.index(after: open)..<close]))
            guard address.contains("@") else { return nil }
            let rawName = String(text[..<open]).trimmingCharacters(in: .whitespaces)
            return InboundAddress(name: Self.displayName(rawName), address: address)
        }
        // addr-spec, perhaps with a comment that holds the name.
        var comment: String?
        if let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close {
            comment = String(text[text.index(after: open)..<close])
        }
        let address = Self.clean(HeaderValue.withoutComments(text))
        guard address.contains("@"), !address.contains(" ") else { return nil }
        return InboundAddress(name: comment.flatMap(displayName), address: address)
    }

    /// An address without white space, a source route or surrounding quotes.
    static func clean(_ text: String) -> String {
        var address = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let colon = address.lastIndex(of: ":"), address.hasPrefix("@") { address = String(address[address.index(after: colon)...]) }
        return address
    }

    /// A display name unquoted and decoded; nil when empty.
    static func displayName(_ raw: String) -> String? {
        var name = raw.trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("\"") { name = HeaderValue.unquote(name) }
        name = EncodedWords.decode(name).trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }
}
