import Foundation
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import IntakeApp

/// Issue 26, item 4: an integration key may carry an expiry; past it the key is 401.
@Suite struct IntegrationKeyExpiryTests {
    /// The service on `clock`.
    func withService(clock: ManualClock, _ test: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        try await withLiveApp(environment: [:], { try await IntakeApp.buildApplication(reader: $0, clock: clock) }, test)
    }

    @Test(.freshDatabase) func anExpiredIntegrationKeyIsRefused() async throws {
        let clock = ManualClock(Date())
        try await withService(clock: clock) { http in
            let admin = TestCredentials.adminToken
            let stale = CreateIntegrationRequest(name: "Stale", channels: [.api], expiresAt: clock.now())
            let refused = try await http.send(.post, "/v1/integrations", token: admin, json: stale)
            #expect(try refused.status == .unprocessableContent && refused.problem().errors?.map(\.field) == ["expiresAt"])

            let request = CreateIntegrationRequest(name: "Zabbix", channels: [.api], expiresAt: clock.now().addingTimeInterval(600))
            let integration = try await http.send(.post, "/v1/integrations", token: admin, json: request).decode(Integration.self)
            let key = try #require(integration.key)
            #expect(integration.expiresAt != nil)
            let listed = try await http.send(.get, "/v1/integrations", token: admin).decode(Page<Integration>.self)
            #expect(listed.items.first?.expiresAt != nil && listed.items.first?.key == nil)
            let alert = SubmitTicketRequest.fixture(email: "monitoring@example.com", channel: .api, subject: "Disk full on db-3")
            #expect(try await http.send(.post, "/v1/tickets", token: key, json: alert).status == .created)
            clock.advance(by: 600 + Authenticator.cacheLifetime.seconds)
            #expect(try await http.send(.post, "/v1/tickets", token: key, json: alert).status == .unauthorized, "past its expiry")
        }
    }
}
