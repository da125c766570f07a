import Foundation
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import VendorBridgeApp

/// Issue 26, item 4: a vendor's API key may carry an expiry, set when it is issued or rotated;
/// past it the key is 401 (within the auth cache's lifetime).
@Suite struct VendorKeyExpiryTests {
    /// The service on `clock`.
    func withService(clock: ManualClock, _ test: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        try await withLiveApp(environment: [:], { try await VendorBridgeApp.buildApplication(reader: $0, clock: clock) }, test)
    }

    @Test(.freshDatabase) func anExpiredVendorKeyIsRefused() async throws {
        let clock = ManualClock(Date())
        try await withService(clock: clock) { http in
            let admin = TestCredentials.adminToken
            let past = CreateVendorRequest(
                name: "Stale", webhookUrl: "https://stale.example.com/hook", categories: ["network"], apiKeyExpiresAt: clock.now().addingTimeInterval(-1))
            let refused = try await http.send(.post, "/v1/vendors", token: admin, json: past)
            #expect(try refused.status == .unprocessableContent && refused.problem().errors?.map(\.field) == ["apiKeyExpiresAt"])

            let expiry = clock.now().addingTimeInterval(3600)
            let request = CreateVendorRequest(name: "Acme", webhookUrl: "https://acme.example.com/hook", categories: ["network"], apiKeyExpiresAt: expiry)
            let acme = try await http.send(.post, "/v1/vendors", token: admin, json: request).decode(Vendor.self)
            let key = try #require(acme.apiKey)
            #expect(acme.apiKeyExpiresAt.map { abs($0.timeIntervalSince(expiry)) < 1 } == true)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: key).status == .ok)
            clock.advance(by: 3600 + Authenticator.cacheLifetime.seconds)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: key).status == .unauthorized, "past its expiry")

            // A rotation issues a key with its own expiry (none: it never expires).
            let rotation = RotateVendorKeyRequest(expiresAt: clock.now().addingTimeInterval(60))
            let rotated = try await http.send(.post, "/v1/vendors/\(acme.id)/api-key", token: admin, json: rotation).decode(Vendor.self)
            let fresh = try #require(rotated.apiKey)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: fresh).status == .ok)
            let badRotation = RotateVendorKeyRequest(expiresAt: clock.now())
            #expect(try await http.send(.post, "/v1/vendors/\(acme.id)/api-key", token: admin, json: badRotation).status == .unprocessableContent)
            clock.advance(by: 61)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: fresh).status == .unauthorized)
            let forever = try await http.send(.post, "/v1/vendors/\(acme.id)/api-key", token: admin).decode(Vendor.self)
            #expect(forever.apiKeyExpiresAt == nil)
            clock.advance(by: 400 * 86_400)
            #expect(try await http.send(.get, "/v1/vendor/cases", token: try #require(forever.apiKey)).status == .ok)
        }
    }
}
