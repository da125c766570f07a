import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

/// A receiver that answers batches, per event by type: `ticket.queued` fails twice first,
/// `ticket.closed` is refused, anything else is applied. It records the order events arrive in and
/// whether two events of one ticket were ever in flight at once.
actor Receiver {
    var accepted: [UUID] = []
    var arrivals: [(ticket: UUID?, event: UUID)] = []
    var failures: [UUID: Int] = [:]
    var inFlight: [UUID: Int] = [:]
    var overlaps = 0
    var requests = 0
    /// Answer the next requests with this status instead (a receiver that is down or broken).
    var failWholeBatches = 0

    func answer(_ batch: EventBatch) async -> (HTTPResponse.Status, EventBatchResult) {
        requests += 1
        if failWholeBatches > 0 {
            failWholeBatches -= 1
            return (.serviceUnavailable, EventBatchResult(results: []))
        }
        for event in batch.events {
            arrivals.append((event.ticketId, event.id))
            if let ticket = event.ticketId {
                inFlight[ticket, default: 0] += 1
                if inFlight[ticket, default: 0] > 1 { overlaps += 1 }
            }
        }
        try? await Task.sleep(for: .milliseconds(20))  // a window for a second delivery of the same ticket to overlap
        let results = batch.events.map { event -> EventResult in
            if let ticket = event.ticketId { inFlight[ticket, default: 1] -= 1 }
            switch event.type {
            case .ticketQueued where failures[event.id, default: 0] < 2:
                failures[event.id, default: 0] += 1
                return EventResult(id: event.id, status: .failed, reason: "not yet")
            case .ticketClosed:
                return EventResult(id: event.id, status: .rejected, reason: "never")
            default:
                accepted.append(event.id)
                return EventResult(id: event.id, status: .applied)
            }
        }
        return (.ok, EventBatchResult(results: results))
    }

    func failNext(_ count: Int) { failWholeBatches = count }
}

@Suite struct OutboxDispatcherTests {
    func withReceiver(_ body: @Sendable (Int, Receiver) async throws -> Void) async throws {
        let receiver = Receiver()
        let router = Router()
        router.post("internal/v1/events") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(TestCredentials.internalToken)" else { return Response(status: .unauthorized) }
            let batch = try await request.decode(as: EventBatch.self, context: context)
            let (status, result) = await receiver.answer(batch)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: try JSONCoding.encode(result)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port), receiver) }
    }

    func dispatcher(port: Int, client: PostgresClient, poll: Duration = .milliseconds(100), batchSize: Int = 100, lease: Duration = .seconds(30))
        -> OutboxDispatcher
    {
        OutboxDispatcher(
            source: "test", client: client, peers: PeerDirectory(urls: ["receiver": "http://127.0.0.1:\(port)"]), internalToken: TestCredentials.internalToken,
            settings: OutboxSettings(batchSize: batchSize, pollInterval: poll, maxBackoff: .milliseconds(50), maxAttempts: 5, lease: lease),
            logger: TestDatabase.logger)
    }

    /// Records an event of `type` on a new ticket through the store (source "test") and returns its id.
    func enqueue(_ type: EventType, to destinations: [String], client: PostgresClient) async throws -> UUID {
        try await handOff(type, of: try await StoreFixture(client: client).queued().id, to: destinations, client: client)
    }

    /// Records an event of `type` on `ticketID`, handed to `destinations`; returns its id.
    func handOff(_ type: EventType, of ticketID: UUID, to destinations: [String], client: PostgresClient) async throws -> UUID {
        let store = TicketStore(source: "test")
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

    @Test(.freshDatabase) func deliversRetriesAndDeadLetters() async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                let running = Task { try await dispatcher(port: port, client: client).run() }
                defer { running.cancel() }

                let created = try await enqueue(.ticketCreated, to: ["receiver"], client: client)
                let flaky = try await enqueue(.ticketQueued, to: ["receiver"], client: client)
                let refused = try await enqueue(.ticketClosed, to: ["receiver"], client: client)
                let nowhere = try await enqueue(.ticketCreated, to: ["nowhere"], client: client)

                _ = try await HTTP.eventually { try await state(created, client: client).delivered ? true : nil }
                let flakyState = try await HTTP.eventually { () -> (Bool, Bool, Int)? in
                    let state = try await state(flaky, client: client)
                    return state.delivered ? state : nil
                }
                #expect(flakyState.2 == 3)  // failed twice, then applied
                _ = try await HTTP.eventually { try await state(refused, client: client).dead ? true : nil }
                _ = try await HTTP.eventually { try await state(nowhere, client: client).dead ? true : nil }
                #expect(try await state(refused, client: client).attempts == 1)  // a rejection is not retried
                let reason = try await client.first("SELECT last_error FROM outbox WHERE event_id = \(refused)", logger: TestDatabase.logger) {
                    try $0.get("last_error", as: String.self)
                }
                #expect(reason == "never")
                let accepted = await receiver.accepted
                #expect(Set(accepted) == [created, flaky])
            }
        }
    }

    /// Many events go in one request; a receiver that is down for a while delays them, then takes them all.
    @Test(.freshDatabase) func eventsTravelInBatchesAndSurviveADownReceiver() async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                await receiver.failNext(2)
                var ids = Set<UUID>()
                for _ in 0..<60 { ids.insert(try await enqueue(.ticketCreated, to: ["receiver"], client: client)) }
                let running = Task { try await dispatcher(port: port, client: client, batchSize: 50).run() }
                defer { running.cancel() }
                _ = try await HTTP.eventually { await Set(receiver.accepted) == ids ? true : nil }
                #expect(await receiver.accepted.count == 60)
                #expect(await receiver.requests <= 8, "60 events in a few batches, not 60 requests")
            }
        }
    }

    /// A ticket's events arrive in the order they were written, one at a time, even when the first is retried.
    @Test(.freshDatabase) func aTicketsEventsArriveInOrderOneAtATime() async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                let fixture = StoreFixture(client: client)
                var written: [UUID: [UUID]] = [:]
                for _ in 0..<4 {
                    let ticket = try await fixture.queued().id
                    for type in [EventType.ticketQueued, .ticketClaimed, .ticketCommented, .ticketResolved] {
                        written[ticket, default: []].append(try await handOff(type, of: ticket, to: ["receiver"], client: client))
                    }
                }
                let running = Task { try await dispatcher(port: port, client: client, poll: .milliseconds(20)).run() }
                defer { running.cancel() }
                _ = try await HTTP.eventually(timeout: .seconds(20)) { await receiver.accepted.count == 16 ? true : nil }
                let arrivals = await receiver.arrivals
                for (ticket, events) in written {
                    var order = arrivals.filter { $0.ticket == ticket }.map(\.event)
                    order.removeAll { $0 == events[0] }
                    #expect(order == Array(events.dropFirst()), "after its retried first event, the ticket's others in order")
                    let firstLast = arrivals.lastIndex { $0.event == events[0] }!
                    let second = arrivals.firstIndex { $0.event == events[1] }!
                    #expect(firstLast < second, "the second waits for the first, through its retries")
                }
                #expect(await receiver.overlaps == 0)
            }
        }
    }

    /// A replica that dies holding a lease: another delivers its rows once the lease runs out, and a
    /// late finisher of the old attempt cannot book them.
    @Test(.freshDatabase) func aDeadReplicasLeaseRunsOutAndItsRowsAreDeliveredOnce() async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                let id = try await enqueue(.ticketCreated, to: ["receiver"], client: client)
                // The dead replica's claim: attempt 1, leased for a second.
                try await client.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + interval '1 second' WHERE event_id = \(id)",
                    logger: TestDatabase.logger)
                let running = Task { try await dispatcher(port: port, client: client, poll: .milliseconds(50)).run() }
                defer { running.cancel() }
                try await Task.sleep(for: .milliseconds(500))
                #expect(await receiver.accepted.isEmpty, "not while the lease holds")
                _ = try await HTTP.eventually { try await state(id, client: client).delivered ? true : nil }
                #expect(await receiver.accepted == [id])
                #expect(try await state(id, client: client).attempts == 2)
                // The old attempt's late bookkeeping is fenced off.
                let late = try await client.first(
                    "UPDATE outbox SET dead_at = now() WHERE event_id = \(id) AND attempts = 1 AND delivered_at IS NULL RETURNING 1 AS one",
                    logger: TestDatabase.logger
                ) { _ in true }
                #expect(late == nil)
            }
        }
    }

    @Test(.freshDatabase) func downstreamDownDelaysButNeverDrops() async throws {
        try await TestDatabase.withClient { client in
            // Nothing listens on port 9: every attempt fails, and the row waits.
            let dispatcher = OutboxDispatcher(
                source: "test", client: client, peers: PeerDirectory(urls: ["receiver": "http://127.0.0.1:9"]), internalToken: TestCredentials.internalToken,
                settings: OutboxSettings(pollInterval: .milliseconds(50), maxBackoff: .milliseconds(20), maxAttempts: 1000), logger: TestDatabase.logger)
            let running = Task { try await dispatcher.run() }
            let id = try await enqueue(.ticketCreated, to: ["receiver"], client: client)
            _ = try await HTTP.eventually { try await state(id, client: client).attempts >= 3 ? true : nil }
            running.cancel()
            let after = try await state(id, client: client)
            #expect(!after.delivered && !after.dead)
        }
    }
}

extension OutboxDispatcherTests {
    /// A replica that leaves delivery to others still runs until it is stopped.
    @Test(.freshDatabase) func aDispatcherWithoutWorkersRunsUntilShutdown() async throws {
        try await TestDatabase.withClient { client in
            let dispatcher = OutboxDispatcher(
                source: "test", client: client, peers: PeerDirectory(urls: [:]), internalToken: TestCredentials.internalToken,
                settings: OutboxSettings(workers: 0), logger: TestDatabase.logger)
            let ended = Mutex(false)
            let running = Task {
                try? await dispatcher.run()
                ended.withLock { $0 = true }
            }
            let id = try await enqueue(.ticketCreated, to: ["receiver"], client: client)
            dispatcher.doorbell.ring()
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await state(id, client: client).attempts == 0, "it delivers nothing")
            #expect(!ended.withLock { $0 }, "it runs on")
            running.cancel()
            _ = await running.result
            #expect(ended.withLock { $0 }, "until it is stopped")
        }
    }
}

extension OutboxDispatcherTests {
    /// With a 120 s poll, only the ring after a commit can deliver within the deadline (30 s: generous,
    /// the whole suite runs in parallel on two cores).
    @Test(.freshDatabase) func aRingWakesTheDispatcherAtOnce() async throws {
        try await withReceiver { port, receiver in
            try await TestDatabase.withClient { client in
                let dispatcher = dispatcher(port: port, client: client, poll: .seconds(120))
                let running = Task { try await dispatcher.run() }
                defer { running.cancel() }
                try await Task.sleep(for: .milliseconds(200))  // both workers are waiting on the bell
                for round in 0..<5 {
                    let started = ContinuousClock.now
                    let id = try await enqueue(.ticketCreated, to: ["receiver"], client: client)
                    dispatcher.doorbell.ring()
                    _ = try await HTTP.eventually(timeout: .seconds(30)) { try await state(id, client: client).delivered ? true : nil }
                    #expect(ContinuousClock.now - started < .seconds(30), "round \(round)")
                }
            }
        }
    }
}
