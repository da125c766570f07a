import Foundation
import TierdeskModels

#if canImport(Glibc)
    import Glibc
#endif

/// Where a vendor's webhook may point. A webhook makes Tierdesk send requests on a vendor's behalf,
/// so an address inside the company's network (loopback, private, link-local: the cloud metadata
/// service at 169.254.169.254, the database) would let a vendor reach what it must not. Only https,
/// to public addresses, unless `TIERDESK_WEBHOOK_ALLOWED_HOSTS` names the host or its address range
/// (then plain http is allowed too: a test vendor, the simulator). A name is resolved and every
/// address it gives is checked, so DNS cannot disguise an internal target; delivery checks again.
public struct WebhookTargetPolicy: Sendable {
    /// Hosts (names, lowercased) and address ranges allowed despite being internal.
    public let allowedHosts: Set<String>
    public let allowedRanges: [AddressRange]

    /// Ranges no webhook may reach unless allowed: this host, private networks, link-local,
    /// carrier-grade NAT, multicast, the unspecified addresses, IETF protocol assignments
    /// (192.0.0.0/24) and benchmarking (198.18.0.0/15); and the IPv6 ranges that carry an IPv4
    /// address inside, which the network may route to it: IPv4-compatible (::/96, which holds ::
    /// and ::1 too), NAT64 (64:ff9b::/96) and 6to4 (2002::/16); and the old site-local fec0::/10.
    /// (An IPv4-mapped address, ::ffff:a.b.c.d, is checked as its IPv4 address.)
    static let internalRanges = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/96", "::1/128", "64:ff9b::/96", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    ].compactMap(AddressRange.init)

    /// Whether an address is inside the network: in an internal range, or not an address this guard
    /// can read at all (what it cannot parse it cannot vouch for).
    static func isInternal(_ address: String) -> Bool {
        AddressRange.bytes(address) == nil || internalRanges.contains { $0.contains(address) }
    }

    /// How names are resolved (the system resolver; tests give their own).
    let resolver: @Sendable (String) -> [String]

    public init(
        allowedHosts: Set<String> = [], allowedRanges: [AddressRange] = [], resolver: @escaping @Sendable (String) -> [String] = WebhookTargetPolicy.addresses
    ) {
        self.allowedHosts = allowedHosts
        self.allowedRanges = allowedRanges
        self.resolver = resolver
    }

    /// Parses `TIERDESK_WEBHOOK_ALLOWED_HOSTS`: comma-separated host names or CIDR ranges.
    public init(parsing text: String, resolver: @escaping @Sendable (String) -> [String] = WebhookTargetPolicy.addresses) {
        var hosts = Set<String>()
        var ranges: [AddressRange] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !entry.isEmpty {
            if let range = AddressRange(entry) { ranges.append(range) } else { hosts.insert(entry) }
        }
        self.init(allowedHosts: hosts, allowedRanges: ranges, resolver: resolver)
    }

    /// What the policy says of a URL: refused with the reason, or allowed with its host exactly as
    /// the HTTP client reads it from the URL (case kept, IPv6 brackets removed: the key a DNS pin
    /// must be set under) and the addresses that were checked (the host itself for an address literal).
    public enum Decision: Sendable, Equatable {
        case refused(String)
        case allowed(host: String, addresses: [String])
    }

    /// Nil when `url` may be a webhook, else why not (for a 422 on `webhookUrl`). `resolve` gives a
    /// host's addresses (the policy's resolver by default); a name that does not resolve yet may be
    /// registered: delivery checks again.
    public func refusal(for url: URL, resolve: ((String) -> [String])? = nil) -> String? {
        if case .refused(let reason) = decide(url, resolve: resolve ?? resolver) { return reason }
        return nil
    }

    /// The check at delivery: as `refusal`, and a name must resolve now. The request is then to go
    /// to one of the `addresses` checked (not to what the name resolves to a moment later), so DNS
    /// cannot turn a checked public name into an internal target between the check and the connection.
    public func deliveryTarget(for url: URL) -> Decision {
        let decision = decide(url, resolve: resolver)
        if case .allowed(let host, let addresses) = decision, addresses.isEmpty { return .refused("\(host) does not resolve") }
        return decision
    }

    func decide(_ url: URL, resolve: (String) -> [String]) -> Decision {
        // The host as AsyncHTTPClient reads it (`URL.host`, brackets trimmed), so a pin set under it
        // is found whatever the URL's case; names compare and resolve lowercased.
        guard let scheme = url.scheme?.lowercased(), let rawHost = url.host, !rawHost.isEmpty else {
            return .refused("must be an absolute https URL")
        }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let name = host.lowercased()
        let addresses = AddressRange.bytes(name) != nil ? [name] : resolve(name)
        let allowed = allowedHosts.contains(name) || (!addresses.isEmpty && addresses.allSatisfy { address in allowedRanges.contains { $0.contains(address) } })
        if allowed { return scheme == "http" || scheme == "https" ? .allowed(host: host, addresses: addresses) : .refused("must be an http(s) URL") }
        guard scheme == "https" else { return .refused("must be https (plain http only for hosts in TIERDESK_WEBHOOK_ALLOWED_HOSTS)") }
        if let inside = addresses.first(where: Self.isInternal) {
            return .refused("points inside the network (\(host) is \(inside)); allow it with TIERDESK_WEBHOOK_ALLOWED_HOSTS if that is meant")
        }
        return .allowed(host: host, addresses: addresses)
    }

    /// Every address the system resolver gives for a host (empty when it does not resolve).
    public static func addresses(of host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &results) == 0, let first = results else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(cString: buffer))
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
