import Foundation
import Testing
import TierdeskKit
import TierdeskModels

/// Issue 23, item 8: an IPv6 client is limited by its /64, the network one subscriber holds, in which
/// it may take any of 2^64 addresses at will; an IPv4 client by its address.
@Suite struct ClientAddressTests {
    @Test func rateLimitsKeyIPv6ByItsSlash64() {
        let one = ClientAddress.limitKey(of: "2001:db8:1:2::1")
        #expect(one == "2001:db8:1:2::/64")
        #expect(ClientAddress.limitKey(of: "2001:0db8:0001:0002:ffff:eeee:dddd:cccc") == one)
        #expect(ClientAddress.limitKey(of: "2001:db8:1:3::1") != one)
        #expect(ClientAddress.limitKey(of: "203.0.113.7") == "203.0.113.7")
        #expect(ClientAddress.limitKey(of: "::ffff:203.0.113.7") == "203.0.113.7")
        #expect(ClientAddress.limitKey(of: "unknown") == "unknown")
    }

    /// Two addresses of one /64 share one bucket.
    @Test func oneSlash64SharesOneBucket() throws {
        let limiter = RateLimiter(perMinute: 2)
        for address in ["2001:db8::1", "2001:db8::2"] { try limiter.take("address:\(ClientAddress.limitKey(of: address))") }
        #expect(throws: Problem.self) { try limiter.take("address:\(ClientAddress.limitKey(of: "2001:db8::ffff"))") }
        try limiter.take("address:\(ClientAddress.limitKey(of: "2001:db8:0:1::1"))")
    }
}
