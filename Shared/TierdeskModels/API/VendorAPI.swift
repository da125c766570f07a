import Foundation

/// `POST /v1/vendors` (admin).
public struct CreateVendorRequest: Sendable, Codable, Equatable {
    public var name: String
    public var webhookUrl: String
    public var categories: [String]
    /// Products covered, beside the categories (free text, e.g. "Cisco ASR 1000").
    public var products: [String]?
    public var contract: VendorContract?
    /// When the API key stops working (in the future); nil: never.
    public var apiKeyExpiresAt: Date?

    public init(
        name: String, webhookUrl: String, categories: [String], products: [String]? = nil, contract: VendorContract? = nil, apiKeyExpiresAt: Date? = nil
    ) {
        self.apiKeyExpiresAt = apiKeyExpiresAt
        self.name = name
        self.webhookUrl = webhookUrl
        self.categories = categories
        self.products = products
        self.contract = contract
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(name, field: "name", maxLength: 200)
        Self.validate(webhookUrl: webhookUrl, categories: categories, products: products, contract: contract, into: &v)
        try v.check()
    }

    static func validate(webhookUrl: String?, categories: [String]?, products: [String]?, contract: VendorContract?, into v: inout Validation) {
        if let webhookUrl {
            v.text(webhookUrl, field: "webhookUrl", maxLength: 2000)
            if let url = URL(string: webhookUrl), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host?.isEmpty == false {
            } else {
                v.fail("webhookUrl", "must be an absolute http(s) URL")
            }
        }
        for (index, category) in (categories ?? []).enumerated() where !SubmitTicketRequest.isSlug(category) || category.count > 100 {
            v.fail("categories[\(index)]", "must be lowercase letters, digits, '-' or '_'")
        }
        if (products ?? []).count > 100 { v.fail("products", "at most 100") }
        for (index, product) in (products ?? []).enumerated() { v.text(product, field: "products[\(index)]", maxLength: 200) }
        contract?.validate(into: &v)
    }
}

/// `PATCH /v1/vendors/{id}` (admin): `active: false` deactivates the vendor (its keys stop working
/// within 5 s); the other fields replace what they name.
public struct UpdateVendorRequest: Sendable, Codable, Equatable {
    public var webhookUrl: String?
    public var categories: [String]?
    public var products: [String]?
    public var contract: VendorContract?
    public var active: Bool?

    public init(
        webhookUrl: String? = nil, categories: [String]? = nil, products: [String]? = nil, contract: VendorContract? = nil, active: Bool? = nil
    ) {
        self.webhookUrl = webhookUrl
        self.categories = categories
        self.products = products
        self.contract = contract
        self.active = active
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if webhookUrl == nil && categories == nil && products == nil && contract == nil && active == nil {
            v.fail("active", "give at least one of webhookUrl, categories, products, contract, active")
        }
        CreateVendorRequest.validate(webhookUrl: webhookUrl, categories: categories, products: products, contract: contract, into: &v)
        try v.check()
    }
}

/// A vendor's contract: how soon it acknowledges and resolves a case, counted in business time of
/// `calendar` (Monday to Friday, 09:00-17:00 UTC when none is given) or in wall-clock time.
/// A target left out is not watched.
public struct VendorContract: Sendable, Codable, Equatable {
    public enum Time: String, Sendable, Codable, CaseIterable {
        case business, wall
    }

    public var acknowledgeWithinMinutes: Int?
    public var resolveWithinMinutes: Int?
    public var time: Time
    public var calendar: BusinessCalendar?

    public init(acknowledgeWithinMinutes: Int? = nil, resolveWithinMinutes: Int? = nil, time: Time = .business, calendar: BusinessCalendar? = nil) {
        self.acknowledgeWithinMinutes = acknowledgeWithinMinutes
        self.resolveWithinMinutes = resolveWithinMinutes
        self.time = time
        self.calendar = calendar
    }

    /// `time` may be left out: business time.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            acknowledgeWithinMinutes: try container.decodeIfPresent(Int.self, forKey: .acknowledgeWithinMinutes),
            resolveWithinMinutes: try container.decodeIfPresent(Int.self, forKey: .resolveWithinMinutes),
            time: try container.decodeIfPresent(Time.self, forKey: .time) ?? .business,
            calendar: try container.decodeIfPresent(BusinessCalendar.self, forKey: .calendar))
    }

    public static let standardHours = BusinessCalendar(
        timeZone: "UTC", week: Dictionary(uniqueKeysWithValues: ["mon", "tue", "wed", "thu", "fri"].map { ($0, ["09:00", "17:00"]) }))

    /// The clock the targets run on.
    public var clock: BusinessCalendar { time == .wall ? .alwaysOpen : (calendar ?? Self.standardHours) }

    /// When a case opened at `openedAt` is due to be acknowledged and resolved (nil: no target).
    public func dueTimes(openedAt: Date) -> (acknowledge: Date?, resolve: Date?) {
        let clock = clock
        return (
            acknowledgeWithinMinutes.map { clock.adding(TimeInterval($0 * 60), to: openedAt) },
            resolveWithinMinutes.map { clock.adding(TimeInterval($0 * 60), to: openedAt) }
        )
    }

    func validate(into v: inout Validation) {
        let year = 525_600
        if let minutes = acknowledgeWithinMinutes, !(1...year).contains(minutes) { v.fail("contract.acknowledgeWithinMinutes", "must be 1 to \(year)") }
        if let minutes = resolveWithinMinutes, !(1...year).contains(minutes) { v.fail("contract.resolveWithinMinutes", "must be 1 to \(year)") }
        if let ack = acknowledgeWithinMinutes, let resolve = resolveWithinMinutes, resolve < ack {
            v.fail("contract.resolveWithinMinutes", "must not be shorter than acknowledgeWithinMinutes")
        }
        if let calendar {
            if time == .wall { v.fail("contract.calendar", "only with time: business") }
            for error in calendar.validationErrors() { v.fail("contract.calendar." + error.field, error.message) }
        }
    }
}

/// A vendor; `apiKey` and `signingSecret` are present only in the answer that created it.
public struct Vendor: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var webhookUrl: String
    public var categories: [String]
    public var products: [String]
    public var contract: VendorContract
    /// False once deactivated: its API keys no longer open anything.
    public var active: Bool
    /// After a rotation with overlap: until when the previous API key still works.
    public var previousKeyValidUntil: Date?
    /// When the current API key stops working; nil: never.
    public var apiKeyExpiresAt: Date?
    public var apiKey: String?
    public var signingSecret: String?

    public init(
        id: UUID, name: String, webhookUrl: String, categories: [String], products: [String] = [], contract: VendorContract = VendorContract(),
        active: Bool = true, previousKeyValidUntil: Date? = nil, apiKeyExpiresAt: Date? = nil, apiKey: String? = nil, signingSecret: String? = nil
    ) {
        self.apiKeyExpiresAt = apiKeyExpiresAt
        self.active = active
        self.id = id
        self.name = name
        self.webhookUrl = webhookUrl
        self.categories = categories
        self.products = products
        self.contract = contract
        self.previousKeyValidUntil = previousKeyValidUntil
        self.apiKey = apiKey
        self.signingSecret = signingSecret
    }
}

/// Where a case stands on the vendor's side.
public enum VendorCaseStatus: String, Sendable, Codable, CaseIterable {
    case open, acknowledged
    case inProgress = "in_progress"
    case needsInfo = "needs_info"
    case resolved, rejected
    /// The company verified the resolution (or resolved or closed the ticket): no more updates. A
    /// rejected case is closed too (`closedAt` is set) and keeps `rejected`.
    case closed

    /// What a vendor may post.
    public static let vendorSettable: [VendorCaseStatus] = [.acknowledged, .inProgress, .needsInfo, .resolved, .rejected]
}

/// A Level 4 case as the vendor sees it.
public struct VendorCase: Sendable, Codable, Equatable {
    public var id: UUID
    public var ticketId: UUID
    public var ticketReference: String
    public var vendorId: UUID
    public var status: VendorCaseStatus
    public var subject: String
    public var description: String
    public var priority: Priority
    public var reason: String
    public var openedAt: Date
    /// The contract's targets: acknowledge by `acknowledgeDueAt`, resolve by `dueAt` (nil: none).
    public var acknowledgeDueAt: Date?
    public var dueAt: Date?
    public var acknowledgedAt: Date?
    public var resolvedAt: Date?
    public var closedAt: Date?
    /// The level the ticket returns to when the vendor resolves or rejects the case.
    public var returnsToTier: Int
    public var reopenCount: Int
    /// Times the vendor asked the company for information (needs_info).
    public var questions: Int
    public var updates: [VendorCaseUpdate]

    public init(
        id: UUID, ticketId: UUID, ticketReference: String, vendorId: UUID, status: VendorCaseStatus, subject: String,
        description: String, priority: Priority, reason: String, openedAt: Date, acknowledgeDueAt: Date? = nil, dueAt: Date?,
        acknowledgedAt: Date? = nil, resolvedAt: Date? = nil, closedAt: Date? = nil, returnsToTier: Int = 3, reopenCount: Int = 0, questions: Int = 0,
        updates: [VendorCaseUpdate]
    ) {
        self.acknowledgeDueAt = acknowledgeDueAt
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
        self.closedAt = closedAt
        self.returnsToTier = returnsToTier
        self.reopenCount = reopenCount
        self.questions = questions
        self.id = id
        self.ticketId = ticketId
        self.ticketReference = ticketReference
        self.vendorId = vendorId
        self.status = status
        self.subject = subject
        self.description = description
        self.priority = priority
        self.reason = reason
        self.openedAt = openedAt
        self.dueAt = dueAt
        self.updates = updates
    }
}

/// One entry on a case: an update the vendor posted, or a message the company sent it.
public struct VendorCaseUpdate: Sendable, Codable, Equatable {
    public enum Author: String, Sendable, Codable {
        case vendor, company
    }

    public var id: UUID
    public var author: Author
    /// The status the vendor set; nil on the company's messages.
    public var status: VendorCaseStatus?
    public var message: String
    public var eta: Date?
    public var at: Date

    public init(id: UUID, author: Author = .vendor, status: VendorCaseStatus?, message: String, eta: Date?, at: Date) {
        self.id = id
        self.author = author
        self.status = status
        self.message = message
        self.eta = eta
        self.at = at
    }
}

/// `POST /v1/vendor/cases/{id}/updates`.
public struct VendorUpdateRequest: Sendable, Codable, Equatable {
    public var status: VendorCaseStatus
    public var message: String
    public var eta: Date?

    public init(status: VendorCaseStatus, message: String, eta: Date? = nil) {
        self.status = status
        self.message = message
        self.eta = eta
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if !VendorCaseStatus.vendorSettable.contains(status) {
            v.fail("status", "must be one of \(VendorCaseStatus.vendorSettable.map(\.rawValue).joined(separator: ", "))")
        }
        v.text(message, field: "message", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        try v.check()
    }
}

/// `POST /v1/tickets/{id}/vendor-messages` (the agent who owns the vendor case, an agent of the
/// level it returns to, or the admin): a message for the vendor, sent by webhook. `reopen: true`
/// sends a resolved case back to the vendor with this message as the reason.
public struct VendorMessageRequest: Sendable, Codable, Equatable {
    public var message: String
    public var reopen: Bool?

    public init(message: String, reopen: Bool? = nil) {
        self.message = message
        self.reopen = reopen
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(message, field: "message", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        try v.check()
    }
}

/// `POST /v1/vendors/{id}/api-key` (admin): a new key; the previous one keeps working for
/// `overlapMinutes` (default 0: it stops at once; at most a week).
public struct RotateVendorKeyRequest: Sendable, Codable, Equatable {
    public var overlapMinutes: Int?
    /// When the new key stops working (in the future); nil: never.
    public var expiresAt: Date?

    public init(overlapMinutes: Int? = nil, expiresAt: Date? = nil) {
        self.overlapMinutes = overlapMinutes
        self.expiresAt = expiresAt
    }

    public func validate() throws(Problem) {
        var v = Validation()
        if let minutes = overlapMinutes, !(0...10_080).contains(minutes) { v.fail("overlapMinutes", "must be 0 to 10080 (a week)") }
        try v.check()
    }
}

/// What a vendor's webhooks tell it.
public enum VendorWebhookType: String, Sendable, Codable, CaseIterable {
    case caseOpened = "vendor.case_opened"
    /// The company's message: an answer to the vendor's question, a comment, or a reopening.
    case message = "vendor.message"
    case caseClosed = "vendor.case_closed"
    /// A reminder: a target of the contract passed.
    case caseOverdue = "vendor.case_overdue"
}

/// The body of a vendor webhook, in the Standard Webhooks shape: `{type, timestamp, data}`.
public struct VendorWebhook: Sendable, Codable, Equatable {
    public struct Payload: Sendable, Codable, Equatable {
        public var `case`: VendorCase
        public var message: String?
        /// On a reminder: which target passed (`acknowledge` or `resolve`).
        public var overdue: String?
        public var reopened: Bool?

        public init(case: VendorCase, message: String? = nil, overdue: String? = nil, reopened: Bool? = nil) {
            self.case = `case`
            self.message = message
            self.overdue = overdue
            self.reopened = reopened
        }
    }

    public var type: VendorWebhookType
    public var timestamp: Date
    public var data: Payload

    public init(type: VendorWebhookType, timestamp: Date, data: Payload) {
        self.type = type
        self.timestamp = timestamp
        self.data = data
    }
}

/// One webhook in the delivery log, with each attempt.
public struct WebhookDelivery: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case pending, delivered, dead
    }

    public struct Attempt: Sendable, Codable, Equatable {
        public var at: Date
        /// The vendor's HTTP status; nil when there was no answer (`error` says why).
        public var statusCode: Int?
        public var latencyMs: Int
        public var error: String?

        public init(at: Date, statusCode: Int?, latencyMs: Int, error: String?) {
            self.at = at
            self.statusCode = statusCode
            self.latencyMs = latencyMs
            self.error = error
        }
    }

    public var id: UUID
    public var vendorId: UUID
    public var caseId: UUID?
    public var type: String
    public var status: Status
    public var createdAt: Date
    public var nextAttemptAt: Date?
    public var deliveredAt: Date?
    public var deadAt: Date?
    public var attempts: [Attempt]

    public init(
        id: UUID, vendorId: UUID, caseId: UUID?, type: String, status: Status, createdAt: Date, nextAttemptAt: Date?, deliveredAt: Date?,
        deadAt: Date?, attempts: [Attempt]
    ) {
        self.id = id
        self.vendorId = vendorId
        self.caseId = caseId
        self.type = type
        self.status = status
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.deadAt = deadAt
        self.attempts = attempts
    }
}

/// `GET /v1/vendors/{id}/scorecard?from=&to=`: how a vendor kept its contract on the cases opened
/// in the period. Times are wall-clock seconds from opening; on-time shares count the cases that
/// had the target and reached the step (nil when none did).
public struct VendorScorecard: Sendable, Codable, Equatable {
    public struct Times: Sendable, Codable, Equatable {
        public var count: Int
        public var meanSeconds: Double?
        public var p90Seconds: Double?
        public var onTimeShare: Double?

        public init(count: Int, meanSeconds: Double?, p90Seconds: Double?, onTimeShare: Double?) {
            self.count = count
            self.meanSeconds = meanSeconds
            self.p90Seconds = p90Seconds
            self.onTimeShare = onTimeShare
        }
    }

    public var vendorId: UUID
    public var from: Date
    public var to: Date
    public var cases: Int
    public var acknowledge: Times
    public var resolve: Times
    /// Resolved cases the company sent back at least once, over resolved cases.
    public var reopenRate: Double?
    /// needs_info questions per case.
    public var questionsPerCase: Double?
    public var rejected: Int
    /// Open cases past a target now.
    public var overdueNow: Int

    public init(
        vendorId: UUID, from: Date, to: Date, cases: Int, acknowledge: Times, resolve: Times, reopenRate: Double?, questionsPerCase: Double?,
        rejected: Int, overdueNow: Int
    ) {
        self.vendorId = vendorId
        self.from = from
        self.to = to
        self.cases = cases
        self.acknowledge = acknowledge
        self.resolve = resolve
        self.reopenRate = reopenRate
        self.questionsPerCase = questionsPerCase
        self.rejected = rejected
        self.overdueNow = overdueNow
    }
}
