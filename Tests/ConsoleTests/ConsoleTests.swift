import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TierdeskModels

@testable import ConsoleApp

@Suite struct ConsoleTests {
    @Test func interpolatedTextIsEscapedAndOnlyMarkupPassesThrough() {
        let subject = "<script>alert('x')</script> & \"quotes\""
        let html: HTML = "<h1>\(subject)</h1>\(HTML("<b>ours</b>"))"
        #expect(html.text == "<h1>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;</h1><b>ours</b>")
    }

    @Test func aSnippetKeepsItsHighlightsAndNothingElse() {
        let snippet = "Open &lt;Settings&gt; and reconnect the <mark>VPN</mark> <img src=x onerror=alert(1)> <mark>client</mark>"
        #expect(
            HTML.snippet(snippet).text
                == "Open &lt;Settings&gt; and reconnect the <mark>VPN</mark> &lt;img src=x onerror=alert(1)&gt; <mark>client</mark>")
        #expect(HTML.snippet("a </mark> b <mark>c").text == "a  b c")
    }

    @Test func queueFiltersPassOnOnlyTheKnownOnesEncoded() {
        let request = Request(
            head: HTTPRequest(
                method: .get, scheme: "http", authority: "console", path: "/agent/?category=net%20work&evil=1&priority=&breached=true&skill=a%26b"),
            body: RequestBody(buffer: ByteBuffer()))
        #expect(AgentConsole.filters(request) == "&category=net%20work&skill=a%26b&breached=true")
    }

    @Test func theTimelineShowsWhoHeldTheTicketAndWhenTheClockWasPaused() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func event(_ type: EventType, _ seconds: TimeInterval, status: TicketStatus, tier: Tier?, data: JSONValue = [:]) -> TicketEvent {
            TicketEvent(id: UUID(), type: type, at: t0.addingTimeInterval(seconds), actor: "agent:x", data: data, status: status, tier: tier)
        }
        let trail = [
            event(.ticketCreated, 0, status: .new, tier: nil), event(.ticketQueued, 60, status: .queued, tier: .firstLine),
            event(.ticketPending, 660, status: .pendingCustomer, tier: .firstLine, data: ["reason": "awaiting_customer_info"]),
            event(.ticketCommented, 2460, status: .queued, tier: .firstLine), event(.ticketCommented, 2490, status: .queued, tier: .firstLine),
            event(.ticketEscalated, 2520, status: .queued, tier: .backOffice),
        ]
        let html = AgentConsole.timeline(TicketTimeline(events: trail, now: t0.addingTimeInterval(6120))).text
        #expect(html.components(separatedBy: "<tr class=").count - 1 == 5)  // intake, level 1, the pause, level 1, level 2
        #expect(
            html.contains(
                "Paused: awaiting customer info</td><td><time datetime=\"2027-01-15T08:11:00.000Z\">2027-01-15 08:11 UTC</time></td><td>30 min</td><td>no, the clock is paused"
            ))
        #expect(html.contains("level 2</td><td><time datetime=\"2027-01-15T08:42:00.000Z\">2027-01-15 08:42 UTC</time></td><td>1 h 0 min</td><td>yes"))
        // The bar's widths follow the wall clock: the pause is 30 of the 102 minutes.
        #expect(html.contains("width=\"170.6\" height=\"22\" class=\"paused\""))
    }

    @Test func textIsEscapedByteByByteAndDatesReadAsUTC() {
        #expect(HTML.escape("plain text, ünïcode ✓") == "plain text, ünïcode ✓")
        #expect(HTML.escape("a<b>&\"c\"'é'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;é&#39;")
        let html: HTML = "\(Date(timeIntervalSince1970: 1_796_019_573.25))"
        #expect(html.text == "<time datetime=\"2026-11-30T06:19:33.250Z\">2026-11-30 06:19 UTC</time>")
    }

    @Test func formsAreDecoded() {
        #expect(SessionMiddleware.parseForm("a=1&b=two+words&c=%3Cx%3E&d=&e") == ["a": "1", "b": "two words", "c": "<x>", "d": "", "e": ""])
    }

    /// Every notice's code reads back as that notice; any other text is no notice.
    @Test func noticesAreCodesThatReadBackAsThemselves() {
        let all =
            Notice.plain + Tier.allCases.flatMap { [Notice.queueEmpty($0), .escalated($0), .deescalated($0), .contractSaved($0)] }
            + Priority.allCases.map(Notice.slaSaved) + WorkMode.allCases.map(Notice.workMode)
        for notice in all {
            #expect(Notice(code: notice.code) == notice, "\(notice.code)")
            #expect(notice.code.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" })
        }
        #expect(Set(all.map(\.code)).count == all.count)
        #expect(Notice.signedOut.code == "signed-out" && Notice.escalated(.backOffice).code == "escalated-2")
        for text in ["Your account is locked", "escalated-9", "sla-saved-P9", "", "signed-out "] { #expect(Notice(code: text) == nil) }
    }
}
