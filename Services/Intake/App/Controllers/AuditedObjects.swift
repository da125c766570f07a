import TierdeskKit

/// What intake records in the audit trail: integration keys (never the key: its hash is left out),
/// the generation of a ticket's requester token, and knowledge-base articles (each version is also
/// kept whole in `kb_article_versions`).
extension AuditObject {
    static let integration = AuditObject(type: "integration", table: "integrations")
    /// The generation that revokes every earlier token of the ticket; the token itself is never stored.
    static let requesterToken = AuditObject(type: "requester_token", table: "requester_token_generations", match: "t.ticket_id = {id}::uuid")
    static let article = AuditObject(type: "kb_article", table: "kb_articles")
}
