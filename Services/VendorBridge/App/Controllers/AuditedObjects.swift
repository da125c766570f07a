import TierdeskKit

/// What vendor-bridge records in the audit trail: vendors with their webhook, categories and
/// contract (never the key's hashes or the sealed signing secret), and webhook redeliveries.
extension AuditObject {
    static let vendor = AuditObject(type: "vendor", table: "vendors")
    /// Where and how a webhook fared, not its body.
    static let webhookDelivery = AuditObject(
        type: "webhook_delivery", table: "webhook_deliveries",
        columns: ["id", "vendor_id", "case_id", "type", "status", "attempts", "next_attempt_at", "last_error", "created_at", "delivered_at", "dead_at"])
}
