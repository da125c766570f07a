import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of triage's policy tables (`triage_rules`, `vip_entries`, `category_defaults`,
/// `classifier_models`). Every change bumps `triage_policy_version` in its transaction, so every
/// replica's `PolicyCache` sees it.
public struct PolicyStore: Sendable {
    public init() {}

    // MARK: rules

    static let ruleColumns = "id, name, position, match::text AS match, route::text AS route, created_at, updated_at"

    public func rules(on executor: some DatabaseExecutor, logger: Logger) async throws -> [TriageRule] {
        try await executor.all(
            PostgresQuery(unsafeSQL: "SELECT \(Self.ruleColumns) FROM triage_rules ORDER BY position, created_at, id"), logger: logger, Self.rule)
    }

    public func rule(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> TriageRule? {
        try await executor.first(
            PostgresQuery(unsafeSQL: "SELECT \(Self.ruleColumns) FROM triage_rules WHERE id = $1", binds: try PostgresBindings(id)), logger: logger, Self.rule)
    }

    /// Creates a rule (`id` nil) or replaces one; nil when the rule to replace does not exist.
    /// Without a position a new rule goes last and a replaced one keeps its place.
    public func save(_ request: RuleRequest, id: UUID?, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> TriageRule? {
        if let vendorId = request.route.vendorId, try await !vendorIsActive(vendorId, on: connection, logger: logger) {
            throw TriageError.invalidRule(field: "route.vendorId", "no active vendor \(vendorId.uuidString.lowercased())")
        }
        let match = try JSONCoding.string(request.match)
        let route = try JSONCoding.string(request.route)
        let position = request.position.map(Int32.init)
        let saved: TriageRule?
        if let id {
            saved = try await connection.first(
                """
                UPDATE triage_rules SET name = \(request.name), position = coalesce(\(position), position), match = \(match)::jsonb,
                    route = \(route)::jsonb, updated_at = \(now)
                WHERE id = \(id)
                RETURNING \(unescaped: Self.ruleColumns)
                """, logger: logger, Self.rule)
        } else {
            saved = try await connection.first(
                """
                INSERT INTO triage_rules (id, name, position, match, route, created_at, updated_at)
                VALUES (\(UUID()), \(request.name), coalesce(\(position), (SELECT coalesce(max(position), 0) + 10 FROM triage_rules)),
                        \(match)::jsonb, \(route)::jsonb, \(now), \(now))
                RETURNING \(unescaped: Self.ruleColumns)
                """, logger: logger, Self.rule)
        }
        if saved != nil { try await bumpVersion(on: connection, logger: logger) }
        return saved
    }

    /// Deletes a rule; false when there was none.
    public func deleteRule(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let deleted = try await connection.first("DELETE FROM triage_rules WHERE id = \(id) RETURNING id", logger: logger) { _ in true } ?? false
        if deleted { try await bumpVersion(on: connection, logger: logger) }
        return deleted
    }

    static func rule(_ row: PostgresRandomAccessRow) throws -> TriageRule {
        TriageRule(
            id: try row.get("id"), name: try row.get("name"), position: Int(try row.get("position", as: Int32.self)),
            match: try JSONCoding.decoder.decode(RuleMatch.self, from: Data(try row.get("match", as: String.self).utf8)),
            route: try JSONCoding.decoder.decode(RuleRoute.self, from: Data(try row.get("route", as: String.self).utf8)),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"))
    }

    /// Vendors belong to vendor-bridge; triage reads whether one exists and is active.
    func vendorIsActive(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Bool {
        try await executor.first("SELECT active FROM vendors WHERE id = \(id)", logger: logger) { try $0.get("active", as: Bool.self) } ?? false
    }

    // MARK: VIPs and category defaults

    public func vips(on executor: some DatabaseExecutor, logger: Logger) async throws -> [VIPEntry] {
        try await executor.all("SELECT id, email, domain, created_at FROM vip_entries ORDER BY created_at, id", logger: logger) { row in
            VIPEntry(id: try row.get("id"), email: try row.get("email"), domain: try row.get("domain"), createdAt: try row.get("created_at"))
        }
    }

    /// Adds a VIP; an existing entry for the same email or domain is answered instead.
    public func addVIP(_ request: VIPRequest, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> VIPEntry {
        let email = request.email?.trimmingCharacters(in: .whitespaces).lowercased()
        let domain = request.domain?.lowercased()
        let target = email == nil ? "domain" : "email"
        // The no-op update makes an existing entry answer too, in the same statement.
        let entry = try await connection.first(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO vip_entries (id, email, domain, created_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (\(target)) DO UPDATE SET created_at = vip_entries.created_at
                    RETURNING id, email, domain, created_at
                    """, binds: try PostgresBindings(UUID(), email, domain, now)), logger: logger
        ) { row in VIPEntry(id: try row.get("id"), email: try row.get("email"), domain: try row.get("domain"), createdAt: try row.get("created_at")) }
        guard let entry else { throw TriageError.notFound("VIP entry") }
        try await bumpVersion(on: connection, logger: logger)
        return entry
    }

    public func removeVIP(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let deleted = try await connection.first("DELETE FROM vip_entries WHERE id = \(id) RETURNING id", logger: logger) { _ in true } ?? false
        if deleted { try await bumpVersion(on: connection, logger: logger) }
        return deleted
    }

    public func categoryDefaults(on executor: some DatabaseExecutor, logger: Logger) async throws -> [CategoryDefaults] {
        try await executor.all("SELECT category, impact, urgency FROM category_defaults ORDER BY category", logger: logger) { row in
            CategoryDefaults(category: try row.get("category"), impact: try row.get("impact"), urgency: try row.get("urgency"))
        }
    }

    public func setCategoryDefaults(_ defaults: CategoryDefaults, on connection: PostgresConnection, now: Date, logger: Logger) async throws {
        try await connection.execute(
            """
            INSERT INTO category_defaults (category, impact, urgency, updated_at)
            VALUES (\(defaults.category), \(defaults.impact.rawValue), \(defaults.urgency.rawValue), \(now))
            ON CONFLICT (category) DO UPDATE SET impact = excluded.impact, urgency = excluded.urgency, updated_at = excluded.updated_at
            """, logger: logger)
        try await bumpVersion(on: connection, logger: logger)
    }

    // MARK: the classifier

    /// Stores a newly trained model and returns its id; triage uses the newest.
    @discardableResult
    public func saveModel(
        _ classifier: TextClassifier, evaluation: TextClassifier.Evaluation?, on connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> Int64 {
        let id = try await connection.first(
            """
            INSERT INTO classifier_models (trained_at, examples, vocabulary_size, accuracy, macro_f1, baseline_accuracy, baseline_macro_f1, model)
            VALUES (\(now), \(Int32(classifier.exampleCount)), \(Int32(classifier.vocabularySize)), \(evaluation?.accuracy), \(evaluation?.macroF1),
                    \(evaluation?.baselineAccuracy), \(evaluation?.baselineMacroF1), \(try JSONCoding.string(classifier))::jsonb)
            RETURNING id
            """, logger: logger
        ) { try $0.get("id", as: Int64.self) }
        // Keep the newest few for comparison; older models only take space.
        try await connection.execute(
            "DELETE FROM classifier_models WHERE id NOT IN (SELECT id FROM classifier_models ORDER BY id DESC LIMIT 5)", logger: logger)
        try await bumpVersion(on: connection, logger: logger)
        guard let id else { throw TriageError.nothingToLearn }
        return id
    }

    /// The newest model with what was measured when it was trained.
    public func status(threshold: Double, on executor: some DatabaseExecutor, logger: Logger) async throws -> ClassifierStatus {
        let newest = try await executor.first(
            """
            SELECT trained_at, examples, vocabulary_size, accuracy, macro_f1, baseline_accuracy, baseline_macro_f1,
                   ARRAY(SELECT jsonb_array_elements_text(model->'labels')) AS categories
            FROM classifier_models ORDER BY id DESC LIMIT 1
            """, logger: logger
        ) { row in
            ClassifierStatus(
                trained: true, trainedAt: try row.get("trained_at"), examples: Int(try row.get("examples", as: Int32.self)),
                vocabularySize: Int(try row.get("vocabulary_size", as: Int32.self)), categories: try row.get("categories"),
                accuracy: try row.get("accuracy"), macroF1: try row.get("macro_f1"), baselineAccuracy: try row.get("baseline_accuracy"),
                baselineMacroF1: try row.get("baseline_macro_f1"), threshold: threshold)
        }
        return newest
            ?? ClassifierStatus(
                trained: false, trainedAt: nil, examples: 0, vocabularySize: 0, categories: [], accuracy: nil, macroF1: nil, baselineAccuracy: nil,
                baselineMacroF1: nil, threshold: threshold)
    }

    /// The resolved tickets with a category: what the classifier learns from (subject and description).
    public func trainingExamples(on executor: some DatabaseExecutor, logger: Logger) async throws -> [TextClassifier.Example] {
        try await executor.all(
            """
            SELECT subject, description, category FROM tickets
            WHERE status IN ('resolved', 'closed') AND category IS NOT NULL AND (tier IS NULL OR tier <> 0)
            ORDER BY created_at DESC, id LIMIT 50000
            """, logger: logger
        ) { row in
            TextClassifier.Example(
                text: try row.get("subject", as: String.self) + "\n" + (try row.get("description", as: String.self)), label: try row.get("category"))
        }
    }

    // MARK: the policy as a whole

    func bumpVersion(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("UPDATE triage_policy_version SET version = version + 1", logger: logger)
    }

    public func version(on executor: some DatabaseExecutor, logger: Logger) async throws -> Int64 {
        try await executor.first("SELECT version FROM triage_policy_version", logger: logger) { try $0.get("version", as: Int64.self) } ?? 0
    }

    /// Everything triage decides with, as of `version`.
    public func load(threshold: Double, requesterCap: Priority = .p3, on executor: some DatabaseExecutor, logger: Logger) async throws -> (
        version: Int64, policy: TriagePolicy
    ) {
        let version = try await version(on: executor, logger: logger)
        let model = try await executor.first("SELECT model::text AS model FROM classifier_models ORDER BY id DESC LIMIT 1", logger: logger) {
            try JSONCoding.decoder.decode(TextClassifier.self, from: Data(try $0.get("model", as: String.self).utf8))
        }
        let vips = try await vips(on: executor, logger: logger)
        let defaults = try await categoryDefaults(on: executor, logger: logger)
        let policy = TriagePolicy(
            rules: try await rules(on: executor, logger: logger), classifier: model, threshold: threshold,
            vipEmails: Set(vips.compactMap(\.email)), vipDomains: Set(vips.compactMap(\.domain)),
            categoryDefaults: Dictionary(defaults.map { ($0.category, $0) }, uniquingKeysWith: { _, last in last }), requesterCap: requesterCap)
        return (version, policy)
    }
}

/// Each replica's copy of the policy. It asks the database for the policy's version at most every
/// `recheck` (default half a second) and reloads when another replica changed it, so a rule saved
/// anywhere applies to the next ticket everywhere within a second, without a NOTIFY. The recheck
/// counts by `clock` (the service's), so tests move the clock instead of waiting; a clock set back rechecks.
public actor PolicyCache {
    let store = PolicyStore()
    let threshold: Double
    let requesterCap: Priority
    let recheck: Duration
    let clock: any WallClock
    var cached: (version: Int64, policy: TriagePolicy)?
    var checkedAt: Date?

    public init(threshold: Double, requesterCap: Priority = .p3, recheck: Duration = .milliseconds(500), clock: any WallClock = SystemClock()) {
        self.threshold = threshold
        self.requesterCap = requesterCap
        self.recheck = recheck
        self.clock = clock
    }

    /// The policy, read again from the database when another replica changed it (checked at most every `recheck`).
    public func current(on executor: some DatabaseExecutor, logger: Logger) async throws -> TriagePolicy {
        let now = clock.now()
        if let cached, let checkedAt, (0..<recheck.seconds).contains(now.timeIntervalSince(checkedAt)) { return cached.policy }
        if let cached, try await store.version(on: executor, logger: logger) == cached.version {
            checkedAt = now
            return cached.policy
        }
        let loaded = try await store.load(threshold: threshold, requesterCap: requesterCap, on: executor, logger: logger)
        cached = loaded
        checkedAt = now
        return loaded.policy
    }
}
