import Foundation
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskTestSupport

/// `/metrics` names follow Prometheus's conventions: counters end in `_total`, durations in `_seconds`.
@Suite struct MetricsTests {
    @Test(.freshDatabase) func metricNamesFollowPrometheusConventions() async throws {
        try await withLiveApp(DeadLetterControllerTests.build) { http in
            #expect(try await http.send(.get, "/health/live").status == .ok)
            #expect(try await http.send(.get, "/v1/admin/dead-letters").status == .unauthorized)
            let text = String(buffer: try await http.send(.get, "/metrics").body)
            // `# TYPE <name> <kind>` for each metric family.
            let families = text.split(separator: "\n").compactMap { line -> (name: String, kind: String)? in
                let parts = line.split(separator: " ")
                guard parts.count == 4, parts[0] == "#", parts[1] == "TYPE" else { return nil }
                return (String(parts[2]), String(parts[3]))
            }
            let names = Set(families.map(\.name))
            for name in [
                "http_server_requests_total", "http_server_request_errors_total", "http_server_request_duration_seconds", "http_server_active_requests",
            ] {
                #expect(names.contains(name), "\(name) is exported")
            }
            #expect(text.contains(#"http_server_requests_total{http_route="/health/live",http_request_method="GET",http_response_status_code="200"}"#))
            for family in families {
                if family.kind == "counter" { #expect(family.name.hasSuffix("_total"), "the counter \(family.name) ends in _total") }
                if family.kind == "histogram" { #expect(family.name.hasSuffix("_seconds"), "the histogram \(family.name) ends in _seconds") }
                #expect(!family.name.hasPrefix("hb_"), "\(family.name) is named for Prometheus, not Hummingbird")
            }
        }
    }
}
