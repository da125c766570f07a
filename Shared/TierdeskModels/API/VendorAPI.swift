import Foundation

/// `POST /v1/vendors` (admin).
public struct CreateVendorRequest: Sendable, Codable, Equatable {
    public var name: String
    public var webhookUrl: String
    public var categories: [String]

    public init(name: String, webhookUrl: String, categories: [String]) {
        self.name = name
        self.webhookUrl = webhookUrl
        self.categories = categories
    }

    public func validate() throws(Problem) {
        var v = Validation()
        v.text(name, field: "name", maxLength: 200)
        v.text(webhookUrl, field: "webhookUrl", maxLength: 2000)
        if let url = URL(string: webhookUrl), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host?.isEmpty == false {
        } else {
            v.fail("webhookUrl", "must be an absolute http(s) URL")
        }
        for (index, category) in categories.enumerated() where !SubmitTicketRequest.isSlug(category) || category.count > 100 {
            v.fail("categories[\(index)]", "must be lowercase letters, digits, '-' or '_'")
        }
        try v.check()
    }
}

/// A vendor; `apiKey` and `signingSecret` are present only in the answer that created it.
public struct Vendor: Sendable, Codable, Equatable {
    public var id: UUID
    public var name: String
    public var webhookUrl: String
    public var categories: [String]
    /// False once deactivated: its API key no longer opens anything.
    public var active: Bool
    public var apiKey: String?
    public var signingSecret: String?

    public init(
        id: UUID, name: String, webhookUrl: String, categories: [String], active: Bool = true, apiKey: String? = nil, signingSecret: String? = nil
    ) {
        self.active = active
        self.id = id
        self.name = name
        self.webhookUrl = webhookUrl
        self.categories = categories
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
    public var dueAt: Date?
    public var updates: [VendorCaseUpdate]

    public init(
        id: UUID, ticketId: UUID, ticketReference: String, vendorId: UUID, status: VendorCaseStatus, subject: String,
        description: String, priority: Priority, reason: String, openedAt: Date, dueAt: Date?, updates: [VendorCaseUpdate]
    ) {
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

/// One update a vendor posted.
public struct VendorCaseUpdate: Sendable, Codable, Equatable {
    public var id: UUID
    public var status: VendorCaseStatus
    public var message: String
    public var eta: Date?
    public var at: Date

    public init(id: UUID, status: VendorCaseStatus, message: String, eta: Date?, at: Date) {
        self.id = id
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
        if status == .open { v.fail("status", "must be acknowledged, in_progress, needs_info, resolved or rejected") }
        v.text(message, field: "message", maxLength: SubmitTicketRequest.maxDescriptionLength, multiline: true)
        try v.check()
    }
}
