import TierdeskKit

/// What tier-queue records in the audit trail: staff people and their credentials, and the
/// settings of the levels (SLA policies, the calendar, escalation contracts, work modes).
extension AuditObject {
    static let agent = AuditObject(type: "agent", table: "agents")
    /// A person's live credentials (tokens and sessions not revoked or expired), by the person's id:
    /// what a rotation or a revocation of them all changes. Never a token or its hash.
    static let agentCredentials = AuditObject(
        type: "agent", table: "staff_tokens", match: "t.person_id = {id}::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())")
    /// One staff token by its id (issued, revoked), for the routes that manage tokens one by one.
    static let staffToken = AuditObject(type: "staff_token", table: "staff_tokens")
    /// A policy by its priority's name (`P4`).
    static let slaPolicy = AuditObject(type: "sla_policy", table: "sla_policies", match: "'P' || t.priority = {id}")
    static let calendar = AuditObject(type: "calendar", table: "calendars", match: "t.name = {id}")
    static let escalationContract = AuditObject(type: "escalation_contract", table: "escalation_contracts", match: "t.tier::text = {id}")
    static let workMode = AuditObject(type: "work_mode", table: "work_modes", match: "t.category = {id}")
}
