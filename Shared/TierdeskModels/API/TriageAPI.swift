import Foundation

/// What a triage rule looks for. Every criterion given must match (keywords: any of them, as
/// whole words in subject or description, case- and accent-insensitive; the others: any value).
public struct RuleMatch: Sendable, Codable, Equatable {
    public var keywords: [String]?
    public var channels: [Channel]?
    public var categories: [String]?
    public var requesterDomains: [String]?
    public var metadataKeys: [String]?
    /// The integrations (by name) the ticket came through: the verified source
    /// (`channelDetails.integration`), which no caller can claim.
    public var integrations: [String]?

    public init(
        keywords: [String]? = nil, channels: [Channel]? = nil, categories: [String]? = nil, requesterDomains: [String]? = nil, metadataKeys: [String]? = nil,
        integrations: [String]? = nil
    ) {
        self.integrations = integrations
        self.keywords = keywords
        self.channels = channels
        self.categories = categories
        self.requesterDomains = requesterDomains
        self.metadataKeys = metadataKeys
    }

    public var isEmpty: Bool {
        [keywords?.count, channels?.count, categories?.count, requesterDomains?.count, metadataKeys?.count, integrations?.count].allSatisfy { ($0 ?? 0) == 0 }
    }
}

/// Where a matching ticket goes: a level (1-3), a vendor (level 4), or nowhere (`reject`, with the
/// reason the requester reads); and what it is (category, skills, impact, urgency).
public struct RuleRoute: Sendable, Codable, Equatable {
    public var tier: Int?
    public var category: String?
    public var skills: [String]?
    public var impact: Impact?
    public var urgency: Urgency?
    public var vendorId: UUID?
    public var reject: String?

    public init(
        tier: Int? = nil, category: String? = nil, skills: [String]? = nil, impact: Impact? = nil, urgency: Urgency? = nil, vendorId: UUID? = nil,
        reject: String? = nil
    ) {
        self.tier = tier
        self.category = category
        self.skills = skills
        self.impact = impact
        self.urgency = urgency
        self.vendorId = vendorId
        self.reject = reject
    }
}

/// `POST /v1/rules` and `PUT /v1/rules/{id}` (admin).
public struct RuleRequest: Sendable, Codable, Equatable {
    public var name: String
    public var position: Int?
    public var match: RuleMatch
    public var route: RuleRoute

    public init(name: String, position: Int? = nil, match: RuleMatch, route: RuleRoute) {
        self.name = name
        self.position = position
        self.match = match
        self.route = route
    }

    /// Everything that can be checked without the database (the vendor's existence is checked by the store).
    public func validate() throws(Problem) {
        var v = Validation()
        v.text(name, field: "name", maxLength: 200)
        if let position, !(0...1_000_000).contains(position) { v.fail("position", "must be between 0 and 1000000") }
        if match.isEmpty { v.fail("match", "must name at least one keyword, channel, category, requester domain, metadata key or integration") }
        Self.words(match.keywords, field: "match.keywords", into: &v)
        Self.list(match.channels, field: "match.channels", into: &v) { _ in true }
        Self.list(match.categories, field: "match.categories", into: &v) { SubmitTicketRequest.isSlug($0) && $0.count <= 64 }
        Self.list(match.requesterDomains, field: "match.requesterDomains", into: &v) { Self.isDomain($0) }
        Self.list(match.metadataKeys, field: "match.metadataKeys", into: &v) { !$0.isEmpty && $0.count <= 100 && !$0.contains("\u{0}") }
        Self.words(match.integrations, field: "match.integrations", into: &v)
        if let tier = route.tier, !(1...3).contains(tier) {
            v.fail("route.tier", "levels a rule routes to are 1, 2 or 3 (level 4 is route.vendorId)")
        }
        v.slug(route.category, field: "route.category", maxLength: 64)
        for (index, skill) in (route.skills ?? []).enumerated() { v.slug(skill, field: "route.skills[\(index)]", maxLength: 50) }
        if let reject = route.reject {
            v.text(reject, field: "route.reject", maxLength: 500, multiline: true)
            if route.tier != nil { v.fail("route", "a rule either routes to a level (tier) or rejects, not both") }
            if route.vendorId != nil { v.fail("route", "a rule either routes to a vendor or rejects, not both") }
        }
        if route.tier != nil && route.vendorId != nil { v.fail("route", "a rule routes to a level (tier) or to a vendor (level 4), not both") }
        if route == RuleRoute() { v.fail("route", "must set at least one of tier, category, skills, impact, urgency, vendorId or reject") }
        try v.check()
    }

    static func words(_ values: [String]?, field: String, into v: inout Validation) {
        list(values, field: field, into: &v) { value in
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && value.count <= 100 && !value.unicodeScalars.contains { $0.properties.generalCategory == .control }
        }
    }

    static func list<T>(_ values: [T]?, field: String, into v: inout Validation, _ valid: (T) -> Bool) {
        guard let values else { return }
        if values.count > 100 { v.fail(field, "must have at most 100 entries") }
        for (index, value) in values.enumerated() where !valid(value) { v.fail("\(field)[\(index)]", "is not valid") }
    }

    /// `example.com`, `mail.example.co.uk`: dotted labels of letters, digits and '-'.
    public static func isDomain(_ value: String) -> Bool {
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        return value.count <= 253 && labels.count >= 2
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            }
    }
}

/// A stored rule.
public struct TriageRule: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var position: Int
    public var match: RuleMatch
    public var route: RuleRoute
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, name: String, position: Int, match: RuleMatch, route: RuleRoute, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.position = position
        self.match = match
        self.route = route
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/rules/test`: a draft ticket, decided as triage would decide it now, storing nothing.
public struct RuleTestRequest: Sendable, Codable, Equatable {
    public var subject: String
    public var description: String
    public var channel: Channel?
    public var category: String?
    public var impact: Impact?
    public var urgency: Urgency?
    public var requesterEmail: String?
    public var metadata: [String: JSONValue]?
    /// The integration (by name) the draft comes through, if any.
    public var integration: String?
    /// Whether an agent, an integration or authenticated mail vouches for the submission (its
    /// category, impact and urgency, and the requester's address); default false: an anonymous form.
    public var vouched: Bool?

    public init(
        subject: String, description: String, channel: Channel? = nil, category: String? = nil, impact: Impact? = nil, urgency: Urgency? = nil,
        requesterEmail: String? = nil, metadata: [String: JSONValue]? = nil, integration: String? = nil, vouched: Bool? = nil
    ) {
        self.integration = integration
        self.vouched = vouched
        self.subject = subject
        self.description = description
        self.channel = channel
        self.category = category
        self.impact = impact
        self.urgency = urgency
        self.requesterEmail = requesterEmail
        self.metadata = metadata
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(subject, field: "subject", maxLength: 200)
        v.text(description, field: "description", maxLength: 20_000, multiline: true)
        v.slug(category, field: "category", maxLength: 64)
        if let requesterEmail { v.email(requesterEmail, field: "requesterEmail") }
        v.text(integration, field: "integration", required: false, maxLength: 100)
        try v.check()
    }
}

/// Why triage decided what it did: recorded in `ticket.triaged` and answered by the dry run.
public struct TriageExplanation: Sendable, Codable, Equatable {
    /// Each rule tried, in order, up to and including the one that matched.
    public var rules: [RuleOutcome]
    public var classifier: ClassifierOutcome?
    public var priority: PriorityOutcome
    /// What the known-error and recurring-incident checks found (absent in a dry run).
    public var problem: String?

    public init(rules: [RuleOutcome], classifier: ClassifierOutcome?, priority: PriorityOutcome, problem: String? = nil) {
        self.rules = rules
        self.classifier = classifier
        self.priority = priority
        self.problem = problem
    }
}

public struct RuleOutcome: Sendable, Codable, Equatable {
    public var ruleId: UUID
    public var name: String
    public var matched: Bool
    public var reason: String

    public init(ruleId: UUID, name: String, matched: Bool, reason: String) {
        self.ruleId = ruleId
        self.name = name
        self.matched = matched
        self.reason = reason
    }
}

public struct ClassifierOutcome: Sendable, Codable, Equatable {
    /// The category proposed, or nil when the model knows none of the words.
    public var category: String?
    public var confidence: Double
    /// Whether the proposal became the ticket's category (confident enough, and nothing set it before).
    public var used: Bool
    public var reason: String
    /// The words that weighed most for the proposal, strongest first.
    public var topTerms: [String]

    public init(category: String?, confidence: Double, used: Bool, reason: String, topTerms: [String]) {
        self.category = category
        self.confidence = confidence
        self.used = used
        self.reason = reason
        self.topTerms = topTerms
    }
}

public struct PriorityOutcome: Sendable, Codable, Equatable {
    public var impact: Impact
    public var impactFrom: String
    public var urgency: Urgency
    public var urgencyFrom: String
    /// The ITIL matrix's answer for impact × urgency.
    public var matrix: Priority
    /// Why it was raised one step (a verified VIP requester or domain), if it was.
    public var raisedBy: String?
    /// Why it was held at the cap (the requester's own statement of impact and urgency), if it was.
    public var cappedBy: String?
    public var result: Priority

    public init(
        impact: Impact, impactFrom: String, urgency: Urgency, urgencyFrom: String, matrix: Priority, raisedBy: String?, cappedBy: String? = nil,
        result: Priority
    ) {
        self.impact = impact
        self.impactFrom = impactFrom
        self.urgency = urgency
        self.urgencyFrom = urgencyFrom
        self.matrix = matrix
        self.raisedBy = raisedBy
        self.cappedBy = cappedBy
        self.result = result
    }
}

/// Triage's decision for one ticket.
public struct TriageDecision: Sendable, Codable, Equatable {
    /// The level it starts at: 1-3, or 4 with `vendorId`; nil when rejected.
    public var tier: Int?
    public var priority: Priority
    public var impact: Impact
    public var urgency: Urgency
    public var category: String?
    public var skills: [String]
    public var vendorId: UUID?
    /// The reason the requester reads when the ticket is closed as not an IT matter.
    public var reject: String?
    /// The rule that routed it, if any.
    public var ruleId: UUID?
    /// Who set the category: `rule`, `classifier`, `principal` (an agent, the admin or an
    /// integration submitted it) or `requester` (a statement nobody vouched for); nil without one.
    public var categorySource: CategorySource?
    public var explanation: TriageExplanation

    public init(
        tier: Int?, priority: Priority, impact: Impact, urgency: Urgency, category: String?, skills: [String], vendorId: UUID?, reject: String?,
        ruleId: UUID?, categorySource: CategorySource? = nil, explanation: TriageExplanation
    ) {
        self.categorySource = categorySource
        self.tier = tier
        self.priority = priority
        self.impact = impact
        self.urgency = urgency
        self.category = category
        self.skills = skills
        self.vendorId = vendorId
        self.reject = reject
        self.ruleId = ruleId
        self.explanation = explanation
    }
}

/// `GET /v1/classifier`: the category model triage uses now.
public struct ClassifierStatus: Sendable, Codable, Equatable {
    public var trained: Bool
    public var trainedAt: Date?
    public var examples: Int
    public var vocabularySize: Int
    public var categories: [String]
    /// On the held-out fifth of the examples.
    public var accuracy: Double?
    public var macroF1: Double?
    /// Always answering the most frequent category, on the same held-out part.
    public var baselineAccuracy: Double?
    public var baselineMacroF1: Double?
    public var threshold: Double

    public init(
        trained: Bool, trainedAt: Date?, examples: Int, vocabularySize: Int, categories: [String], accuracy: Double?, macroF1: Double?,
        baselineAccuracy: Double?, baselineMacroF1: Double?, threshold: Double
    ) {
        self.trained = trained
        self.trainedAt = trainedAt
        self.examples = examples
        self.vocabularySize = vocabularySize
        self.categories = categories
        self.accuracy = accuracy
        self.macroF1 = macroF1
        self.baselineAccuracy = baselineAccuracy
        self.baselineMacroF1 = baselineMacroF1
        self.threshold = threshold
    }
}

/// A VIP: a requester's email or a whole email domain whose tickets are raised one priority step.
public struct VIPEntry: Sendable, Codable, Equatable {
    public var id: UUID
    public var email: String?
    public var domain: String?
    public var createdAt: Date

    public init(id: UUID, email: String?, domain: String?, createdAt: Date) {
        self.id = id
        self.email = email
        self.domain = domain
        self.createdAt = createdAt
    }
}

/// `POST /v1/vip` (admin): exactly one of `email` and `domain`.
public struct VIPRequest: Sendable, Codable, Equatable {
    public var email: String?
    public var domain: String?

    public init(email: String? = nil, domain: String? = nil) {
        self.email = email
        self.domain = domain
    }

    public func validate() throws(Problem) {
        var v = Validation()
        switch (email, domain) {
        case (let email?, nil): v.email(email, field: "email")
        case (nil, let domain?): if !RuleRequest.isDomain(domain.lowercased()) { v.fail("domain", "must be a domain such as example.com") }
        default: v.fail("email", "give exactly one of email and domain")
        }
        try v.check()
    }
}

/// The impact and urgency a category's tickets get when the requester gave none
/// (`PUT /v1/categories/{name}`, admin).
public struct CategoryDefaults: Sendable, Codable, Equatable {
    public var category: String
    public var impact: Impact
    public var urgency: Urgency

    public init(category: String, impact: Impact, urgency: Urgency) {
        self.category = category
        self.impact = impact
        self.urgency = urgency
    }
}

public struct CategoryDefaultsRequest: Sendable, Codable, Equatable {
    public var impact: Impact
    public var urgency: Urgency

    public init(impact: Impact, urgency: Urgency) {
        self.impact = impact
        self.urgency = urgency
    }
}

/// Who set a ticket's category. Storms and recurring incidents count only what is `trusted`.
public enum CategorySource: String, Sendable, Codable, CaseIterable {
    case requester, principal, rule, classifier

    /// Set by a rule, the classifier or an authenticated principal: something somebody vouched for.
    public var trusted: Bool { self != .requester }
}
