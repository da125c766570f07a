import Foundation

/// One row of the audit trail (`GET /v1/audit`): who changed which object, when, from where, and the
/// object as it was (`before`, absent for a creation) and as it became (`after`, absent for a
/// deletion). `personId` is the staff person; absent only for a non-person actor, which `actor` names.
public struct AuditEvent: Sendable, Codable, Equatable {
    public var id: UUID
    public var at: Date
    public var personId: UUID?
    /// `agent:<id>`, `vendor:<id>`, `admin token`, ...: who acted, person or not.
    public var actor: String
    /// `<objectType>.<verb>`: `triage_rule.deleted`, `vendor.key_rotated`, ...
    public var action: String
    public var objectType: String
    public var objectId: String
    public var before: JSONValue?
    public var after: JSONValue?
    public var requestId: String?
    public var clientAddress: String?

    public init(
        id: UUID, at: Date, personId: UUID?, actor: String, action: String, objectType: String, objectId: String, before: JSONValue?,
        after: JSONValue?, requestId: String?, clientAddress: String?
    ) {
        self.id = id
        self.at = at
        self.personId = personId
        self.actor = actor
        self.action = action
        self.objectType = objectType
        self.objectId = objectId
        self.before = before
        self.after = after
        self.requestId = requestId
        self.clientAddress = clientAddress
    }
}

/// One version of a knowledge-base article (`GET /v1/kb/articles/{id}/versions`): its text and
/// status as they were from `at` on. Version 1 is the first; every change of text or status adds one.
public struct ArticleVersion: Sendable, Codable, Equatable {
    public var articleId: UUID
    public var version: Int
    public var at: Date
    public var slug: String?
    public var title: String
    public var body: String
    public var tags: [String]
    public var category: String?
    public var status: Article.Status

    public init(
        articleId: UUID, version: Int, at: Date, slug: String?, title: String, body: String, tags: [String], category: String?, status: Article.Status
    ) {
        self.articleId = articleId
        self.version = version
        self.at = at
        self.slug = slug
        self.title = title
        self.body = body
        self.tags = tags
        self.category = category
        self.status = status
    }
}
