import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TierdeskKit
import TierdeskModels

/// Load for Tierdesk's benchmark (`./scripts/bench`): closed-loop concurrency or open-loop arrival
/// rates. In open loop each latency counts from the moment the request was due, not when it could be
/// sent, so a slow server cannot hide its queueing (no coordinated omission).
@main
struct TierdeskBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tierdesk-bench", abstract: "Load generator and latency recorder for Tierdesk.",
        subcommands: [Submit.self, Claim.self, Fetch.self, RoutingReport.self, MailOut.self, Notify.self])
}

/// An HTTP client sized for the load, shut down after `body`.
func withClient<T: Sendable>(connections: Int, _ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let value = try await body(client)
        try await client.shutdown()
        return value
    } catch {
        try? await client.shutdown()
        throw error
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "POST /v1/tickets: closed loop (--concurrency) or open loop (--rate).")

    @Option(help: "intake's base URL") var url = "http://127.0.0.1:8080"
    @Option(help: "Closed loop: clients each sending the next request when the last one answered.") var concurrency = 16
    @Option(help: "Open loop: tickets a second, sent on schedule whatever the answers.") var rate: Int?
    @Option(help: "Seconds to run.") var duration = 10.0
    @Option(help: "Write 'ticket id<TAB>due time in µs since 1970' per ticket here (for routing-report).") var record: String?
    @Option(help: "A label to make requesters and subjects unique per run.") var run = "bench"

    func run() async throws {
        let recorder = LatencyRecorder()
        let ids = Shared<[(UUID, Int64)]>([])
        let (url, run, duration) = (url, self.run, duration)
        let started = ContinuousClock.now
        let wallStart = SystemClock().now()
        try await withClient(connections: rate == nil ? concurrency : 512) { client in
            @Sendable func send(_ index: Int, due: ContinuousClock.Instant) async {
                let ticket = SubmitTicketRequest(
                    requester: RequesterInput(email: "\(run)-\(index % 997)@bench.example.com", name: "Bench \(index % 997)"), channel: .web,
                    subject: "\(run) ticket \(index): VPN drops", description: "Benchmark ticket \(index) of run \(run).", impact: .medium,
                    // No category: 600 tickets a second of one category would be a storm, which is triage's
                    // problem handling, not the routing this measures.
                    urgency: [Urgency.high, .medium, .low][index % 3], category: nil)
                var request = HTTPClientRequest(url: url + "/v1/tickets")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                do {
                    request.body = .bytes(try JSONCoding.encode(ticket))
                    let response = try await client.execute(request, timeout: .seconds(60))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    guard response.status == .created else { return recorder.fail() }
                    recorder.record(ContinuousClock.now - due)
                    if record != nil, let created = try? JSONCoding.decoder.decode(SubmitTicketResponse.self, from: Data(buffer: body)) {
                        let dueWall = wallStart.addingTimeInterval((due - started).seconds)
                        ids.withLock { $0.append((created.id, dueWall.epochMicroseconds)) }
                    }
                } catch {
                    recorder.fail()
                }
            }
            let end = started + .milliseconds(Int(duration * 1000))
            if let rate {
                // Open loop: request i is due at start + i/rate.
                await withTaskGroup(of: Void.self) { group in
                    let total = Int(Double(rate) * duration)
                    for index in 0..<total {
                        let due = started + .nanoseconds(Int64(Double(index) / Double(rate) * 1e9))
                        try? await Task.sleep(until: due, clock: .continuous)
                        group.addTask { await send(index, due: due) }
                    }
                }
            } else {
                let counter = Counter()
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<concurrency {
                        group.addTask {
                            while ContinuousClock.now < end {
                                let index = counter.add(1)
                                await send(index, due: .now)
                            }
                        }
                    }
                }
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        if let record {
            let lines = ids.withLock { $0.map { "\($0.0.uuidString.lowercased())\t\($0.1)" } }.joined(separator: "\n")
            try (lines + "\n").write(toFile: record, atomically: true, encoding: .utf8)
        }
        try printJSON(recorder.summary(seconds: seconds))
    }
}

struct Claim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Agents claim from one queue until it is empty; checks no ticket is claimed twice.")

    @Option(help: "tier-queue's base URL") var url = "http://127.0.0.1:8082"
    @Option var tier = 1
    @Option(help: "A file with one agent token a line; one claimer per token.") var tokens: String
    @Option(help: "Stop after this many claims in all (0: until the queue is empty).") var limit = 0

    struct Report: Codable {
        var claims: LatencySummary
        var agents: Int
        var distinctTickets: Int
        var claimedTwice: Int
    }

    func run() async throws {
        let agentTokens = try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let recorder = LatencyRecorder()
        let claimed = Shared<[UUID]>([])
        let remaining = Counter(limit == 0 ? Int.max : limit)
        let (url, tier) = (url, tier)
        let started = ContinuousClock.now
        try await withClient(connections: agentTokens.count) { client in
            await withTaskGroup(of: Void.self) { group in
                for token in agentTokens {
                    group.addTask {
                        while remaining.add(-1) > 0 {
                            var request = HTTPClientRequest(url: "\(url)/v1/queues/\(tier)/claim")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(token)")
                            let sent = ContinuousClock.now
                            do {
                                let response = try await client.execute(request, timeout: .seconds(30))
                                let body = try await response.body.collect(upTo: 1 << 20)
                                // Empty, or this agent holds its WIP limit: this claimer is done.
                                if response.status == .noContent || response.status == .conflict { return }
                                guard response.status == .ok, let ticket = try? JSONCoding.decoder.decode(Ticket.self, from: Data(buffer: body)) else {
                                    recorder.fail()
                                    continue
                                }
                                recorder.record(.now - sent)
                                claimed.withLock { $0.append(ticket.id) }
                            } catch {
                                recorder.fail()
                            }
                        }
                    }
                }
            }
        }
        let ids = claimed.withLock { $0 }
        try printJSON(
            Report(
                claims: recorder.summary(seconds: (ContinuousClock.now - started).seconds), agents: agentTokens.count,
                distinctTickets: Set(ids).count, claimedTwice: ids.count - Set(ids).count))
    }
}

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "GET one URL in a closed loop (queue listings, console pages).")

    @Option var url: String
    @Option var token: String?
    @Option(help: "A Cookie header to send (the console's session: td_token=...).") var cookie: String?
    @Option var concurrency = 8
    @Option var duration = 10.0
    @Option(
        help: "Think time: each client waits this long on average (uniformly 0.5-1.5 times) after an answer before the next page, as a person would; 0: none."
    ) var thinkMs = 0

    func run() async throws {
        let recorder = LatencyRecorder()
        let (url, token, cookie, think) = (url, token, cookie, Double(thinkMs))
        let end = ContinuousClock.now + .milliseconds(Int(duration * 1000))
        let started = ContinuousClock.now
        try await withClient(connections: concurrency) { client in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        // People do not arrive in step: with a think time, each starts at its own moment within one.
                        if think > 0 { try? await Task.sleep(for: .milliseconds(Int(think * Double.random(in: 0...1)))) }
                        while ContinuousClock.now < end {
                            var request = HTTPClientRequest(url: url)
                            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                            if let cookie { request.headers.add(name: "Cookie", value: cookie) }
                            let sent = ContinuousClock.now
                            do {
                                let response = try await client.execute(request, timeout: .seconds(30))
                                _ = try await response.body.collect(upTo: 8 << 20)
                                response.status == .ok ? recorder.record(.now - sent) : recorder.fail()
                            } catch {
                                recorder.fail()
                            }
                            if think > 0 { try? await Task.sleep(for: .milliseconds(Int(think * Double.random(in: 0.5...1.5)))) }
                        }
                    }
                }
            }
        }
        try printJSON(recorder.summary(seconds: (ContinuousClock.now - started).seconds))
    }
}

struct RoutingReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing-report",
        abstract: "From a submit --record file: time from a ticket's due submission to claimable (queued), and each service's share.")

    @Option var databaseURL: String
    @Option var record: String
    @Option(help: "Seconds to wait for every ticket to be queued.") var timeout = 120.0

    struct Report: Codable {
        var tickets: Int
        var queued: Int
        var lost: Int
        var submissionToClaimable: LatencySummary
        var intake: LatencySummary
        var intakeToTriaged: LatencySummary
        var triagedToQueued: LatencySummary
    }

    func run() async throws {
        let due: [UUID: Int64] = Dictionary(
            uniqueKeysWithValues: try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").compactMap { line in
                let parts = line.split(separator: "\t")
                guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let micros = Int64(parts[1]) else { return nil }
                return (id, micros)
            })
        let ids = Array(due.keys)
        let logger = {
            var logger = Logger(label: "tierdesk-bench")
            logger.logLevel = .error
            return logger
        }()
        let settings = try DatabaseSettings(url: databaseURL)
        let timeout = timeout
        let rows = try await settings.withClient(logger: logger) { client -> [(UUID, Int64, Int64?, Int64?)] in
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while true {
                let queued =
                    try await client.first(
                        "SELECT count(*) AS n FROM ticket_events WHERE type = 'ticket.queued' AND ticket_id = ANY(\(ids))", logger: logger
                    ) { Int(try $0.get("n", as: Int64.self)) } ?? 0
                if queued >= ids.count || ContinuousClock.now > deadline { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            return try await client.all(
                """
                SELECT t.id, (extract(epoch FROM t.created_at) * 1000000)::int8 AS created,
                       (SELECT (extract(epoch FROM e.at) * 1000000)::int8 FROM ticket_events e WHERE e.ticket_id = t.id AND e.type = 'ticket.triaged') AS triaged,
                       (SELECT (extract(epoch FROM e.at) * 1000000)::int8 FROM ticket_events e WHERE e.ticket_id = t.id AND e.type = 'ticket.queued') AS queued
                FROM tickets t WHERE t.id = ANY(\(ids))
                """, logger: logger
            ) { (try $0.get("id"), try $0.get("created"), try $0.get("triaged"), try $0.get("queued")) }
        }
        let (total, intake, triage, queue) = (LatencyRecorder(), LatencyRecorder(), LatencyRecorder(), LatencyRecorder())
        var queuedCount = 0
        for (id, created, triaged, queued) in rows {
            guard let sent = due[id] else { continue }
            intake.record(.microseconds(created - sent))
            if let triaged { triage.record(.microseconds(triaged - created)) }
            if let triaged, let queued {
                queue.record(.microseconds(queued - triaged))
                total.record(.microseconds(queued - sent))
                queuedCount += 1
            }
        }
        try printJSON(
            Report(
                tickets: ids.count, queued: queuedCount, lost: ids.count - queuedCount, submissionToClaimable: total.summary(seconds: 0),
                intake: intake.summary(seconds: 0), intakeToTriaged: triage.summary(seconds: 0), triagedToQueued: queue.summary(seconds: 0)))
    }
}
