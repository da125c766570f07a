import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// Trains the category model from the resolved tickets in the database: measured on a held-out
/// fifth against the majority-class baseline, then trained on all of them and stored. One training
/// at a time across replicas (an advisory lock); the daily schedule trains only when the newest
/// model is a day old, so replicas do not repeat each other's work.
public struct ClassifierTraining: Sendable {
    let store: PolicyStore
    let client: PostgresClient
    let clock: any WallClock
    let threshold: Double

    public init(store: PolicyStore, client: PostgresClient, clock: any WallClock, threshold: Double) {
        self.store = store
        self.client = client
        self.clock = clock
        self.threshold = threshold
    }

    /// Trains and stores a model; `actor` (an administrator's request) is recorded in the audit
    /// trail with the new model's figures, the schedule's trainings are not.
    public func train(by actor: AuditActor? = nil, logger: Logger) async throws -> ClassifierStatus {
        let examples = try await store.trainingExamples(on: client, logger: logger)
        guard !examples.isEmpty else { throw TriageError.nothingToLearn }
        let (_, evaluation) = TextClassifier.evaluate(examples)
        let classifier = TextClassifier.train(examples)
        try await client.transaction(logger: logger) { connection in
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('tierdesk-classifier', 0))", logger: logger)
            // Too few examples for a held-out part: no figures rather than misleading ones.
            let now = clock.now()
            let id = try await store.saveModel(classifier, evaluation: evaluation.testCount > 0 ? evaluation : nil, on: connection, now: now, logger: logger)
            if let actor {
                try await AuditTrail.record(
                    "classifier_model.trained", .classifierModel, id: "\(id)", before: nil, by: actor, on: connection, now: now, logger: logger)
            }
        }
        logger.info(
            "classifier trained",
            metadata: ["examples": "\(examples.count)", "accuracy": "\(evaluation.accuracy)", "macroF1": "\(evaluation.macroF1)"])
        return try await store.status(threshold: threshold, on: client, logger: logger)
    }

    /// The schedule's step: retrain when the newest model is older than `age` (or there is none).
    func trainIfOlder(than age: TimeInterval, logger: Logger) async throws {
        let status = try await store.status(threshold: threshold, on: client, logger: logger)
        if let trainedAt = status.trainedAt, clock.now().timeIntervalSince(trainedAt) < age { return }
        do {
            _ = try await train(logger: logger)
        } catch TriageError.nothingToLearn {
            logger.debug("classifier not trained: no resolved tickets with a category yet")
        }
    }
}
