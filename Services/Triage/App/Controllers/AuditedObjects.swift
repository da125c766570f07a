import TierdeskKit

/// What triage records in the audit trail: its administrators' rules, VIPs, category defaults and
/// trained models, and the problems level 3 works.
extension AuditObject {
    static let triageRule = AuditObject(type: "triage_rule", table: "triage_rules")
    static let vip = AuditObject(type: "vip", table: "vip_entries")
    static let categoryDefaults = AuditObject(type: "category_defaults", table: "category_defaults", match: "t.category = {id}")
    /// The model's figures, not its weights.
    static let classifierModel = AuditObject(
        type: "classifier_model", table: "classifier_models", match: "t.id = {id}::bigint",
        columns: ["id", "trained_at", "examples", "vocabulary_size", "accuracy", "macro_f1", "baseline_accuracy", "baseline_macro_f1"])
    static let problem = AuditObject(type: "problem", table: "problems")
}
