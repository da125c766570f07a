import Configuration
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// Triage's settings (`TIERDESK_CLASSIFIER_THRESHOLD_PERCENT`, `TIERDESK_RECURRING_COUNT`/`_DAYS`,
/// `TIERDESK_STORM_COUNT`/`_MINUTES`/`_FACTOR`, `TIERDESK_REQUESTER_PRIORITY_CAP`).
public struct TriageSettings: Sendable {
    /// The confidence below which the classifier's proposal is shown but not used (default 0.7).
    public var threshold: Double
    /// The classifier retrains when its newest model is older than this (default a day).
    public var retrainAfter: TimeInterval
    public var problems: ProblemThresholds
    /// The highest priority a requester's own impact and urgency reach (1-5 for P1-P5; default P3).
    public var requesterCap: Priority

    public init(
        threshold: Double = 0.7, retrainAfter: TimeInterval = 86_400, problems: ProblemThresholds = ProblemThresholds(), requesterCap: Priority = .p3
    ) {
        self.requesterCap = requesterCap
        self.threshold = threshold
        self.retrainAfter = retrainAfter
        self.problems = problems
    }

    public init(reader: ConfigReader) throws(ConfigurationError) {
        let percent = try TierdeskConfiguration.int(reader, "tierdesk.classifier.threshold.percent", default: 70, range: 0...100)
        self.init(
            threshold: Double(percent) / 100,
            problems: ProblemThresholds(
                recurringCount: try TierdeskConfiguration.int(reader, "tierdesk.recurring.count", default: 3, range: 2...100),
                recurringDays: try TierdeskConfiguration.int(reader, "tierdesk.recurring.days", default: 30, range: 1...365),
                stormCount: try TierdeskConfiguration.int(reader, "tierdesk.storm.count", default: 10, range: 2...10_000),
                stormMinutes: try TierdeskConfiguration.int(reader, "tierdesk.storm.minutes", default: 60, range: 1...1440),
                stormFactor: Double(try TierdeskConfiguration.int(reader, "tierdesk.storm.factor", default: 5, range: 1...1000))),
            requesterCap: Priority(rank: try TierdeskConfiguration.int(reader, "tierdesk.requester.priority.cap", default: 3, range: 1...5)) ?? .p3)
    }

    /// What `init(reader:)` reads.
    public static let settings = [
        ConfigSetting("tierdesk.classifier.threshold.percent", "the classifier's confidence needed to set a category (default 70)"),
        ConfigSetting("tierdesk.recurring.count", "one requester's tickets of a category that open a problem (default 3)"),
        ConfigSetting("tierdesk.recurring.days", "within how many days those tickets count (default 30)"),
        ConfigSetting("tierdesk.storm.count", "vouched tickets of a category from distinct requesters that may make a storm (default 10)"),
        ConfigSetting("tierdesk.storm.minutes", "within how many minutes those tickets count (default 60)"),
        ConfigSetting("tierdesk.storm.factor", "how many times the category's normal rate a storm must reach (default 5)"),
        ConfigSetting("tierdesk.requester.priority.cap", "the highest priority a requester's own impact and urgency reach, 1-5 for P1-P5 (default 3)"),
    ]
}

/// What triage's controllers and event handler need; only `buildApplication` creates it.
public struct TriageDependencies: ServiceDependencies {
    public let runtime: ServiceRuntime
    public let settings: TriageSettings
    let policies = PolicyStore()
    let policy: PolicyCache
    let training: ClassifierTraining
    let problems: ProblemStore

    public init(runtime: ServiceRuntime, settings: TriageSettings = TriageSettings()) {
        self.runtime = runtime
        self.settings = settings
        policy = PolicyCache(threshold: settings.threshold, requesterCap: settings.requesterCap, clock: runtime.clock)
        training = ClassifierTraining(store: policies, client: runtime.postgres, clock: runtime.clock, threshold: settings.threshold)
        problems = ProblemStore(tickets: runtime.tickets, thresholds: settings.problems, clock: runtime.clock)
    }
}

public enum Triage {
    public static let serviceName = "triage"
    public static let defaultPort = 8081

    public static let openAPI = OpenAPIDocument.text(in: .module)

    /// The demo's resolved tickets (`tierdesk seed-demo` loads them; the classifier learns from them).
    public static func demoHistory() throws -> [DemoTicket] {
        guard let url = Bundle.module.url(forResource: "history", withExtension: "jsonl", subdirectory: "Demo") else { return [] }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            try JSONCoding.decoder.decode(DemoTicket.self, from: Data(line.utf8))
        }
    }
}

/// One resolved ticket of the demo history.
public struct DemoTicket: Sendable, Codable {
    public var subject: String
    public var description: String
    public var category: String
    public var impact: Impact
    public var urgency: Urgency
    public var channel: TierdeskModels.Channel
    public var resolution: String
    public var daysAgo: Int
}

extension Triage: TierdeskService {
    public static let ownSettings = TriageSettings.settings

    public static func dependencies(runtime: ServiceRuntime, reader: ConfigReader) throws -> TriageDependencies {
        TriageDependencies(runtime: runtime, settings: try TriageSettings(reader: reader))
    }

    public static func addRoutes(_ deps: TriageDependencies, to router: Router<AppRequestContext>) {
        RuleController(deps: deps).addRoutes(to: router)
        PolicyController(deps: deps).addRoutes(to: router)
        ProblemController(deps: deps).addRoutes(to: router)
    }

    public static func eventHandler(_ deps: TriageDependencies) -> any EventHandler { TriageEventHandler(deps: deps) }

    /// The classifier retrains hourly when its model is older than `TriageSettings.retrainAfter`.
    public static func backgroundServices(_ deps: TriageDependencies) -> [any Service] {
        let runtime = deps.runtime
        return [
            PeriodicTask(name: "classifier", interval: .seconds(3600), logger: runtime.logger) {
                try await deps.training.trainIfOlder(than: deps.settings.retrainAfter, logger: runtime.logger)
            }
        ]
    }
}

public func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    try await Triage.buildApplication(reader: reader, clock: SystemClock())
}

/// The application on `clock` (tests pass one they control).
public func buildApplication(reader: ConfigReader, clock: any WallClock) async throws -> some ApplicationProtocol {
    try await Triage.buildApplication(reader: reader, clock: clock)
}

public func buildRouter(_ deps: TriageDependencies) -> Router<AppRequestContext> { Triage.buildRouter(deps) }
