import Foundation

/// One mailbox, `address` with an optional display name, as a header and an SMTP envelope take it.
/// The address is plain ASCII (`local@domain`, no SMTPUTF8) without spaces, angle brackets or line
/// breaks, so it can never end a header or an SMTP command early.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public var name: String?
    public var address: String

    /// nil when `address` is not a plain address or `name` holds a line break.
    public init?(_ address: String, name: String? = nil) {
        guard Self.isValidAddress(address), !(name ?? "").contains(where: \.isNewline) else { return nil }
        self.address = address
        self.name = name.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Parses `Name <local@domain>`, `"Name" <local@domain>` or a bare `local@domain`.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.lastIndex(of: "<") else {
            self.init(trimmed)
            return
        }
        guard trimmed.hasSuffix(">") else { return nil }
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        self.init(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]), name: name)
    }

    public var description: String { name.map { "\($0) <\(address)>" } ?? address }

    /// A plain address: printable ASCII, one `@` between a non-empty local part (at most 64) and a domain, at most 254 in all.
    public static func isValidAddress(_ address: String) -> Bool {
        guard address.utf8.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64 else { return false }
        let forbidden: Set<UInt8> = [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","), UInt8(ascii: ";")]
        guard local.utf8.allSatisfy({ $0 > 32 && $0 < 127 && !forbidden.contains($0) }) else { return false }
        return isValidDomain(String(domain))
    }

    /// A domain name: labels of letters, digits and hyphens, or an address literal in brackets.
    public static func isValidDomain(_ domain: String) -> Bool {
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            return domain.utf8.count > 2 && domain.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "\\") }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return domain.utf8.count <= 253
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }
            }
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
