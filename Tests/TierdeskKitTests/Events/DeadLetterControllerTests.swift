import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// `GET /v1/admin/dead-letters` pages with `?limit=` and `?cursor=`, newest first, keyed on (dead_at, event_id, destination).
@Suite struct DeadLetterControllerTests {
    /// Any service's shared router serves the dead letters; intake's name picks its outbox rows.
    static func build(_ reader: ConfigReader) throws -> some ApplicationProtocol {
        let runtime = try ServiceRuntime(configuration: try TierdeskConfiguration(reader: reader, serviceName: "intake", defaultPort: 8080))
        return runtime.makeApplication(router: runtime.makeRouter(openAPI: "openapi: 3.1.0\n"))
    }

    static func event(_ number: Int) -> UUID {
        let digits = String(number)
        return UUID(uuidString: "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
    }

    /// An outbox row of `source`, dead `micros` after a fixed instant (nil: delivered, not dead).
    static func insert(
        _ event: UUID, destination: String = "triage", source: String = "intake", deadAfterMicroseconds micros: Int64?, on client: PostgresClient
    ) async throws {
        try await client.execute(
            """
            INSERT INTO outbox (event_id, destination, source, event_type, payload, attempts, last_error, next_attempt_at, created_at,
                                delivered_at, dead_at)
            VALUES (\(event), \(destination), \(source), 'ticket.created', '{}', 25, 'HTTP 503', now(), now(),
                    CASE WHEN \(micros)::bigint IS NULL THEN now() END,
                    timestamptz '2027-01-15 08:00:00.123456+00' + \(micros) * interval '1 microsecond')
            """, logger: TestDatabase.logger)
    }

    /// Seven dead letters of intake: two share their time and differ in event id, one event is dead for two
    /// destinations at once, one is a microsecond newer than the next; and rows that must not show.
    static func seed(on client: PostgresClient) async throws -> [String] {
        try await insert(event(1), deadAfterMicroseconds: 0, on: client)
        try await insert(event(2), deadAfterMicroseconds: 1_000_000, on: client)
        try await insert(event(3), deadAfterMicroseconds: 2_000_000, on: client)
        try await insert(event(3), destination: "tier-queue:2", deadAfterMicroseconds: 2_000_000, on: client)
        try await insert(event(4), deadAfterMicroseconds: 3_000_000, on: client)
        try await insert(event(5), deadAfterMicroseconds: 3_000_000, on: client)
        try await insert(event(6), deadAfterMicroseconds: 3_000_001, on: client)
        try await insert(event(7), deadAfterMicroseconds: nil, on: client)  // delivered
        try await insert(event(8), source: "triage", deadAfterMicroseconds: 4_000_000, on: client)  // another service's
        return ["6 triage", "5 triage", "4 triage", "3 triage", "3 tier-queue:2", "2 triage", "1 triage"]
    }

    static func key(_ letter: DeadLetter) -> String {
        "\(Int(letter.eventId.uuidString.suffix(12))!) \(letter.destination)"
    }

    /// Follows `nextCursor` from the first page to the last, `limit` at a time; the pages' keys.
    static func walk(_ http: any TestClientProtocol, limit: Int) async throws -> [[String]] {
        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let uri = "/v1/admin/dead-letters?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let response = try await http.send(.get, uri, token: TestCredentials.adminToken)
            #expect(response.status == .ok)
            let page = try response.decode(Page<DeadLetter>.self)
            pages.append(page.items.map(key))
            cursor = page.nextCursor
            try #require(pages.count <= 10, "paging ends")
        } while cursor != nil
        return pages
    }

    @Test(.freshDatabase) func pagesRunNewestFirstAndEndWithANullCursor() async throws {
        try await TestDatabase.withClient { client in
            let expected = try await Self.seed(on: client)
            try await withLiveApp(Self.build) { http in
                let byTwo = try await Self.walk(http, limit: 2)
                let twos = [Array(expected[0..<2]), Array(expected[2..<4]), Array(expected[4..<6]), Array(expected[6...])]
                #expect(byTwo == twos)
                let byThree = try await Self.walk(http, limit: 3)
                let threes = [Array(expected[0..<3]), Array(expected[3..<6]), Array(expected[6...])]
                #expect(byThree == threes)
                #expect(try await Self.walk(http, limit: 7) == [expected], "a page exactly as long as the list is the last")
                let whole = try await http.send(.get, "/v1/admin/dead-letters", token: TestCredentials.adminToken).decode(Page<DeadLetter>.self)
                #expect(whole.items.map(Self.key) == expected && whole.nextCursor == nil, "50 by default")
                let first = try #require(whole.items.first)
                #expect(first.attempts == 25 && first.lastError == "HTTP 503" && first.eventType == "ticket.created")
            }
        }
    }

    @Test(.freshDatabase) func anEmptyListHasNoCursor() async throws {
        try await withLiveApp(Self.build) { http in
            let page = try await http.send(.get, "/v1/admin/dead-letters?limit=1", token: TestCredentials.adminToken).decode(Page<DeadLetter>.self)
            #expect(page.items.isEmpty && page.nextCursor == nil)
        }
    }

    @Test(.freshDatabase) func aBadLimitOrCursorIs422() async throws {
        try await withLiveApp(Self.build) { http in
            let foreign = Cursor.encode(["1", UUID().uuidString])  // another list's shape
            let outOfRange = Cursor.encode(["-1", UUID().uuidString, Secrets.base64URL(Data("triage".utf8))])
            let notAUUID = Cursor.encode(["1", "x", Secrets.base64URL(Data("triage".utf8))])
            for (query, field) in [
                ("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"), ("limit=", "limit"), ("cursor=%21%21", "cursor"),
                ("cursor=\(foreign)", "cursor"), ("cursor=\(outOfRange)", "cursor"), ("cursor=\(notAUUID)", "cursor"),
            ] {
                let response = try await http.send(.get, "/v1/admin/dead-letters?\(query)", token: TestCredentials.adminToken)
                #expect(response.status == .unprocessableContent, "\(query)")
                #expect(try response.problem().errors?.map(\.field) == [field], "\(query)")
            }
            #expect(try await http.send(.get, "/v1/admin/dead-letters?limit=200", token: TestCredentials.adminToken).status == .ok)
        }
    }

    @Test func cursorsRoundTripAndRejectWhatWasNotHandedOut() throws {
        let cursor = DeadLetterCursor(deadAtMicroseconds: 1_800_000_000_123_456, eventId: UUID(), destination: "odd|name")
        #expect(DeadLetterCursor(encoded: cursor.encoded) == cursor)
        #expect(DeadLetterCursor(encoded: "") == nil && DeadLetterCursor(encoded: "not base64!") == nil)
    }
}
