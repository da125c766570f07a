import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 address range in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or one address).
public struct AddressRange: Sendable, Equatable {
    let network: [UInt8]
    let prefixLength: Int

    /// Parses `address[/prefix]`; nil when it is not a valid range.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let bytes = Self.bytes(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : bits
        guard let length, (0...bits).contains(length) else { return nil }
        network = bytes
        prefixLength = length
    }

    /// Whether `address` (text) lies in this range; false for anything that is not an address.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(address), bytes.count == network.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(bytes, network) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// The bytes of an IPv4 (4) or IPv6 (16) address in text; an IPv4-mapped IPv6 address counts as IPv4.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }
}

/// Who the client is: the socket's peer, unless that peer is a trusted proxy (`TIERDESK_TRUSTED_PROXIES`);
/// then the right-most `X-Forwarded-For` hop that is not itself a trusted proxy. A client cannot
/// choose its own address by sending the header: only a trusted proxy's header is read.
public struct ClientAddress: Sendable {
    public let trustedProxies: [AddressRange]
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    public init(trustedProxies: [AddressRange] = []) { self.trustedProxies = trustedProxies }

    /// Parses a comma-separated list of ranges; nil names the first entry that is not one.
    public static func parse(_ text: String) -> Result<[AddressRange], ParseFailure> {
        var ranges: [AddressRange] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let range = AddressRange(entry) else { return .failure(ParseFailure(entry: entry)) }
            ranges.append(range)
        }
        return .success(ranges)
    }

    public struct ParseFailure: Error { public var entry: String }

    func isTrusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }

    /// The client's address for rate limits and logs.
    public func of(_ request: Request, _ context: AppRequestContext) -> String {
        of(request, peer: context.remoteAddress?.ipAddress)
    }

    /// The key a client's rate limits count under: its address, an IPv6 address cut to its /64 (one
    /// subscriber's network, in which a client can pick any of 2^64 addresses at will).
    public func limitKey(_ request: Request, _ context: AppRequestContext) -> String {
        Self.limitKey(of: of(request, context))
    }

    /// The rate-limit key of an address in text: IPv4 as it is, IPv6 as `<first 64 bits>::/64`
    /// (an IPv4-mapped IPv6 address counts as its IPv4 address); anything else as it is.
    public static func limitKey(of address: String) -> String {
        guard let bytes = AddressRange.bytes(address) else { return address }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    /// The client's address of a request that came from `peer`: the right-most address of
    /// X-Forwarded-For that is not a trusted proxy, when the peer is one; the peer otherwise.
    public func of(_ request: Request, peer: String?) -> String {
        let peer = peer ?? "unknown"
        guard isTrusted(peer), let header = request.headers[Self.forwardedFor] else { return peer }
        let hops = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last(where: { !isTrusted($0) }) ?? hops.first ?? peer
    }
}
