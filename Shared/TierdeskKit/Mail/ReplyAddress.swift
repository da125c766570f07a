import Crypto
import Foundation

/// A ticket's own reply address, `reply+<ticket id>.<MAC>@<reply domain>`: a reply sent to it
/// threads onto the ticket without trusting `From`, which anybody can write. Hex only, so an MTA
/// that lowercases local parts keeps it intact, and at most 64 characters (RFC 5321). The MAC is
/// 80 bits of HMAC-SHA256 of the ticket id under a key of its own, derived from the server secret.
public enum ReplyAddress {
    static let prefix = "reply+"

    /// The reply address of a ticket at `domain`.
    public static func make(ticketID: UUID, secret: String, domain: String) -> String {
        prefix + hex(Secrets.uuidBytes(ticketID)) + "." + hex(mac(ticketID, secret: secret)) + "@" + domain
    }

    /// The ticket of the first valid reply address among `addresses` (each `Name <address>`, a bare
    /// address, or comma-separated lists of them), or nil: a forged or altered one is no address.
    public static func ticket(in addresses: [String], secret: String) -> UUID? {
        for list in addresses {
            for entry in list.split(separator: ",") {
                guard let local = localPart(String(entry)), local.hasPrefix(prefix) else { continue }
                let parts = local.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 2, let id = bytes(hex: parts[0]).flatMap(uuid), let given = bytes(hex: parts[1]) else { continue }
                if Secrets.equal(Secrets.base64URL(given), Secrets.base64URL(mac(id, secret: secret))) { return id }
            }
        }
        return nil
    }

    static func mac(_ ticketID: UUID, secret: String) -> Data {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("tierdesk mail reply address".utf8), outputByteCount: 32)
        return Data(HMAC<SHA256>.authenticationCode(for: Secrets.uuidBytes(ticketID), using: key).prefix(10))
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
