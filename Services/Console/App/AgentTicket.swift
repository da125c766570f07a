import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The agent's ticket page and its forms.
extension AgentConsole {
    @Sendable func ticket(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.error(status: .notFound, title: "Not found", detail: "No such ticket.") }
        let (backend, token) = (backend, context.session.token)
        // The levels' contracts and the colleagues are asked for beside the ticket; each may fail alone.
        async let contracts = Pages.part("The escalation contracts", context) {
            try await backend.get(Page<EscalationContract>.self, .tierQueue, "/v1/escalation-contracts", token: token).items
        }
        async let colleagues = Pages.part("The colleagues", context) {
            try await backend.all(Colleague.self, .tierQueue, "/v1/agents/colleagues", token: token)
        }
        let detail: TicketDetail
        do {
            detail = try await backend.get(TicketDetail.self, .tierQueue, "/v1/tickets/\(id)", token: token)
        } catch let failure as Backend.Failure where failure.kind == .notFound || failure.kind == .notAllowed {
            failure.log("the ticket", logger: context.logger)
            return Pages.error(status: .notFound, title: "Not found", detail: "There is no such ticket, or it is not at your levels.")
        }
        let (notice, error) = Pages.notices(request, context)
        let ticket = detail.ticket
        let history = detail.events.map { event -> HTML in
            let text =
                event.data["message"]?.stringValue ?? event.data["resolution"]?.stringValue ?? event.data["reason"]?.stringValue
                ?? event.data["note"]?.stringValue
            // An internal note is a comment written for agents (`audience: agents`).
            let visibility: HTML = TicketCommented(event)?.audience == .agents ? " <span class=\"tag\">internal</span>" : ""
            return """
                <li><span class="when">\(event.at)</span> <span class="what">\(event.type.rawValue)</span> <span class="who">\(event.actor)</span>\(visibility)\
                \(text.map { "<p class=\"message\">\($0)</p>" as HTML } ?? "")\(Self.attachments(event.data["attachments"]))</li>
                """
        }
        let others = (detail.requesterHistory ?? []).map { other -> HTML in
            "<li><a href=\"/agent/tickets/\(other.id)\">\(other.reference)</a> \(other.subject) <span class=\"tag\">\(Pages.label(other.status))</span></li>"
        }
        let suggested = (detail.suggestedArticles ?? []).map { article -> HTML in "<li><a href=\"/kb/\(article.id)\">\(article.title)</a></li>" }
        // What tier-queue could not get from its peers is said, not left out.
        let unavailable = Set(detail.work?.unavailable ?? [])
        if !unavailable.isEmpty {
            context.logger.notice("the ticket page lacks parts tier-queue could not get", metadata: ["unavailable": "\(unavailable.sorted())"])
        }
        var problem: HTML = ""
        if unavailable.contains("problem") {
            problem = """
                <section id="problem" aria-labelledby="problem-title"><h2 id="problem-title">Linked problem</h2>\
                <p class="error part-error" role="alert">The linked problem cannot be shown: triage did not answer in time. Reload to try again.</p></section>
                """
        } else if let linked = detail.work?.problem {
            problem = """
                <section id="problem" aria-labelledby="problem-title"><h2 id="problem-title">Linked problem</h2><p>\(linked.title)</p>\
                \(linked.workaround.map { "<p class=\"workaround\"><strong>Workaround:</strong> \($0)</p>" as HTML } ?? "")</section>
                """
        }
        var sla: HTML = ""
        if let state = detail.work?.sla {
            sla = """
                <section id="sla" aria-labelledby="sla-title"><h2 id="sla-title">SLA</h2>
                <p>Resolution: \(Self.sla(state.resolutionDueAt, now: context.now)) \(state.paused ? "(paused)" as HTML : "")</p>
                <p>Used \(Self.duration(Int(state.elapsedBusinessSeconds))) of business time, paused \(Self.duration(Int(state.pausedBusinessSeconds)))</p>
                \(Self.timeline(TicketTimeline(events: detail.events, now: context.now)))</section>
                """
        }
        var question: HTML = ""
        if let asked = detail.work?.vendorQuestion {
            question = """
                <section id="vendor-question" aria-labelledby="vendor-question-title"><h2 id="vendor-question-title">The vendor asks</h2>
                <p class="message">\(asked.question)</p>
                <form method="post" action="/agent/tickets/\(id)/vendor-message" id="vendor-answer">\(Pages.csrf(context))
                <label for="vendor-message">Answer</label><textarea id="vendor-message" name="message" required rows="3"></textarea>
                <button type="submit">Send to the vendor</button></form></section>
                """
        }
        return Pages.page(
            ticket.reference, context, notice: notice, error: error,
            """
            <h1 id="ticket-ref">\(ticket.reference): \(ticket.subject)</h1>
            <dl class="facts"><dt>Status</dt><dd id="status">\(Pages.label(ticket.status))</dd><dt>Level</dt><dd id="level">\(Pages.level(ticket.tier))</dd>
            <dt>Priority</dt><dd>\(ticket.priority.rawValue)</dd><dt>Category</dt><dd>\(ticket.category)</dd>
            <dt>Requester</dt><dd>\(ticket.requester.name ?? ticket.requester.email) &lt;\(ticket.requester.email)&gt;\(Self.bouncing(detail.work?.requesterBouncing))</dd></dl>
            <h2>Description</h2><p class="message" id="description">\(ticket.description)</p>\(Self.attachments(ticket.channelDetails["attachments"]))
            \(sla)\(question)\(problem)
            <section id="requester-history" aria-labelledby="rh-title"><h2 id="rh-title">The requester's other tickets</h2><ul>\(others)</ul></section>
            <section id="suggested-articles" aria-labelledby="sa-title"><h2 id="sa-title">Suggested articles</h2>\
            \(unavailable.contains("suggestedArticles") ? "<p class=\"error part-error\" role=\"alert\">The suggested articles cannot be shown: intake did not answer in time.</p>" as HTML : "")\
            <ul class="articles">\(suggested)</ul></section>
            <h2>History</h2><ol id="history" class="history">\(history)</ol>
            \(forms(for: ticket, contracts: try await contracts, colleagues: try await colleagues, context: context))
            """
        ).response()
    }

    /// The mark of a requester address whose mail bounces, with what the latest bounce said.
    static func bouncing(_ bounce: MailBounce?) -> HTML {
        guard let bounce else { return "" }
        return """
             <span class="tag warning" id="requester-bouncing" title="\(bounce.diagnostic ?? "")">mail bounces\
            \(bounce.status.map { " (\($0))" as HTML } ?? "") since \(bounce.firstBouncedAt)</span>
            """
    }

    /// The files a mail carried, listed (not stored): name, type and size.
    static func attachments(_ value: JSONValue?) -> HTML {
        guard let files = value?.arrayValue, !files.isEmpty else { return "" }
        let items = files.map { file -> HTML in
            let name = file["fileName"]?.stringValue ?? "(unnamed)"
            let type = file["contentType"]?.stringValue ?? ""
            let size = file["size"]?.intValue ?? 0
            return "<li>\(name) <span class=\"tag\">\(type), \(size) bytes</span></li>"
        }
        return "<p class=\"attachments-note\">Attached to the mail (not stored):</p><ul class=\"attachments\">\(items)</ul>"
    }

    /// The work forms that fit the ticket's state.
    func forms(
        for ticket: Ticket, contracts: Result<[EscalationContract], Backend.Failure>, colleagues: Result<[Colleague], Backend.Failure>,
        context: ConsoleContext
    ) -> HTML {
        let id = ticket.id
        guard ticket.status != .closed else { return "" }
        // Whom to hand to: the level's agents with the ticket's skills; anyone may be asked to swarm.
        func select(_ name: String, id: String, _ include: @escaping (Colleague) -> Bool) -> HTML {
            Pages.show(colleagues, "The list of colleagues", context) { colleagues in
                let options = Pages.options(
                    colleagues.filter(include).map { colleague in
                        let levels = colleague.tiers.map { String($0.rawValue) }.joined(separator: ", ")
                        return (
                            colleague.id.uuidString.lowercased(), "\(colleague.name): level \(levels), working on \(colleague.working) of \(colleague.wipLimit)"
                        )
                    })
                return "<label for=\"\(id)\">\(name)</label><select id=\"\(id)\" name=\"agentId\" required>\(options)</select>"
            }
        }
        let sameLevel = select("Colleague", id: "reassign-agent") { colleague in
            ticket.tier.map(colleague.tiers.contains) ?? false && Set(ticket.requiredSkills).isSubset(of: colleague.skills) && colleague.id != ticket.assigneeId
        }
        let swarm = select("Agent", id: "collaborator-agent") { $0.id != ticket.assigneeId }
        let codes = Pages.options(ResolutionCode.allCases)
        let next = ticket.tier.flatMap { Tier(rawValue: $0.rawValue + 1) }
        // The next level's contract: what it needs to read first (a vendor's is the vendor's own).
        let fields = Pages.show(contracts, "What \(Pages.level(next)) asks for", context) { contracts in
            HTML.join(
                (contracts.first { $0.tier == next }?.fields ?? []).map { field -> HTML in
                    "<label for=\"handoff-\(field.name)\">\(field.label) (for \(Pages.level(next)))</label><textarea id=\"handoff-\(field.name)\" name=\"handOff.\(field.name)\" rows=\"2\"></textarea>"
                })
        }
        let higher = Tier.allCases.filter { tier in ticket.tier.map { tier > $0 } ?? false && tier != .selfService }
        func levels(_ tiers: [Tier]) -> HTML { Pages.options(tiers.map { (String($0.rawValue), Pages.level($0)) }) }
        let lower = Tier.agentTiers.filter { tier in ticket.tier.map { tier < $0 && $0 != .vendor } ?? false }
        let reasons = Pages.options(PendingReason.allCases)
        return """
            <section id="work" aria-labelledby="work-title"><h2 id="work-title">Work on it</h2>
            <form method="post" action="/agent/tickets/\(id)/comment" id="comment">\(Pages.csrf(context))
            <label for="comment-message">Comment</label><textarea id="comment-message" name="message" required rows="3"></textarea>
            <label class="check"><input type="checkbox" name="internal" value="true" id="comment-internal"> Internal (agents only)</label>
            <button type="submit">Add comment</button></form>
            <form method="post" action="/agent/tickets/\(id)/escalate" id="escalate">\(Pages.csrf(context))
            <h3>Escalate</h3>
            <label for="escalate-to">To</label><select id="escalate-to" name="toTier">\(levels(higher))</select>
            <label for="escalate-reason">Reason</label><input type="text" id="escalate-reason" name="reason" required maxlength="2000">
            \(fields)
            <button type="submit" id="escalate-button">Escalate</button></form>
            <form method="post" action="/agent/tickets/\(id)/resolve" id="resolve">\(Pages.csrf(context))
            <h3>Resolve</h3>
            <label for="resolution">Resolution</label><textarea id="resolution" name="resolution" required rows="3"></textarea>
            <label for="code">How</label><select id="code" name="code">\(codes)</select>
            <label class="check"><input type="checkbox" name="publish" value="true" id="publish"> Publish as a knowledge-base article</label>
            <label for="article-title">Article title</label><input type="text" id="article-title" name="articleTitle" maxlength="200">
            <label for="article-body">Article text</label><textarea id="article-body" name="articleBody" rows="4"></textarea>
            <button type="submit" id="resolve-button">Resolve</button></form>
            <form method="post" action="/agent/tickets/\(id)/pending" id="pending">\(Pages.csrf(context))
            <h3>Wait</h3>
            <label for="pending-reason">Waiting for</label><select id="pending-reason" name="reason">\(reasons)</select>
            <label for="pending-note">Note (optional)</label><input type="text" id="pending-note" name="note" maxlength="2000">
            <button type="submit" id="pending-button">Set pending</button></form>
            \(lower.isEmpty ? "" as HTML : """
            <form method="post" action="/agent/tickets/\(id)/de-escalate" id="deescalate">\(Pages.csrf(context))
            <h3>Send back</h3>
            <label for="deescalate-to">To</label><select id="deescalate-to" name="toTier">\(levels(lower))</select>
            <label for="deescalate-note">Note for that level</label><input type="text" id="deescalate-note" name="note" required maxlength="2000">
            <button type="submit" id="deescalate-button">De-escalate</button></form>
            """)
            <form method="post" action="/agent/tickets/\(id)/reassign" id="reassign">\(Pages.csrf(context))
            <h3>Hand to a colleague of this level</h3>
            \(sameLevel)
            <label for="reassign-note">Note (optional)</label><input type="text" id="reassign-note" name="note" maxlength="2000">
            <button type="submit" id="reassign-button">Reassign</button></form>
            <form method="post" action="/agent/tickets/\(id)/collaborators" id="collaborate">\(Pages.csrf(context))
            <h3>Ask another agent to swarm</h3>
            \(swarm)
            <button type="submit" id="collaborate-button">Add to the swarm</button></form>
            </section>
            """
    }

    /// A work form's post, sent to the API with the agent's token; back to the ticket with what happened.
    @Sendable func act(request: Request, context: ConsoleContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: UUID.self), let action = context.parameters.get("action") else { return Pages.redirect("/agent/") }
        let form = context.form
        let token = context.session.token
        let page = "/agent/tickets/\(id)"
        return try await Pages.attempt(orBackTo: page, context) {
            switch action {
            case "comment":
                _ = try await backend.raw(
                    .POST, .tierQueue, "/v1/tickets/\(id)/comments", token: token,
                    body: CommentRequest(message: form["message"] ?? "", internal: try FormValue.flag(form["internal"], "Internal")))
                return Pages.redirect(page, notice: .commented)
            case "escalate":
                var handOff: [String: String] = [:]
                for (name, value) in form where name.hasPrefix("handOff.") { handOff[String(name.dropFirst("handOff.".count))] = value }
                let moved = try await backend.send(
                    Ticket.self, .POST, .tierQueue, "/v1/tickets/\(id)/escalate", token: token,
                    body: EscalateRequest(
                        reason: form["reason"] ?? "", toTier: try FormValue.number(form["toTier"], "The level to escalate to", in: 1...4),
                        handOff: handOff.filter { !$0.value.isEmpty }.isEmpty ? nil : handOff.filter { !$0.value.isEmpty }))
                return Pages.redirect("/agent/", notice: moved.tier.map(Notice.escalated))
            case "resolve":
                let article =
                    try FormValue.flag(form["publish"], "Publish")
                    ? ResolveRequest.Article(title: form["articleTitle"] ?? "", body: form["articleBody"] ?? "") : nil
                let code: ResolutionCode = try FormValue.choice(form["code"], "How it was resolved")
                _ = try await backend.raw(
                    .POST, .tierQueue, "/v1/tickets/\(id)/resolve", token: token,
                    body: ResolveRequest(resolution: form["resolution"] ?? "", code: code, article: article))
                return Pages.redirect(page, notice: article == nil ? .resolved : .resolvedAndPublished)
            case "pending":
                let reason: PendingReason = try FormValue.choice(form["reason"], "Waiting for")
                _ = try await backend.raw(
                    .POST, .tierQueue, "/v1/tickets/\(id)/pending", token: token, body: PendingRequest(reason: reason, note: form["note"]?.nilIfEmpty))
                return Pages.redirect(page, notice: .pending)
            case "de-escalate":
                let moved = try await backend.send(
                    Ticket.self, .POST, .tierQueue, "/v1/tickets/\(id)/de-escalate", token: token,
                    body: DeescalateRequest(note: form["note"] ?? "", toTier: try FormValue.number(form["toTier"], "The level to send it back to", in: 1...3)))
                return Pages.redirect("/agent/", notice: moved.tier.map(Notice.deescalated))
            case "reassign", "collaborators":
                guard let agent = form["agentId"].flatMap({ UUID(uuidString: $0.trimmingCharacters(in: .whitespaces)) }) else {
                    return Pages.redirect(page, error: "That is not an agent's id.")
                }
                if action == "reassign" {
                    _ = try await backend.raw(
                        .POST, .tierQueue, "/v1/tickets/\(id)/reassign", token: token, body: ReassignRequest(agentId: agent, note: form["note"]?.nilIfEmpty))
                    return Pages.redirect("/agent/", notice: .handedOver)
                }
                _ = try await backend.raw(.POST, .tierQueue, "/v1/tickets/\(id)/collaborators", token: token, body: CollaboratorRequest(agentId: agent))
                return Pages.redirect(page, notice: .swarming)
            case "vendor-message":
                _ = try await backend.raw(
                    .POST, .vendorBridge, "/v1/tickets/\(id)/vendor-messages", token: token, body: VendorMessageRequest(message: form["message"] ?? ""))
                return Pages.redirect(page, notice: .sentToVendor)
            default:
                return Pages.redirect(page)
            }
        }
    }
}

extension AgentConsole {
    /// The ticket's life as the SLA sees it: each stretch, who held it and whether it used the
    /// budget, as a bar (wall-clock widths) and as a table for screen readers and exact times.
    static func timeline(_ timeline: TicketTimeline) -> HTML {
        guard let cycle = timeline.cycles.last, let first = cycle.stretches.first, let last = cycle.stretches.last else { return "" }
        let span = max(last.end.timeIntervalSince(first.start), 1)
        // One row per holder in turn: a claim or a comment ends a stretch without changing who holds it.
        var stretches: [TicketTimeline.Stretch] = []
        for stretch in cycle.stretches {
            if let previous = stretches.last, previous.holder == stretch.holder {
                stretches[stretches.count - 1].end = stretch.end
            } else {
                stretches.append(stretch)
            }
        }
        var x = 0.0
        var bars: [HTML] = []
        var rows: [HTML] = []
        for stretch in stretches {
            let seconds = stretch.end.timeIntervalSince(stretch.start)
            let width = seconds / span * 580
            let (label, kind) = describe(stretch.holder)
            bars.append(
                "<rect x=\"\(String(format: "%.1f", x))\" y=\"0\" width=\"\(String(format: "%.1f", max(width, 1)))\" height=\"22\" class=\"\(kind)\"><title>\(label)</title></rect>"
            )
            x += width
            rows.append(
                """
                <tr class="\(kind)"><td>\(label)</td><td>\(stretch.start)</td><td>\(duration(Int(seconds)))</td>\
                <td>\(stretch.holder.consumesBudget ? "yes" : "no, the clock is paused")</td></tr>
                """)
        }
        let cycles = timeline.cycles.count > 1 ? " (since it was reopened)" as HTML : ""
        return """
            <h3>Timeline\(cycles)</h3>
            <svg class="timeline" role="img" aria-label="The ticket's timeline: who held it, with pauses" viewBox="0 0 580 22" width="100%" height="22" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">\(bars)</svg>
            <table id="sla-timeline"><thead><tr><th scope="col">Held by</th><th scope="col">From</th><th scope="col">For</th><th scope="col">Uses the SLA</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
    }

    /// What a holder is called on the timeline, and its class (its colour).
    static func describe(_ holder: TicketHolder) -> (String, String) {
        switch holder {
        case .intake: ("Intake and triage", "running")
        case .level(let tier): (Pages.level(tier), "running")
        case .vendor: ("The vendor (its own contract's clock)", "vendor")
        case .paused(let reason): ("Paused: " + reason.rawValue.replacingOccurrences(of: "_", with: " "), "paused")
        }
    }
}
