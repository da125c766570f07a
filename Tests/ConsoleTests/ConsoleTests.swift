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

    /// A console on nothing (its services are unreachable): what needs no service still works.
    func withConsole(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let reader = ConfigReader(
            provider: InMemoryProvider(values: [
                "tierdesk.console.secret": "console-test-secret-0123456789", "tierdesk.intake.url": "http://127.0.0.1:9",
                "tierdesk.triage.url": "http://127.0.0.1:9", "tierdesk.tier.queue.url": "http://127.0.0.1:9",
                "tierdesk.vendor.bridge.url": "http://127.0.0.1:9",
            ]))
        let router = buildRouter(try ConsoleConfiguration(reader: reader), logger: Logger(label: "console-test"))
        try await Application(router: router).test(.router) { client in try await test(client) }
    }

    @Test func aPostWithoutItsCSRFTokenIsRefusedAndTheCookiesAreStrict() async throws {
        try await withConsole { client in
            let page = try await client.execute(uri: "/signin", method: .get)
            #expect(page.status == .ok)
            let cookie = try #require(page.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.hasPrefix("td_csrf="))
            let csrf = try #require(String(buffer: page.body).firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1)
            let visitor = String(cookie.prefix { $0 != ";" })
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: visitor]
            let missing = try await client.execute(uri: "/signout", method: .post, headers: form, body: ByteBuffer(string: "x=1"))
            #expect(missing.status == .forbidden)
            let wrong = try await client.execute(uri: "/signout", method: .post, headers: form, body: ByteBuffer(string: "_csrf=forged"))
            #expect(wrong.status == .forbidden)
            // Another visitor's token does not fit this visitor's cookie.
            let stranger = try await client.execute(
                uri: "/signout", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "td_csrf=someone-else"],
                body: ByteBuffer(string: "_csrf=\(csrf)"))
            #expect(stranger.status == .forbidden)
            let good = try await client.execute(uri: "/signout", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(csrf)"))
            #expect(good.status == .seeOther && good.headers[.location]?.hasPrefix("/") == true)
        }
    }

    /// A ticket link's token goes into the cookie, and the address is cleaned; one with anything but
    /// a token's characters is not kept.
    @Test func aTicketLinkKeepsOnlyAWellFormedToken() async throws {
        try await withConsole { client in
            let id = UUID().uuidString.lowercased()
            let good = try await client.execute(uri: "/t/\(id)?token=tdr_abc-DEF_123", method: .get)
            #expect(good.status == .seeOther && good.headers[.location]?.lowercased() == "/t/\(id)")
            #expect(good.headers[values: .setCookie].contains { $0.hasPrefix("td_token=tdr_abc-DEF_123;") && $0.contains("HttpOnly") })
            let smuggled = try await client.execute(uri: "/t/\(id)?token=tdr_abc%3B%20Domain%3Devil.example", method: .get)
            #expect(!smuggled.headers[values: .setCookie].contains { $0.hasPrefix("td_token=") })
            // The services are unreachable here: the page says so rather than failing.
            #expect(smuggled.status == .serviceUnavailable)
        }
    }

    @Test func pagesCarryAStrictContentSecurityPolicy() async throws {
        try await withConsole { client in
            let home = try await client.execute(uri: "/tickets/new", method: .get)
            #expect(home.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(home.headers[.contentType] == "text/html; charset=utf-8")
            #expect(try await client.execute(uri: "/static/console.css", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/static/../Package.swift", method: .get).status == .notFound)
            // Agents' pages send the anonymous visitor to sign in.
            let queues = try await client.execute(uri: "/agent/", method: .get)
            #expect(queues.status == .seeOther && queues.headers[.location]?.hasPrefix("/signin") == true)
        }
    }
}
