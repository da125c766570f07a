import Testing
import TierdeskModels

@Suite struct ValidationTests {
    @Test(arguments: ["a@b.co", "Dana.Example+it@corp.example.com", " spaced@example.org "])
    func acceptsEmails(_ email: String) {
        #expect(Validation.isEmail(email))
    }

    @Test(arguments: ["", "plain", "@example.com", "a@", "a@b", "a b@c.com", "a@@b.com", "a@-b.com", "a@b..com", "<a@b.com>", "a\u{0007}@b.com"])
    func refusesNonEmails(_ email: String) {
        #expect(!Validation.isEmail(email))
    }

    @Test func submissionReportsEveryFieldAtOnce() {
        let request = SubmitTicketRequest(
            requester: RequesterInput(email: "nope"), channel: .web, subject: String(repeating: "x", count: 201),
            description: "  ", category: "Not A Slug")
        #expect(throws: Problem.self) { try request.validate() }
        do {
            try request.validate()
        } catch {
            #expect(error.status == 422)
            #expect(Set(error.errors?.map(\.field) ?? []) == ["requester.email", "subject", "description", "category"])
        }
    }

    @Test func controlCharactersAreRefusedButNewlinesAllowedInText() throws {
        var subject = SubmitTicketRequest(requester: RequesterInput(email: "a@b.co"), channel: .api, subject: "bell\u{0007}", description: "ok")
        #expect(throws: Problem.self) { try subject.validate() }
        subject.subject = "fine"
        subject.description = "line one\nline two\twith tab"
        try subject.validate()
        subject.subject = "two\nlines"
        #expect(throws: Problem.self) { try subject.validate() }
    }

    @Test func descriptionLimitIs64KiB() throws {
        var request = SubmitTicketRequest.init(
            requester: .init(email: "a@b.co"), channel: .email, subject: "s", description: String(repeating: "d", count: 65_536))
        try request.validate()
        request.description += "d"
        #expect(throws: Problem.self) { try request.validate() }
    }

    @Test func agentAndEscalationRules() {
        #expect(throws: Problem.self) { try CreateAgentRequest(name: "A", email: "a@b.co", tiers: []).validate() }
        #expect(throws: Problem.self) { try CreateAgentRequest(name: "A", email: "a@b.co", tiers: [4]).validate() }
        #expect(throws: Problem.self) { try CreateAgentRequest(name: "A", email: "a@b.co", tiers: [1], skills: ["Bad Skill"]).validate() }
        #expect(throws: Problem.self) { try CreateAgentRequest(name: "A", email: "a@b.co", tiers: [1], wipLimit: 0).validate() }
        #expect(throws: Never.self) { try CreateAgentRequest(name: "A", email: "a@b.co", tiers: [1, 3], skills: ["network"], wipLimit: 3).validate() }
        #expect(throws: Problem.self) { try EscalateRequest(reason: "", toTier: 2).validate() }
        #expect(throws: Problem.self) { try EscalateRequest(reason: "why", toTier: 1).validate() }
        #expect(throws: Problem.self) { try CreateVendorRequest(name: "V", webhookUrl: "ftp://x", categories: []).validate() }
        #expect(throws: Problem.self) { try VendorUpdateRequest(status: .open, message: "m").validate() }
    }
}
