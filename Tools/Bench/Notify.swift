import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TierdeskKit
import TierdeskModels

/// Notification latency (issue 25): every agent of a file holds its stream open
/// (`GET /v1/notifications/stream`) while the admin assigns them queued tickets at a steady rate;
/// each latency runs from the moment the assignment was due to be sent to the notification's
/// arrival on the agent's stream (open loop: no coordinated omission).
struct Notify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Agents on their notification streams while the admin assigns them tickets: assignment to event arrival.")

    @Option(help: "tier-queue's base URL (the assignments)") var url = "http://127.0.0.1:8082"
    @Option(help: "The tier-queue replica the streams are opened on (default: --url): another replica's are found by its poll.")
    var streamURL: String?
    @Option(help: "A file with one agent token a line (agents of --tier); one stream per agent.") var tokens: String
    @Option(help: "An administrator's token (assigns the tickets).") var adminToken: String
    @Option(help: "Where the queued tickets are read from (the ids to assign).") var databaseURL: String
    @Option var tier = 1
    @Option(help: "Assignments a second.") var rate = 50
    @Option(help: "Assignments in all.") var count = 1000

    struct Report: Codable {
        var streams: Int
        var assigned: Int
        var told: Int
        var missing: Int
        var assignment: LatencySummary
        var eventToStream: LatencySummary
    }

    func run() async throws {
        let tokens = try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let logger = {
            var logger = Logger(label: "tierdesk-bench")
            logger.logLevel = .error
            return logger
        }()
        let (tier, count) = (tier, count)
        let tickets = try await DatabaseSettings(url: databaseURL).withClient(logger: logger) { client in
            try await client.all(
                "SELECT id FROM tickets WHERE status = 'queued' AND tier = \(Int16(tier)) ORDER BY priority, resolution_due_at, id LIMIT \(count)",
                logger: logger
            ) { try $0.get("id", as: UUID.self) }
        }
        let sentAt = Shared<[UUID: ContinuousClock.Instant]>([:])
        let (latency, requests) = (LatencyRecorder(), LatencyRecorder())
        let told = Counter()
        let url = url
        let streamURL = streamURL ?? url
        try await withClient(connections: tokens.count + 64) { client in
            // Each agent's id, then its stream, read in the background until the run ends.
            var agents: [UUID] = []
            for token in tokens {
                var request = HTTPClientRequest(url: url + "/v1/agents/me")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await client.execute(request, timeout: .seconds(10))
                let agent = try JSONCoding.decoder.decode(Agent.self, from: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
                agents.append(agent.id)
            }
            try await withThrowingTaskGroup(of: Void.self) { streams in
                let opened = Counter()
                for token in tokens {
                    streams.addTask {
                        var request = HTTPClientRequest(url: streamURL + "/v1/notifications/stream")
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        let response = try await client.execute(request, timeout: .seconds(3600))
                        guard response.status == .ok else { throw ValidationError("a stream answered \(response.status.code)") }
                        _ = opened.add(1)
                        var pending = ""
                        for try await buffer in response.body {
                            let arrived = ContinuousClock.now
                            pending += String(buffer: buffer)
                            while let end = pending.range(of: "\n\n") {
                                let event = pending[..<end.lowerBound]
                                pending = String(pending[end.upperBound...])
                                guard event.contains("event: notification"),
                                    let data = event.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                                    let notification = try? JSONCoding.decoder.decode(AgentNotification.self, from: Data(data.dropFirst(6).utf8)),
                                    let ticket = notification.ticketId, let sent = sentAt.withLock({ $0[ticket] })
                                else { continue }
                                latency.record(arrived - sent)
                                _ = told.add(1)
                            }
                        }
                    }
                }
                while opened.add(0) < tokens.count { try await Task.sleep(for: .milliseconds(20)) }
                let started = ContinuousClock.now
                let rate = rate
                // Open loop: assignment i is due at start + i/rate, to agent i mod N.
                await withTaskGroup(of: Void.self) { group in
                    for (index, ticket) in tickets.enumerated() {
                        let due = started + .nanoseconds(Int64(Double(index) / Double(rate) * 1e9))
                        try? await Task.sleep(until: due, clock: .continuous)
                        sentAt.withLock { $0[ticket] = due }
                        let agent = agents[index % agents.count]
                        group.addTask {
                            var request = HTTPClientRequest(url: url + "/v1/tickets/\(ticket.uuidString.lowercased())/reassign")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(adminToken)")
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(string: #"{"agentId":"\#(agent.uuidString.lowercased())"}"#))
                            do {
                                let response = try await client.execute(request, timeout: .seconds(60))
                                _ = try await response.body.collect(upTo: 1 << 20)
                                if response.status == .ok { requests.record(ContinuousClock.now - due) } else { requests.fail() }
                            } catch {
                                requests.fail()
                            }
                        }
                    }
                }
                // The last notifications' way to their streams.
                let deadline = ContinuousClock.now + .seconds(10)
                while told.add(0) < requests.summary(seconds: 0).count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                streams.cancelAll()
            }
        }
        let assigned = requests.summary(seconds: 0)
        try printJSON(
            Report(
                streams: tokens.count, assigned: assigned.count, told: told.add(0), missing: assigned.count - told.add(0), assignment: assigned,
                eventToStream: latency.summary(seconds: 0)))
    }
}
