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
    /// carrier-grade NAT, multicast and the unspecified addresses.
    static let internalRanges = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4",
        "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap(AddressRange.init)

    public init(allowedHosts: Set<String> = [], allowedRanges: [AddressRange] = []) {
        self.allowedHosts = allowedHosts
        self.allowedRanges = allowedRanges
    }

    /// Parses `TIERDESK_WEBHOOK_ALLOWED_HOSTS`: comma-separated host names or CIDR ranges.
    public init(parsing text: String) {
        var hosts = Set<String>()
        var ranges: [AddressRange] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !entry.isEmpty {
            if let range = AddressRange(entry) { ranges.append(range) } else { hosts.insert(entry) }
        }
        self.init(allowedHosts: hosts, allowedRanges: ranges)
    }

    /// Nil when `url` may be a webhook, else why not (for a 422 on `webhookUrl`). `resolve` gives a
    /// host's addresses (the system resolver by default; a name that does not resolve is checked
    /// again at delivery).
    public func refusal(for url: URL, resolve: (String) -> [String] = WebhookTargetPolicy.addresses) -> String? {
        guard let scheme = url.scheme?.lowercased(), let rawHost = url.host?.lowercased(), !rawHost.isEmpty else {
            return "must be an absolute https URL"
        }
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses = AddressRange.bytes(host) != nil ? [host] : resolve(host)
        let allowed = allowedHosts.contains(host) || (!addresses.isEmpty && addresses.allSatisfy { address in allowedRanges.contains { $0.contains(address) } })
        if allowed { return scheme == "http" || scheme == "https" ? nil : "must be an http(s) URL" }
        guard scheme == "https" else { return "must be https (plain http only for hosts in TIERDESK_WEBHOOK_ALLOWED_HOSTS)" }
        if let inside = addresses.first(where: { address in Self.internalRanges.contains { $0.contains(address) } }) {
            return "points inside the network (\(host) is \(inside)); allow it with TIERDESK_WEBHOOK_ALLOWED_HOSTS if that is meant"
        }
        return nil
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
