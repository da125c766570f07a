import TierdeskKit

/// What tier-queue records in the audit trail: staff people and their credentials, and the
/// settings of the levels (SLA policies, the calendar, escalation contracts, work modes).
extension AuditObject {
    static let agent = AuditObject(type: "agent", table: "agents")
    /// A policy by its priority's name (`P4`).
    static let slaPolicy = AuditObject(type: "sla_policy", table: "sla_policies", match: "'P' || t.priority = {id}")
    static let calendar = AuditObject(type: "calendar", table: "calendars", match: "t.name = {id}")
    static let escalationContract = AuditObject(type: "escalation_contract", table: "escalation_contracts", match: "t.tier::text = {id}")
    static let workMode = AuditObject(type: "work_mode", table: "work_modes", match: "t.category = {id}")
}
