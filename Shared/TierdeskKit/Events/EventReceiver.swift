import Foundation
import Logging
import PostgresNIO
import TierdeskModels

/// Applies batches of hand-offs for one consumer: the whole batch in one transaction (one commit
/// for N events), each event recorded in the inbox with it so a repeat does nothing. When the batch
/// fails, its events are applied one by one, so a poison event is refused alone and the rest apply.
struct EventReceiver: Sendable {
    let consumer: String
    let handler: any EventHandler
    let client: PostgresClient
    let clock: any WallClock

    /// A result per event, in order.
    func apply(_ events: [EventEnvelope], logger: Logger) async -> [EventResult] {
        var results = [UUID: EventResult]()
        var consumable: [EventEnvelope] = []
        var seen = Set<UUID>()
        for event in events {
            if !handler.consumes.contains(event.type) {
                results[event.id] = EventResult(id: event.id, status: .rejected, reason: "\(consumer) does not consume \(event.type.rawValue) events")
            } else if seen.insert(event.id).inserted {
                consumable.append(event)
            }
        }
        if !consumable.isEmpty {
            do {
                let applied = try await client.transaction(logger: logger) { connection in
                    try await applyAll(consumable, on: connection, logger: logger)
                }
                for event in consumable { results[event.id] = EventResult(id: event.id, status: applied.contains(event.id) ? .applied : .duplicate) }
            } catch {
                logger.debug("event batch failed; applying its events one by one", metadata: ["error": "\(String(reflecting: error))"])
                for event in consumable { results[event.id] = await applyAlone(event, logger: logger) }
            }
        }
        return events.map { results[$0.id] ?? EventResult(id: $0.id, status: .duplicate) }
    }

    /// Records the batch in the inbox in one statement and applies the events seen for the first time, in order.
    func applyAll(_ events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws -> Set<UUID> {
        let fresh = try await Inbox(consumer: consumer).accept(events, on: connection, now: clock.now(), logger: logger)
        try await handler.handle(batch: events.filter { fresh.contains($0.id) }, on: connection, logger: logger)
        return fresh
    }

    /// One event in a transaction of its own: a refusal the receiver will always make (a 4xx
    /// problem) is `rejected`; anything else `failed`, for the sender to try again.
    func applyAlone(_ event: EventEnvelope, logger: Logger) async -> EventResult {
        do {
            let applied = try await client.transaction(logger: logger) { connection in
                try await applyAll([event], on: connection, logger: logger)
            }
            return EventResult(id: event.id, status: applied.isEmpty ? .duplicate : .applied)
        } catch let refusal as any ProblemConvertible where (400..<500).contains(refusal.problem.status) {
            let problem = refusal.problem
            return EventResult(id: event.id, status: .rejected, reason: "\(problem.status) \(problem.type): \(problem.detail ?? problem.title)")
        } catch let error as PSQLError where ["22", "23"].contains(error.serverInfo?[.sqlState]?.prefix(2)) {
            // Data the database will never take (a missing ticket, a value out of range): retrying cannot help.
            return EventResult(id: event.id, status: .rejected, reason: "the database refused it: \(error.serverInfo?[.message] ?? "a constraint failed")")
        } catch {
            logger.warning("event failed", metadata: ["event.id": "\(event.id)", "error": "\(String(reflecting: error))"])
            return EventResult(id: event.id, status: .failed, reason: String(describing: error).prefix(500).description)
        }
    }
}
