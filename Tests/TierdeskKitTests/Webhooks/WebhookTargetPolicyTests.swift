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
}
