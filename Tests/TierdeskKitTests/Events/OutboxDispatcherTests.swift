import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// A receiver that answers by event type: `ticket.queued` fails twice with 500 first,
/// `ticket.closed` is refused with 400, anything else is accepted.
actor Receiver {
    var accepted: [UUID] = []
    var failures: [UUID: Int] = [:]

    func answer(_ event: EventEnvelope) -> HTTPResponse.Status {
        switch event.type {
        case .ticketQueued where failures[event.id, default: 0] < 2:
            failures[event.id, default: 0] += 1
            return .internalServerError
        case .ticketClosed:
            return .badRequest
        default:
            accepted.append(event.id)
            return .ok
        }
    }
}

@Suite struct OutboxDispatcherTests {
    func withReceiver(_ body: @Sendable (Int, Receiver) async throws -> Void) async throws {
        let receiver = Receiver()
        let router = Router()
        router.post("internal/v1/events") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(TestCredentials.internalToken)" else { return Response(status: .unauthorized) }
            let event = try await request.decode(as: EventEnvelope.self, context: context)
            return Response(status: await receiver.answer(event))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port), receiver) }
    }

    /// Records an event of `type` on a new ticket through the store (source "test") and returns its id.
    func enqueue(_ type: EventType, to destinations: [String], client: PostgresClient, notify: Bool) async throws -> UUID {
        try await handOff(type, of: try await StoreFixture(client: client).queued().id, to: destinations, client: client, notify: notify)
    }

    /// Records an event of `type` on `ticketID`, handed to `destinations`; returns its id.
    func handOff(_ type: EventType, of ticketID: UUID, to destinations: [String], client: PostgresClient, notify: Bool) async throws -> UUID {
        let store = TicketStore(source: "test", outbox: Outbox(notify: notify))
        let event = EventDraft(type: type, actor: "test")
        try await client.transaction(logger: TestDatabase.logger) { connection in
            try await store.record(event, ticketID: ticketID, handOff: destinations, on: connection, now: Date(), logger: TestDatabase.logger)
        }
        return event.id
    }

    func state(_ id: UUID, client: PostgresClient) async throws -> (delivered: Bool, dead: Bool, attempts: Int) {
        try #require(
            try await client.first(
                "SELECT delivered_at IS NOT NULL AS delivered, dead_at IS NOT NULL AS dead, attempts FROM outbox WHERE event_id = \(id)",
                logger: TestDatabase.logger
            ) { (try $0.get("delivered", as: Bool.self), try $0.get("dead", as: Bool.self), Int(try $0.get("attempts", as: Int32.self))) })
    }

    @Test(.freshDatabase, arguments: [true, false])
    func deliversRetriesAndDeadLetters(notify: Bool) async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                let dispatcher = OutboxDispatcher(
                    source: "test", client: client, peers: PeerDirectory(urls: ["receiver": "http://127.0.0.1:\(port)"]),
                    internalToken: TestCredentials.internalToken,
                    settings: OutboxSettings(notify: notify, pollInterval: .milliseconds(100), maxBackoff: .milliseconds(50), maxAttempts: 5),
                    logger: TestDatabase.logger)
                let running = Task { try await dispatcher.run() }
                defer { running.cancel() }

                let created = try await enqueue(.ticketCreated, to: ["receiver"], client: client, notify: notify)
                let flaky = try await enqueue(.ticketQueued, to: ["receiver"], client: client, notify: notify)
                let refused = try await enqueue(.ticketClosed, to: ["receiver"], client: client, notify: notify)
                let nowhere = try await enqueue(.ticketCreated, to: ["nowhere"], client: client, notify: notify)

                _ = try await HTTP.eventually { try await state(created, client: client).delivered ? true : nil }
                let flakyState = try await HTTP.eventually { () -> (Bool, Bool, Int)? in
                    let state = try await state(flaky, client: client)
                    return state.delivered ? state : nil
                }
                #expect(flakyState.2 == 3)  // two 500s, then accepted
                _ = try await HTTP.eventually { try await state(refused, client: client).dead ? true : nil }
                _ = try await HTTP.eventually { try await state(nowhere, client: client).dead ? true : nil }
                #expect(try await state(refused, client: client).attempts == 1)  // a 4xx is not retried
                let accepted = await receiver.accepted
                #expect(Set(accepted) == [created, flaky])
            }
        }
    }

    @Test(.freshDatabase) func downstreamDownDelaysButNeverDrops() async throws {
        try await TestDatabase.withClient { client in
            // Nothing listens on port 9: every attempt fails, and the row waits.
            let dispatcher = OutboxDispatcher(
                source: "test", client: client, peers: PeerDirectory(urls: ["receiver": "http://127.0.0.1:9"]), internalToken: TestCredentials.internalToken,
                settings: OutboxSettings(notify: true, pollInterval: .milliseconds(50), maxBackoff: .milliseconds(20), maxAttempts: 1000), logger: TestDatabase.logger)
            let running = Task { try await dispatcher.run() }
            let id = try await enqueue(.ticketCreated, to: ["receiver"], client: client, notify: true)
            _ = try await HTTP.eventually { try await state(id, client: client).attempts >= 3 ? true : nil }
            running.cancel()
            let after = try await state(id, client: client)
            #expect(!after.delivered && !after.dead)
        }
    }
}

extension OutboxDispatcherTests {
    /// With a 30 s poll, only NOTIFY can deliver within the deadline.
    @Test(.freshDatabase) func notifyWakesTheDispatcherAtOnce() async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                let dispatcher = OutboxDispatcher(
                    source: "test", client: client, peers: PeerDirectory(urls: ["receiver": "http://127.0.0.1:\(port)"]),
                    internalToken: TestCredentials.internalToken,
                    settings: OutboxSettings(notify: true, pollInterval: .seconds(30), maxBackoff: .milliseconds(50), maxAttempts: 5), logger: TestDatabase.logger)
                let running = Task { try await dispatcher.run() }
                defer { running.cancel() }
                // The listener has subscribed once its backend is idle after running LISTEN.
                _ = try await HTTP.eventually(timeout: .seconds(10)) { () -> Bool? in
                    let listening = try await client.first(
                        """
                        SELECT count(*) AS listening FROM pg_stat_activity
                        WHERE datname = current_database() AND state = 'idle' AND query ILIKE 'LISTEN%'
                        """, logger: TestDatabase.logger
                    ) { try $0.get("listening", as: Int64.self) }
                    return (listening ?? 0) > 0 ? true : nil
                }
                for round in 0..<5 {
                    let ticket = try await StoreFixture(client: client).queued()
                    let started = ContinuousClock.now
                    let id = try await handOff(.ticketCreated, of: ticket.id, to: ["receiver"], client: client, notify: true)
                    _ = try await HTTP.eventually(timeout: .seconds(5)) { try await state(id, client: client).delivered ? true : nil }
                    #expect(ContinuousClock.now - started < .seconds(5), "round \(round)")
                }
            }
        }
    }
}
