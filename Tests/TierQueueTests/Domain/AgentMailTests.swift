import Foundation
import Testing
import TierdeskKit
import TierdeskModels

@testable import TierQueueApp

/// Agents' mail from the templates (`AgentMailTemplates`): the built-in ones render, link to the
/// console, thread on the reply domain, keep the subject on one line and escape what a ticket's
/// subject brings into the HTML part.
@Suite struct AgentMailTests {
    static let notifier = Notifier(templates: AgentMailTemplates.builtIn, domain: "help.example.com", consoleURL: "https://help.example.com")

    static func notification(_ text: String) -> AgentNotification {
        AgentNotification(id: UUID(), seq: 1, kind: .assigned, ticketId: UUID(), text: text, createdAt: Date(timeIntervalSince1970: 1_798_761_600))
    }

    @Test func aNotificationsMailIsTextAndHTMLWithItsLinkAndEscaped() throws {
        let hostile = #"TD-7 "<script>alert(1)</script>" was assigned to you."# + "\r\nBcc: evil@example.com"
        let mail = try #require(Self.notifier.mail(Self.notification(hostile), to: "ada@example.com", name: "Ada <Lovelace>"))
        #expect(mail.to == "ada@example.com" && mail.messageID.hasSuffix("@help.example.com>"))
        #expect(!mail.subject.contains("\n") && !mail.subject.contains("\r") && mail.subject.hasPrefix("Tierdesk: TD-7"))
        #expect(mail.text.contains("https://help.example.com/agent/notifications"))
        let html = try #require(mail.html)
        #expect(html.contains("&lt;script&gt;") && !html.contains("<script>") && html.contains("Ada &lt;Lovelace&gt;"))
        #expect(mail.headers.contains(.init("Auto-Submitted", "auto-generated")))
    }

    @Test func theDigestListsEachNotificationOnce() throws {
        let items = (1...3).map { Self.notification("TD-\($0) was assigned to you.") }
        let mail = try #require(Self.notifier.digest(items, to: "ada@example.com", name: "Ada"))
        #expect(mail.subject == "Tierdesk: 3 notifications in the last hour")
        for n in 1...3 { #expect(mail.text.components(separatedBy: "TD-\(n) was assigned").count == 2) }
        #expect(try #require(mail.html).components(separatedBy: "<li>").count == 4)
    }
}
