import Foundation
import Testing
import TierdeskModels
import TriageApp

/// The decision itself, without a database: rule order and criteria, the explanation, the
/// classifier's threshold, priority with defaults and VIPs.
@Suite struct TriageEngineTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func rule(_ name: String, _ position: Int, _ match: RuleMatch, _ route: RuleRoute) -> TriageRule {
        TriageRule(id: UUID(), name: name, position: position, match: match, route: route, createdAt: now, updatedAt: now)
    }

    static func input(
        _ subject: String, _ description: String = "", channel: TierdeskModels.Channel = .web, category: String? = nil, impact: Impact? = nil,
        urgency: Urgency? = nil,
        email: String = "dana@nordlicht.example", metadata: Set<String> = [], vouched: Bool = true, verified: Bool? = nil
    ) -> TriageInput {
        TriageInput(
            subject: subject, description: description, channel: channel, category: category, impact: impact, urgency: urgency, requesterEmail: email,
            metadataKeys: metadata, vouched: vouched, requesterVerified: verified ?? vouched)
    }

    @Test func aRequestersOwnImpactAndUrgencyReachAtMostTheCapUnlessSomebodyVouches() {
        let policy = TriagePolicy(requesterCap: .p3)
        let anonymous = TriageEngine.decide(Self.input("Down", impact: .high, urgency: .high, vouched: false), policy: policy)
        #expect(anonymous.priority == .p3 && anonymous.impact == .high && anonymous.urgency == .high, "capped, and the statement is kept")
        #expect(anonymous.explanation.priority.cappedBy?.contains("P3") == true && anonymous.explanation.priority.matrix == .p1)
        #expect(TriageEngine.decide(Self.input("Down", impact: .high, urgency: .high), policy: policy).priority == .p1, "an agent or integration")
        #expect(TriageEngine.decide(Self.input("Down", impact: .low, urgency: .low, vouched: false), policy: policy).priority == .p5, "a cap, not a floor")
        let rule = Self.rule("outage", 1, RuleMatch(keywords: ["down"]), RuleRoute(impact: .high, urgency: .high))
        #expect(TriageEngine.decide(Self.input("Down", vouched: false), policy: TriagePolicy(rules: [rule])).priority == .p1, "a rule's own values")
        let vip = TriagePolicy(vipEmails: ["dana@nordlicht.example"])
        #expect(TriageEngine.decide(Self.input("Down", impact: .high, urgency: .medium, vouched: false, verified: true), policy: vip).priority == .p1)
    }

    @Test func aVIPEntryRaisesOnlyAVerifiedRequester() {
        let policy = TriagePolicy(vipEmails: ["dana@nordlicht.example"], vipDomains: ["board.example"])
        let typed = TriageEngine.decide(Self.input("Laptop", impact: .medium, urgency: .medium, vouched: false), policy: policy)
        #expect(typed.priority == .p3 && typed.explanation.priority.raisedBy == nil, "an email typed into a form makes nobody a VIP")
        let proven = TriageEngine.decide(Self.input("Laptop", impact: .medium, urgency: .medium, vouched: false, verified: true), policy: policy)
        #expect(proven.priority == .p2, "mail that passed DMARC proves the address")
    }

    @Test func aRuleMatchesTheIntegrationATicketCameThroughNeverAClaim() {
        let rule = Self.rule("monitoring", 1, RuleMatch(integrations: ["Zabbix"]), RuleRoute(tier: 3, category: "monitoring"))
        let policy = TriagePolicy(rules: [rule])
        var alert = Self.input("Disk full on db-3", channel: .api)
        alert.integration = "zabbix"
        #expect(TriageEngine.decide(alert, policy: policy).tier == 3)
        let claim = Self.input("Disk full on db-3", "sent by Zabbix", channel: .api, metadata: ["integration"])
        let decided = TriageEngine.decide(claim, policy: policy)
        #expect(decided.tier == 1 && decided.explanation.rules[0].reason == "integration (none) is not one of [Zabbix]")
    }

    @Test func theDecisionSaysWhoSetTheCategory() {
        let rule = Self.rule("printers", 1, RuleMatch(keywords: ["printer"]), RuleRoute(category: "printing"))
        let policy = TriagePolicy(rules: [rule])
        #expect(TriageEngine.decide(Self.input("Printer jam"), policy: policy).categorySource == .rule)
        #expect(TriageEngine.decide(Self.input("Hello", category: "network", vouched: false), policy: policy).categorySource == .requester)
        #expect(TriageEngine.decide(Self.input("Hello", category: "network"), policy: policy).categorySource == .principal)
        #expect(TriageEngine.decide(Self.input("Hello"), policy: policy).categorySource == nil)
        #expect(!CategorySource.requester.trusted && CategorySource.classifier.trusted)
    }

    @Test func theFirstMatchingRuleRoutesAndEachEarlierOneSaysWhyNot() {
        let rules = [
            Self.rule("printers", 10, RuleMatch(keywords: ["printer"]), RuleRoute(tier: 1, category: "printing")),
            Self.rule("email channel", 20, RuleMatch(channels: [.email]), RuleRoute(tier: 3)),
            Self.rule("vpn", 30, RuleMatch(keywords: ["vpn", "anyconnect"]), RuleRoute(tier: 2, skills: ["network"])),
            Self.rule("vpn again", 40, RuleMatch(keywords: ["vpn"]), RuleRoute(tier: 3)),
        ]
        let decision = TriageEngine.decide(Self.input("VPN drops every hour", "AnyConnect says goodbye"), policy: TriagePolicy(rules: rules))
        #expect(decision.tier == 2 && decision.skills == ["network"] && decision.ruleId == rules[2].id)
        #expect(decision.explanation.rules.map(\.matched) == [false, false, true], "rules after the match are not tried")
        #expect(decision.explanation.rules[0].reason.contains("none of the keywords [printer]"))
        #expect(decision.explanation.rules[1].reason.contains("channel web is not one of [email]"))
        #expect(decision.explanation.rules[2].reason == "matched: keyword 'vpn'")
    }

    @Test func keywordsAreWholeWordsAndPhrasesCaseAndAccentInsensitive() {
        let rules = [
            Self.rule("mail", 1, RuleMatch(keywords: ["mail"]), RuleRoute(tier: 2)),
            Self.rule("phrase", 2, RuleMatch(keywords: ["drucker kaputt"]), RuleRoute(tier: 3)),
        ]
        let policy = TriagePolicy(rules: rules)
        #expect(TriageEngine.decide(Self.input("Gmail is slow"), policy: policy).tier == 1, "'mail' is not a word of 'Gmail'")
        #expect(TriageEngine.decide(Self.input("MAIL stuck"), policy: policy).tier == 2)
        #expect(TriageEngine.decide(Self.input("Hilfe", "Der DRÜCKER... Drucker kaputt!"), policy: policy).tier == 3)
        #expect(TriageEngine.decide(Self.input("Drucker ist kaputt"), policy: policy).tier == 1, "a phrase needs its words in a row")
    }

    @Test func everyCriterionMustHold() {
        let rule = Self.rule(
            "all", 1,
            RuleMatch(keywords: ["outage"], channels: [.email], categories: ["network"], requesterDomains: ["nordlicht.example"], metadataKeys: ["site"]),
            RuleRoute(tier: 3))
        let policy = TriagePolicy(rules: [rule])
        let full = Self.input("Outage", channel: .email, category: "network", email: "a@hq.nordlicht.example", metadata: ["site"])
        #expect(TriageEngine.decide(full, policy: policy).tier == 3, "a subdomain is in its domain")
        var other = full
        other.requesterEmail = "a@example.com"
        let missed = TriageEngine.decide(other, policy: policy)
        #expect(missed.tier == 1 && missed.ruleId == nil)
        #expect(missed.explanation.rules[0].reason.contains("requester domain example.com"))
        other = full
        other.metadataKeys = []
        #expect(TriageEngine.decide(other, policy: policy).explanation.rules[0].reason.contains("metadata has none of the keys [site]"))
    }

    @Test func vendorAndRejectRoutes() {
        let vendor = UUID()
        let policy = TriagePolicy(rules: [
            Self.rule("wan", 1, RuleMatch(keywords: ["mpls"]), RuleRoute(category: "network", vendorId: vendor)),
            Self.rule("coffee", 2, RuleMatch(keywords: ["coffee"]), RuleRoute(reject: "Facilities, please")),
        ])
        let toVendor = TriageEngine.decide(Self.input("MPLS down in Hamburg"), policy: policy)
        #expect(toVendor.tier == 4 && toVendor.vendorId == vendor && toVendor.category == "network")
        let rejected = TriageEngine.decide(Self.input("The coffee machine leaks"), policy: policy)
        #expect(rejected.tier == nil && rejected.reject == "Facilities, please")
    }

    @Test func priorityIsTheMatrixWithDefaultsAndVIPsRaisingOneStep() {
        let policy = TriagePolicy(
            rules: [Self.rule("urgent", 1, RuleMatch(keywords: ["fire"]), RuleRoute(urgency: .high))], vipEmails: ["ceo@nordlicht.example"],
            vipDomains: ["board.example"], categoryDefaults: ["printing": CategoryDefaults(category: "printing", impact: .low, urgency: .low)])
        let plain = TriageEngine.decide(Self.input("Hello"), policy: policy)
        #expect(plain.priority == .p3 && plain.explanation.priority.impactFrom == "the default (medium)")
        let printing = TriageEngine.decide(Self.input("Toner", category: "printing"), policy: policy)
        #expect(printing.priority == .p5 && printing.explanation.priority.urgencyFrom == "the defaults of category printing")
        let given = TriageEngine.decide(Self.input("Toner", category: "printing", impact: .high, urgency: .high), policy: policy)
        #expect(given.priority == .p1, "the requester's own values win over the category's defaults")
        let ruled = TriageEngine.decide(Self.input("fire in the printer", category: "printing", urgency: .low), policy: policy)
        #expect(ruled.urgency == .high && ruled.impact == .low && ruled.priority == .p3, "the rule's urgency wins")
        let ceo = TriageEngine.decide(Self.input("Hello", email: "CEO@nordlicht.example"), policy: policy)
        #expect(ceo.priority == .p2 && ceo.explanation.priority.matrix == .p3 && ceo.explanation.priority.raisedBy?.contains("VIP") == true)
        let board = TriageEngine.decide(Self.input("Hello", impact: .high, urgency: .high, email: "x@board.example"), policy: policy)
        #expect(board.priority == .p1, "P1 stays P1")
    }

    @Test func theClassifierFillsAnEmptyCategoryOnlyWhenConfident() {
        let classifier = TextClassifier.train(
            (0..<20).flatMap { index in
                [
                    TextClassifier.Example(text: "printer toner jam paper \(index)", label: "printing"),
                    TextClassifier.Example(text: "password locked account login \(index)", label: "access"),
                ]
            })
        let confident = TriageEngine.decide(Self.input("The printer has a paper jam"), policy: TriagePolicy(classifier: classifier, threshold: 0.6))
        #expect(confident.category == "printing" && confident.explanation.classifier?.used == true)
        #expect(confident.explanation.classifier?.topTerms.contains("printer") == true)
        let strict = TriageEngine.decide(Self.input("The printer has a paper jam"), policy: TriagePolicy(classifier: classifier, threshold: 1.01))
        #expect(strict.category == nil && strict.explanation.classifier?.used == false)
        #expect(strict.explanation.classifier?.reason.contains("below the threshold") == true)
        let chosen = TriageEngine.decide(Self.input("The printer has a paper jam", category: "hardware"), policy: TriagePolicy(classifier: classifier))
        #expect(chosen.category == "hardware" && chosen.explanation.classifier?.category == "printing" && chosen.explanation.classifier?.used == false)
        let unknown = TriageEngine.decide(Self.input("zzz qqq"), policy: TriagePolicy(classifier: classifier))
        #expect(unknown.category == nil && unknown.explanation.classifier?.reason.contains("none of the ticket's words") == true)
    }

    @Test func invalidRulesNameTheirField() {
        func fields(_ request: RuleRequest) -> [String] {
            do {
                try request.validate()
                return []
            } catch { return error.errors?.map(\.field) ?? ["?"] }
        }
        #expect(fields(RuleRequest(name: "ok", match: RuleMatch(keywords: ["vpn"]), route: RuleRoute(tier: 2))) == [])
        #expect(fields(RuleRequest(name: "empty", match: RuleMatch(), route: RuleRoute(tier: 2))) == ["match"])
        #expect(fields(RuleRequest(name: "tier", match: RuleMatch(keywords: ["x"]), route: RuleRoute(tier: 4))) == ["route.tier"])
        #expect(fields(RuleRequest(name: "both", match: RuleMatch(keywords: ["x"]), route: RuleRoute(tier: 2, reject: "no"))) == ["route"])
        #expect(fields(RuleRequest(name: "", match: RuleMatch(keywords: [" "]), route: RuleRoute())) == ["name", "match.keywords[0]", "route"])
        #expect(
            fields(RuleRequest(name: "d", match: RuleMatch(requesterDomains: ["not a domain"]), route: RuleRoute(tier: 1))) == ["match.requesterDomains[0]"])
    }
}
