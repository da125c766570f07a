import Foundation
import HummingbirdTesting
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport
import TriageApp

@Suite struct TriageTests {
    @Test(.freshDatabase) func createdEventIsTriagedToLevelOneOnce() async throws {
        try await TestDatabase.withClient { client in
            let db = StoreFixture(client: client)
            let requester = try await db.requester()
            let draft = TicketDraft(
                impact: .high, urgency: .medium, category: "network", channel: .email, subject: "s", description: "d", requesterID: requester)
            try await client.transaction(logger: db.logger) { connection in
                _ = try await db.store.insert(
                    draft, event: EventDraft(id: draft.id, type: .ticketCreated, actor: "test"), on: connection, now: Date(), logger: db.logger)
            }
            try await withLiveApp(TriageApp.buildApplication) { http in
                let event = EventEnvelope(id: draft.id, type: .ticketCreated, ticketId: draft.id, occurredAt: Date())
                #expect(try await http.send(.post, "/internal/v1/events", json: event).status == .unauthorized)
                #expect(try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event).status == .ok)
                #expect(
                    try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, json: event).decode(EventBatchResult.self).results
                        .map(\.status) == [.duplicate])
                let bad = try await http.send(.post, "/internal/v1/events", token: TestCredentials.internalToken, raw: #"{"id":"x"}"#)
                #expect(bad.status == .unprocessableContent)
            }
            let ticket = try #require(try await db.store.find(draft.id, on: client, logger: db.logger))
            // An event without submission facts is read as the least trusted: the requester's high/medium (P2) is held at the cap.
            #expect(ticket.status == .triaged && ticket.tier == .firstLine && ticket.priority == .p3)
            #expect(try await db.outbox(source: "triage") == ["tier-queue:1 ticket.triaged"])
        }
    }

    /// A shipped migration edited after it ran makes every service unready, naming it.
    @Test(.freshDatabase) func anEditedMigrationMakesTheServiceUnready() async throws {
        try await TestDatabase.withClient { client in
            try await withLiveApp(TriageApp.buildApplication) { http in
                #expect(try await http.send(.get, "/health/ready").status == .ok)
                try await client.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1", logger: TestDatabase.logger)
                let ready = try await http.send(.get, "/health/ready")
                #expect(try ready.status == .serviceUnavailable && ready.problem().detail?.contains("0001_foundation") == true)
            }
        }
    }

    @Test func openAPIDocumentsEveryRoute() throws {
        let reader = TestCredentials.reader(database: try DatabaseSettings(url: "postgres://u@127.0.0.1:1/d"))
        let runtime = try ServiceRuntime(configuration: try TierdeskConfiguration(reader: reader, serviceName: Triage.serviceName, defaultPort: 8081))
        #expect(OpenAPICheck.documented(Triage.openAPI) == OpenAPICheck.served(TriageApp.buildRouter(TriageDependencies(runtime: runtime))))
    }
}
