import Crypto
import Foundation

/// A ticket's own reply address, `reply+<ticket id>.<MAC>@<reply domain>`: a reply sent to it
/// threads onto the ticket without trusting `From`, which anybody can write. Hex only, so an MTA
/// that lowercases local parts keeps it intact, and at most 64 characters (RFC 5321). The MAC is
/// 80 bits of HMAC-SHA256 of the ticket id under the `mailReply` key derived from the server secret.
public struct ReplyAddress: Sendable {
    static let prefix = "reply+"
    let key: Data

    public init(key: SymmetricKey) { self.key = key.withUnsafeBytes { Data($0) } }

    /// The key derived from the server secret.
    public init(secret: String) { self.init(key: Secrets.key(for: KeyPurpose.mailReply.name, secret: secret)) }

    /// The reply address of a ticket at `domain`.
    public func make(ticketID: UUID, domain: String) -> String {
        Self.prefix + Self.hex(Secrets.uuidBytes(ticketID)) + "." + Self.hex(mac(ticketID)) + "@" + domain
    }

    /// The ticket of the first valid reply address among `addresses` (each `Name <address>`, a bare
    /// address, or comma-separated lists of them), or nil: a forged or altered one is no address.
    public func ticket(in addresses: [String]) -> UUID? {
        for list in addresses {
            for entry in list.split(separator: ",") {
                guard let local = Self.localPart(String(entry)), local.hasPrefix(Self.prefix) else { continue }
                let parts = local.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 2, let id = Self.bytes(hex: parts[0]).flatMap(Self.uuid), let given = Self.bytes(hex: parts[1]) else { continue }
                if Secrets.equal(Secrets.base64URL(given), Secrets.base64URL(mac(id))) { return id }
            }
        }
        return nil
    }

    func mac(_ ticketID: UUID) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Secrets.uuidBytes(ticketID), using: SymmetricKey(data: key)).prefix(10))
    }

    /// The lowercased local part of `Name <local@domain>` or `local@domain`.
    static func localPart(_ entry: String) -> String? {
        var address = entry.trimmingCharacters(in: .whitespaces)
        if let open = address.lastIndex(of: "<"), let close = address.lastIndex(of: ">"), open < close {
            address = String(address[address.index(after: open)..<close])
        }
        guard let at = address.lastIndex(of: "@") else { return nil }
        return address[..<at].lowercased()
    }

    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }

    static func bytes(hex: Substring) -> Data? {
        guard hex.count % 2 == 0, !hex.isEmpty else { return nil }
        var data = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }

    static func uuid(_ data: Data) -> UUID? {
        guard data.count == 16 else { return nil }
        let b = [UInt8](data)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
