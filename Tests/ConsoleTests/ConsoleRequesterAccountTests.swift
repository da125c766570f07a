import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

@testable import ConsoleApp

/// Issue 25, item 6, in the console: a requester signs in with the key of the link they were
/// mailed; the session lives on the server (its token sealed), lists all their tickets, opens each,
/// and ends on sign-out. Against the running console, the real intake and PostgreSQL.
@Suite struct ConsoleRequesterAccountTests {
    /// The key in the newest sign-in mail to `email`.
    func mailedKey(to email: String) async throws -> String {
        try await TestDatabase.settings().withClient(logger: TestDatabase.logger) { client in
            let text = try #require(
                try await client.first(
                    "SELECT mail->>'text' AS text FROM mail_outbox WHERE kind = 'sign_in' AND recipient = \(email) ORDER BY created_at DESC LIMIT 1",
                    logger: TestDatabase.logger
                ) { try $0.get("text", as: String.self) })
            return String(try #require(text.firstMatch(of: /#token=([A-Za-z0-9_-]+)/)).output.1)
        }
    }

    @Test(.freshDatabase) func aRequesterSignsInWithTheMailedKeyListsTheirTicketsAndSignsOut() async throws {
        try await ConsoleSystem.run { system in
            let mine = try await system.ticket(subject: "Laptop fan loud \(UUID())")
            let other = try await system.intake.send(
                .post, "/v1/tickets", json: SubmitTicketRequest.fixture(email: "someone-else@example.com", subject: "Monitor flickers")
            ).decode(SubmitTicketResponse.self)
            let browser = system.browser()
            #expect(try await browser.get("/my").location == "/sign-in", "no session: the list asks to sign in")
            try await browser.get("/sign-in")
            let asked = try await browser.post("/sign-in", ["email": "dana@example.com"])
            #expect(asked.location == "/sign-in?notice=sign-in-sent")
            let key = try await mailedKey(to: "dana@example.com")

            for refused in ["not-a-key", ""] {
                let answer = try await browser.post("/sign-in/open", ["token": refused])
                #expect(answer.location == "/sign-in" && answer.setCookies["td_ticket"] == nil)
            }
            #expect(try await system.rows().isEmpty, "a refused key stores nothing")

            let opened = try await browser.post("/sign-in/open", ["token": key])
            #expect(opened.location == "/my?notice=signed-in")
            let rows = try await system.rows()
            #expect(rows.count == 1 && rows[0].role == "requester" && rows[0].ticketID == nil, "one requester session, for no one ticket")
            #expect(rows[0].sealed.range(of: Data("tdp_".utf8)) == nil, "its token is sealed")
            let list = try await browser.get("/my")
            #expect(list.status == .ok && list.text.contains("Laptop fan loud") && !list.text.contains("Monitor flickers"))
            #expect(list.text.contains("id=\"my-tickets-link\""), "the header leads to the list")
            #expect(try await browser.get("/t/\(mine.id)").text.contains("Laptop fan loud"), "each ticket opens")
            #expect(try await browser.get("/t/\(other.id)").status == .notFound, "nobody else's")
            #expect(try await browser.post("/sign-in/open", ["token": key]).location == "/sign-in", "the key worked once")

            let signedOut = try await browser.post("/my/sign-out")
            #expect(signedOut.location == "/?notice=requester-signed-out")
            #expect(try await system.rows().isEmpty, "signing out deletes the session")
            #expect(try await browser.get("/my").location == "/sign-in")
        }
    }
}
