import Foundation

/// One rendered mail to one recipient, as `MailOutbox` keeps it and `MailDispatcher` sends it. The
/// sender (`From`) and the envelope come from the SMTP settings when it is sent; everything that
/// makes the mail itself (its Message-ID, its thread, its parts) is fixed when it is written, so a
/// retry or a resend from the admin pages sends the same mail.
public struct OutgoingMail: Codable, Sendable, Equatable {
    /// The one recipient: a bare address (`a@example.com`).
    public var to: String
    /// The recipient's display name, if known.
    public var toName: String?
    public var subject: String
    /// The text/plain part (always there).
    public var text: String
    /// The text/html part, when the template has one: the mail is then multipart/alternative.
    public var html: String?
    /// `<unique@domain>`, angle brackets included.
    public var messageID: String
    /// The Message-ID this mail answers, and the thread's earlier Message-IDs (oldest first).
    public var inReplyTo: String?
    public var references: [String]
    /// Where a reply goes: a ticket's reply address (`ReplyAddress`), so it threads without trusting `From`.
    public var replyTo: String?
    /// Further headers (`Auto-Submitted: auto-generated`, ...), in this order.
    public var headers: [Header]

    public struct Header: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        to: String, toName: String? = nil, subject: String, text: String, html: String? = nil, messageID: String, inReplyTo: String? = nil,
        references: [String] = [], replyTo: String? = nil, headers: [Header] = []
    ) {
        self.to = to
        self.toName = toName
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.replyTo = replyTo
        self.headers = headers
    }

    /// A new Message-ID at `domain`: `<random@domain>`.
    public static func newMessageID(domain: String) -> String {
        "<" + UUID().uuidString.lowercased() + "@" + domain + ">"
    }
}
