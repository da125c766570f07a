import Foundation
import TierdeskModels

/// Everything triage decides with: the admin's rules, VIPs and category defaults, and the trained
/// category model. Read from the database and cached per replica (`PolicyCache`).
public struct TriagePolicy: Sendable {
    /// In the order they are tried: by position, then oldest first.
    public var rules: [TriageRule]
    public var classifier: TextClassifier?
    /// Below this confidence the classifier's proposal is shown but not used.
    public var threshold: Double
    /// Lowercased VIP email addresses and domains.
    public var vipEmails: Set<String>
    public var vipDomains: Set<String>
    public var categoryDefaults: [String: CategoryDefaults]
    /// The highest priority a requester's own statement of impact and urgency reaches (default P3).
    public var requesterCap: Priority

    public init(
        rules: [TriageRule] = [], classifier: TextClassifier? = nil, threshold: Double = 0.7, vipEmails: Set<String> = [], vipDomains: Set<String> = [],
        categoryDefaults: [String: CategoryDefaults] = [:], requesterCap: Priority = .p3
    ) {
        self.requesterCap = requesterCap
        self.rules = rules
        self.classifier = classifier
        self.threshold = threshold
        self.vipEmails = vipEmails
        self.vipDomains = vipDomains
        self.categoryDefaults = categoryDefaults
    }
}

/// What triage reads of a ticket (a new one, or a dry run's draft).
public struct TriageInput: Sendable {
    public var subject: String
    public var description: String
    public var channel: TierdeskModels.Channel
    /// The category the requester chose, if any.
    public var category: String?
    /// Nil where the requester gave none.
    public var impact: Impact?
    public var urgency: Urgency?
    public var requesterEmail: String?
    public var metadataKeys: Set<String>
    /// The integration the ticket came through, as intake recorded it (`channelDetails.integration.name`).
    public var integration: String?
    /// An agent, the admin or an integration submitted it: its category, impact and urgency are vouched for.
    public var vouched: Bool
    /// The requester's address is proven (vouched for, or mail that passed authentication): only
    /// then may a VIP entry raise the priority.
    public var requesterVerified: Bool

    public init(
        subject: String, description: String, channel: TierdeskModels.Channel, category: String?, impact: Impact?, urgency: Urgency?, requesterEmail: String?,
        metadataKeys: Set<String>, integration: String? = nil, vouched: Bool = false, requesterVerified: Bool = false
    ) {
        self.integration = integration
        self.vouched = vouched
        self.requesterVerified = requesterVerified
        self.subject = subject
        self.description = description
        self.channel = channel
        self.category = category
        self.impact = impact
        self.urgency = urgency
        self.requesterEmail = requesterEmail
        self.metadataKeys = metadataKeys
    }

    /// A stored ticket as intake's `ticket.created` describes it (`SubmissionFacts`).
    public init(ticket: Ticket, facts: SubmissionFacts) {
        self.init(
            subject: ticket.subject, description: ticket.description, channel: ticket.channel, category: ticket.category,
            impact: facts.defaulted.contains("impact") ? nil : ticket.impact, urgency: facts.defaulted.contains("urgency") ? nil : ticket.urgency,
            requesterEmail: ticket.requester.email, metadataKeys: Set(ticket.metadata.keys),
            integration: ticket.channelDetails["integration"]?["name"]?.stringValue, vouched: facts.submittedBy.vouches,
            requesterVerified: facts.requesterVerified)
    }

    public init(draft: RuleTestRequest) {
        let vouched = draft.vouched ?? false
        self.init(
            subject: draft.subject, description: draft.description, channel: draft.channel ?? .web, category: draft.category, impact: draft.impact,
            urgency: draft.urgency, requesterEmail: draft.requesterEmail, metadataKeys: Set((draft.metadata ?? [:]).keys), integration: draft.integration,
            vouched: vouched || draft.integration != nil,
            requesterVerified: vouched || draft.integration != nil)
    }

    var requesterDomain: String? {
        requesterEmail.flatMap { $0.split(separator: "@").last.map { $0.lowercased() } }
    }
}

/// Triage's decision, pure so every branch is unit-tested: the first matching rule routes; the
/// classifier proposes a category when nothing set one; priority is the ITIL matrix over impact and
/// urgency (the rule's, else the requester's, else the category's defaults, else medium), raised one
/// step for a verified VIP, and held at the requester cap when it rests on a statement nobody
/// vouched for. The explanation says why, rule by rule.
public enum TriageEngine {
    public static func decide(_ input: TriageInput, policy: TriagePolicy) -> TriageDecision {
        let words = TextClassifier.words(input.subject + "\n" + input.description)
        var outcomes: [RuleOutcome] = []
        var matched: TriageRule?
        for rule in policy.rules {
            let (ok, reason) = match(rule.match, input, words: words)
            outcomes.append(RuleOutcome(ruleId: rule.id, name: rule.name, matched: ok, reason: reason))
            if ok {
                matched = rule
                break
            }
        }
        let route = matched?.route ?? RuleRoute()

        var category = route.category ?? input.category
        var classifierOutcome: ClassifierOutcome?
        if let classifier = policy.classifier {
            let prediction = classifier.predict(input.subject + "\n" + input.description)
            let confident = (prediction?.confidence ?? 0) >= policy.threshold
            let reason: String
            switch (prediction, category) {
            case (nil, _): reason = "none of the ticket's words is known to the model"
            case (_, let set?): reason = route.category != nil ? "the rule set the category \(set)" : "the requester chose the category \(set)"
            case (let prediction?, nil) where !confident:
                reason = "confidence \(percent(prediction.confidence)) is below the threshold \(percent(policy.threshold)): category left empty"
            case (let prediction?, nil): reason = "confidence \(percent(prediction.confidence)) reaches the threshold \(percent(policy.threshold))"
            }
            let used = category == nil && confident && prediction != nil
            classifierOutcome = ClassifierOutcome(
                category: prediction?.label, confidence: prediction?.confidence ?? 0, used: used, reason: reason,
                topTerms: prediction?.topTerms.map(\.term) ?? [])
            if used { category = prediction?.label }
        }

        let categorySource: CategorySource? =
            category == nil
            ? nil : route.category != nil ? .rule : category == input.category ? (input.vouched ? .principal : .requester) : .classifier
        let defaults = category.flatMap { policy.categoryDefaults[$0] }
        let (impact, impactFrom) = pick(input.impact, route.impact, defaults?.impact, category: category)
        let (urgency, urgencyFrom) = pick(input.urgency, route.urgency, defaults?.urgency, category: category)
        let matrix = Priority(impact: impact, urgency: urgency)
        let vip = vipReason(input, policy: policy)
        var priority = vip == nil ? matrix : matrix.raised
        var capped: String?
        let stated = impactFrom == Self.requester || urgencyFrom == Self.requester
        if stated, !input.vouched, vip == nil, priority.rank < policy.requesterCap.rank {
            priority = policy.requesterCap
            capped = "the requester's own impact and urgency reach at most \(policy.requesterCap.rawValue) unless a rule, an agent or an integration sets them"
        }

        let tier: Int? = route.reject != nil ? nil : route.vendorId != nil ? Tier.vendor.rawValue : route.tier ?? Tier.firstLine.rawValue
        return TriageDecision(
            tier: tier, priority: priority, impact: impact, urgency: urgency, category: category, skills: route.skills ?? [], vendorId: route.vendorId,
            reject: route.reject, ruleId: matched?.id, categorySource: categorySource,
            explanation: TriageExplanation(
                rules: outcomes, classifier: classifierOutcome,
                priority: PriorityOutcome(
                    impact: impact, impactFrom: impactFrom, urgency: urgency, urgencyFrom: urgencyFrom, matrix: matrix, raisedBy: vip, cappedBy: capped,
                    result: priority)))
    }

    /// Whether a rule's criteria all hold, and why (the first that fails, or what matched).
    static func match(_ match: RuleMatch, _ input: TriageInput, words: [String]) -> (Bool, String) {
        var found: [String] = []
        if let keywords = match.keywords, !keywords.isEmpty {
            guard let hit = keywords.first(where: { contains(words, phrase: TextClassifier.words($0)) }) else {
                return (false, "none of the keywords \(list(keywords)) is a word of the subject or description")
            }
            found.append("keyword '\(hit)'")
        }
        if let channels = match.channels, !channels.isEmpty {
            guard channels.contains(input.channel) else {
                return (false, "channel \(input.channel.rawValue) is not one of \(list(channels.map(\.rawValue)))")
            }
            found.append("channel \(input.channel.rawValue)")
        }
        if let categories = match.categories, !categories.isEmpty {
            guard let category = input.category, categories.contains(category) else {
                return (false, "category \(input.category ?? "(none)") is not one of \(list(categories))")
            }
            found.append("category \(category)")
        }
        if let domains = match.requesterDomains, !domains.isEmpty {
            guard let domain = input.requesterDomain, let hit = domains.first(where: { domain == $0.lowercased() || domain.hasSuffix("." + $0.lowercased()) })
            else {
                return (false, "requester domain \(input.requesterDomain ?? "(none)") is not one of \(list(domains))")
            }
            found.append("requester domain \(hit)")
        }
        if let keys = match.metadataKeys, !keys.isEmpty {
            guard let key = keys.first(where: input.metadataKeys.contains) else {
                return (false, "the ticket's metadata has none of the keys \(list(keys))")
            }
            found.append("metadata key '\(key)'")
        }
        if let integrations = match.integrations, !integrations.isEmpty {
            guard let integration = input.integration, let hit = integrations.first(where: { $0.lowercased() == integration.lowercased() }) else {
                return (false, "integration \(input.integration ?? "(none)") is not one of \(list(integrations))")
            }
            found.append("integration '\(hit)'")
        }
        return (true, "matched: " + found.joined(separator: ", "))
    }

    /// Whether `words` holds `phrase` as consecutive whole words.
    static func contains(_ words: [String], phrase: [String]) -> Bool {
        guard !phrase.isEmpty, phrase.count <= words.count else { return false }
        return (0...(words.count - phrase.count)).contains { start in Array(words[start..<(start + phrase.count)]) == phrase }
    }

    static func pick<T: RawRepresentable>(_ given: T?, _ rule: T?, _ categoryDefault: T?, category: String?) -> (T, String) where T.RawValue == String {
        if let rule { return (rule, "the rule") }
        if let given { return (given, requester) }
        if let categoryDefault, let category { return (categoryDefault, "the defaults of category \(category)") }
        return (T(rawValue: "medium")!, "the default (medium)")
    }

    /// How `pick` names a value the requester stated.
    static let requester = "the requester"

    /// A VIP entry raises the priority only for a requester whose address is proven.
    static func vipReason(_ input: TriageInput, policy: TriagePolicy) -> String? {
        guard input.requesterVerified else { return nil }
        if let email = input.requesterEmail?.lowercased(), policy.vipEmails.contains(email) { return "the requester \(email) is a VIP" }
        if let domain = input.requesterDomain, policy.vipDomains.contains(domain) { return "the requester's domain \(domain) is a VIP domain" }
        return nil
    }

    static func list(_ values: [String]) -> String { "[" + values.joined(separator: ", ") + "]" }

    static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded())) %" }
}
