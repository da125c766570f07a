import Foundation
import Testing
import TierdeskKit

/// Which webhook URLs a vendor may register: https to public addresses, unless allowed.
@Suite struct WebhookTargetPolicyTests {
    /// A resolver that knows a few names, as DNS would answer them.
    func resolve(_ host: String) -> [String] {
        [
            "vendor.example.com": ["93.184.216.34"], "sneaky.example.com": ["93.184.216.34", "10.0.0.5"],
            "metadata.example.com": ["169.254.169.254"], "six.example.com": ["2606:2800:220:1::"],
            "garbled.example.com": ["not-an-address"], "zoned.example.com": ["fe80::1%eth0"],
        ][host] ?? []
    }

    func refusal(_ url: String, _ policy: WebhookTargetPolicy = WebhookTargetPolicy()) -> String? {
        policy.refusal(for: URL(string: url)!, resolve: resolve)
    }

    @Test func publicHttpsIsAcceptedAndInternalTargetsAreRefused() {
        #expect(refusal("https://vendor.example.com/hooks") == nil)
        #expect(refusal("https://six.example.com/hooks") == nil)
        #expect(refusal("https://unknown.example.net/hooks") == nil)  // checked again when delivering
        #expect(refusal("http://vendor.example.com/hooks")?.contains("https") == true)
        for url in [
            "https://127.0.0.1/x", "https://10.1.2.3/x", "https://172.20.0.1/x", "https://192.168.1.1/x", "https://169.254.169.254/latest",
            "https://[::1]/x", "https://[fe80::1]/x", "https://[fd00::1]/x", "https://0.0.0.0/x", "https://[::ffff:127.0.0.1]/x",
            "https://sneaky.example.com/x", "https://metadata.example.com/x",
        ] {
            #expect(refusal(url)?.contains("inside the network") == true, "\(url)")
        }
        // Real resolution: localhost is loopback.
        #expect(WebhookTargetPolicy().refusal(for: URL(string: "https://localhost/x")!)?.contains("inside the network") == true)
    }

    @Test func theAllowListOpensHostsAndRangesAndPlainHttp() {
        let policy = WebhookTargetPolicy(parsing: " 127.0.0.0/8, Simulator.internal ,fd00::/8")
        #expect(refusal("http://127.0.0.1:9999/hooks", policy) == nil)
        #expect(refusal("https://simulator.internal/hooks", policy) == nil)
        #expect(refusal("https://[fd00::7]/hooks", policy) == nil)
        #expect(refusal("https://10.0.0.1/hooks", policy) != nil)
        #expect(refusal("ftp://127.0.0.1/hooks", policy) != nil)
    }

    /// Issue 23, item 9: the ranges that carry or reach an internal IPv4 address, the old IPv6 site-local
    /// range, IETF protocol assignments and benchmarking are internal too.
    @Test func rangesThatReachInsideAreInternal() {
        for url in [
            "https://[::7f00:1]/x", "https://[::a00:5]/x",  // IPv4-compatible ::/96 (127.0.0.1, 10.0.0.5)
            "https://[64:ff9b::a9fe:a9fe]/x",  // NAT64 of 169.254.169.254
            "https://[2002:7f00:1::1]/x",  // 6to4 of 127.0.0.1
            "https://[fec0::1]/x", "https://192.0.0.8/x", "https://198.18.0.1/x", "https://198.19.255.254/x",
        ] {
            #expect(refusal(url)?.contains("inside the network") == true, "\(url)")
        }
        // Their neighbours stay public.
        for url in ["https://198.20.0.1/x", "https://192.0.1.1/x", "https://[2003::1]/x", "https://[64:ff9c::1]/x"] {
            #expect(refusal(url) == nil, "\(url)")
        }
    }

    /// An address the guard cannot read (a resolver's odd answer, a scoped link-local address) is
    /// treated as internal: what it cannot parse it cannot vouch for.
    @Test func anAddressTheGuardCannotParseIsInternal() {
        #expect(refusal("https://garbled.example.com/x")?.contains("inside the network") == true)
        #expect(refusal("https://zoned.example.com/x")?.contains("inside the network") == true)
    }

    /// The decision names the host exactly as the HTTP client reads it from the URL (case kept), so the
    /// delivery's DNS pin is set under the name the client looks up; the check itself ignores case.
    @Test func theDecisionKeepsTheHostAsTheClientSeesIt() {
        let policy = WebhookTargetPolicy(resolver: resolve)
        #expect(
            policy.deliveryTarget(for: URL(string: "https://Vendor.Example.COM/hooks")!) == .allowed(host: "Vendor.Example.COM", addresses: ["93.184.216.34"]))
        #expect(policy.refusal(for: URL(string: "https://METADATA.Example.com/x")!)?.contains("inside the network") == true)
        #expect(
            policy.deliveryTarget(for: URL(string: "https://[2606:2800:220:1::]/x")!) == .allowed(host: "2606:2800:220:1::", addresses: ["2606:2800:220:1::"]))
        let allowed = WebhookTargetPolicy(parsing: "hooks.internal", resolver: { _ in ["10.0.0.9"] })
        #expect(allowed.deliveryTarget(for: URL(string: "http://Hooks.Internal:8090/x")!) == .allowed(host: "Hooks.Internal", addresses: ["10.0.0.9"]))
    }
}
