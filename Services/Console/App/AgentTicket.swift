import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// The agent's ticket page and its forms.
extension AgentConsole {
    @Sendable func ticket(request: Request, context: ConsoleContext) async throws -> Response {
        guard context.session.role == .agent || context.session.role == .admin else { return Self.signInFirst() }
        guard let id = context.parameters.get("id", as: UUID.self) else { return Pages.error(status: .notFound, title: "Not found", detail: "No such ticket.") }
        let (backend, token) = (backend, context.session.token)
        // The levels' contracts are asked for beside the ticket.
        async let contracts = (try? await backend.get(Page<EscalationContract>.self, .tierQueue, "/v1/escalation-contracts", token: token).items) ?? []
        guard let detail = try? await backend.get(TicketDetail.self, .tierQueue, "/v1/tickets/\(id)", token: token) else {
            return Pages.error(status: .notFound, title: "Not found", detail: "There is no such ticket, or it is not at your levels.")
        }
        let (notice, error) = Pages.notices(request)
        let ticket = detail.ticket
        let history = detail.events.map { event -> HTML in
            let text =
                event.data["message"]?.stringValue ?? event.data["resolution"]?.stringValue ?? event.data["reason"]?.stringValue
                ?? event.data["note"]?.stringValue
            let visibility: HTML = event.data["internal"]?.boolValue == true ? " <span class=\"tag\">internal</span>" : ""
            return """
                <li><span class="when">\(event.at)</span> <span class="what">\(event.type.rawValue)</span> <span class="who">\(event.actor)</span>\(visibility)\
                \(text.map { "<p class=\"message\">\($0)</p>" as HTML } ?? "")</li>
                """
        }
        let others = (detail.requesterHistory ?? []).map { other -> HTML in
            "<li><a href=\"/agent/tickets/\(other.id)\">\(other.reference)</a> \(other.subject) <span class=\"tag\">\(Pages.label(other.status))</span></li>"
        }
        let suggested = (detail.suggestedArticles ?? []).map { article -> HTML in "<li><a href=\"/kb/\(article.id)\">\(article.title)</a></li>" }
        var problem: HTML = ""
        if let linked = detail.work?.problem {
            problem = """
                <section id="problem" aria-labelledby="problem-title"><h2 id="problem-title">Linked problem</h2><p>\(linked.title)</p>\
                \(linked.workaround.map { "<p class=\"workaround\"><strong>Workaround:</strong> \($0)</p>" as HTML } ?? "")</section>
                """
        }
        var sla: HTML = ""
        if let state = detail.work?.sla {
            sla = """
                <section id="sla" aria-labelledby="sla-title"><h2 id="sla-title">SLA</h2>
                <p>Resolution: \(Self.sla(state.resolutionDueAt, now: Date())) \(state.paused ? "(paused)" as HTML : "")</p>
                <p>Used \(Self.duration(Int(state.elapsedBusinessSeconds))) of business time, paused \(Self.duration(Int(state.pausedBusinessSeconds)))</p></section>
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
            <dt>Requester</dt><dd>\(ticket.requester.name ?? ticket.requester.email) &lt;\(ticket.requester.email)&gt;</dd></dl>
            <h2>Description</h2><p class="message" id="description">\(ticket.description)</p>
            \(sla)\(question)\(problem)
            <section id="requester-history" aria-labelledby="rh-title"><h2 id="rh-title">The requester's other tickets</h2><ul>\(others)</ul></section>
            <section id="suggested-articles" aria-labelledby="sa-title"><h2 id="sa-title">Suggested articles</h2><ul class="articles">\(suggested)</ul></section>
            <h2>History</h2><ol id="history" class="history">\(history)</ol>
            \(forms(for: ticket, contracts: await contracts, context: context))
            """
        ).response()
    }

    /// The work forms that fit the ticket's state.
    func forms(for ticket: Ticket, contracts: [EscalationContract], context: ConsoleContext) -> HTML {
        let id = ticket.id
        guard ticket.status != .closed else { return "" }
        let codes = ResolutionCode.allCases.map { "<option value=\"\($0.rawValue)\">\($0.rawValue.replacingOccurrences(of: "_", with: " "))</option>" as HTML }
        let next = ticket.tier.flatMap { Tier(rawValue: $0.rawValue + 1) }
        // The next level's contract: what it needs to read first (a vendor's is the vendor's own).
        let fields = (contracts.first { $0.tier == next }?.fields ?? []).map { field -> HTML in
            "<label for=\"handoff-\(field.name)\">\(field.label) (for \(Pages.level(next)))</label><textarea id=\"handoff-\(field.name)\" name=\"handOff.\(field.name)\" rows=\"2\"></textarea>"
        }
        let higher = Tier.allCases.filter { tier in ticket.tier.map { tier > $0 } ?? false && tier != .selfService }
        let lower = Tier.agentTiers.filter { tier in ticket.tier.map { tier < $0 && $0 != .vendor } ?? false }
            .map { "<option value=\"\($0.rawValue)\">\(Pages.level($0))</option>" as HTML }
        let reasons = PendingReason.allCases.map { "<option value=\"\($0.rawValue)\">\($0.rawValue.replacingOccurrences(of: "_", with: " "))</option>" as HTML }
        let targets = higher.map { "<option value=\"\($0.rawValue)\">\(Pages.level($0))</option>" as HTML }
        return """
            <section id="work" aria-labelledby="work-title"><h2 id="work-title">Work on it</h2>
            <form method="post" action="/agent/tickets/\(id)/comment" id="comment">\(Pages.csrf(context))
            <label for="comment-message">Comment</label><textarea id="comment-message" name="message" required rows="3"></textarea>
            <label class="check"><input type="checkbox" name="internal" value="true" id="comment-internal"> Internal (agents only)</label>
            <button type="submit">Add comment</button></form>
            <form method="post" action="/agent/tickets/\(id)/escalate" id="escalate">\(Pages.csrf(context))
            <h3>Escalate</h3>
            <label for="escalate-to">To</label><select id="escalate-to" name="toTier">\(targets)</select>
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
            <label for="deescalate-to">To</label><select id="deescalate-to" name="toTier">\(lower)</select>
            <label for="deescalate-note">Note for that level</label><input type="text" id="deescalate-note" name="note" required maxlength="2000">
            <button type="submit" id="deescalate-button">De-escalate</button></form>
            """)
            <form method="post" action="/agent/tickets/\(id)/reassign" id="reassign">\(Pages.csrf(context))
            <h3>Hand to a colleague of this level</h3>
            <label for="reassign-agent">The colleague's agent id</label><input type="text" id="reassign-agent" name="agentId" required pattern="[0-9a-fA-F-]{36}">
            <label for="reassign-note">Note (optional)</label><input type="text" id="reassign-note" name="note" maxlength="2000">
            <button type="submit" id="reassign-button">Reassign</button></form>
            <form method="post" action="/agent/tickets/\(id)/collaborators" id="collaborate">\(Pages.csrf(context))
            <h3>Ask another agent to swarm</h3>
            <label for="collaborator-agent">Their agent id</label><input type="text" id="collaborator-agent" name="agentId" required pattern="[0-9a-fA-F-]{36}">
            <button type="submit" id="collaborate-button">Add to the swarm</button></form>
            </section>
            """
    }

    /// A work form's post, sent to the API with the agent's token; back to the ticket with what happened.
    @Sendable func act(request: Request, context: ConsoleContext) async throws -> Response {
        guard context.session.role == .agent || context.session.role == .admin else { return Self.signInFirst() }
        guard let id = context.parameters.get("id", as: UUID.self), let action = context.parameters.get("action") else { return Pages.redirect("/agent/") }
        let form = context.form
        let token = context.session.token
        let page = "/agent/tickets/\(id)"
        return try await Pages.attempt(orBackTo: page) {
            switch action {
            case "comment":
                _ = try await backend.raw(
                    .POST, .tierQueue, "/v1/tickets/\(id)/comments", token: token,
                    body: CommentRequest(message: form["message"] ?? "", internal: form["internal"] == "true"))
                return Pages.redirect(page, notice: "Comment added.")
            case "escalate":
                var handOff: [String: String] = [:]
                for (name, value) in form where name.hasPrefix("handOff.") { handOff[String(name.dropFirst("handOff.".count))] = value }
                let moved = try await backend.send(
                    Ticket.self, .POST, .tierQueue, "/v1/tickets/\(id)/escalate", token: token,
                    body: EscalateRequest(
                        reason: form["reason"] ?? "", toTier: form["toTier"].flatMap { Int($0) },
                        handOff: handOff.filter { !$0.value.isEmpty }.isEmpty ? nil : handOff.filter { !$0.value.isEmpty }))
                return Pages.redirect("/agent/", notice: "\(moved.reference) went to \(Pages.level(moved.tier)).")
            case "resolve":
                let article = form["publish"] == "true" ? ResolveRequest.Article(title: form["articleTitle"] ?? "", body: form["articleBody"] ?? "") : nil
                let code = ResolutionCode(rawValue: form["code"] ?? "") ?? .fixed
                _ = try await backend.raw(
                    .POST, .tierQueue, "/v1/tickets/\(id)/resolve", token: token,
                    body: ResolveRequest(resolution: form["resolution"] ?? "", code: code, article: article))
                return Pages.redirect(page, notice: article == nil ? "Resolved." : "Resolved, and the article is published.")
            case "pending":
                let reason = PendingReason(rawValue: form["reason"] ?? "") ?? .awaitingCustomerInfo
                _ = try await backend.raw(
                    .POST, .tierQueue, "/v1/tickets/\(id)/pending", token: token, body: PendingRequest(reason: reason, note: form["note"]?.nilIfEmpty))
                return Pages.redirect(page, notice: "The ticket waits: its SLA clock is paused.")
            case "de-escalate":
                let moved = try await backend.send(
                    Ticket.self, .POST, .tierQueue, "/v1/tickets/\(id)/de-escalate", token: token,
                    body: DeescalateRequest(note: form["note"] ?? "", toTier: form["toTier"].flatMap { Int($0) }))
                return Pages.redirect("/agent/", notice: "\(moved.reference) went back to \(Pages.level(moved.tier)).")
            case "reassign", "collaborators":
                guard let agent = form["agentId"].flatMap({ UUID(uuidString: $0.trimmingCharacters(in: .whitespaces)) }) else {
                    return Pages.redirect(page, error: "That is not an agent's id.")
                }
                if action == "reassign" {
                    _ = try await backend.raw(
                        .POST, .tierQueue, "/v1/tickets/\(id)/reassign", token: token, body: ReassignRequest(agentId: agent, note: form["note"]?.nilIfEmpty))
                    return Pages.redirect("/agent/", notice: "Handed over.")
                }
                _ = try await backend.raw(.POST, .tierQueue, "/v1/tickets/\(id)/collaborators", token: token, body: CollaboratorRequest(agentId: agent))
                return Pages.redirect(page, notice: "They are in the swarm.")
            case "vendor-message":
                _ = try await backend.raw(
                    .POST, .vendorBridge, "/v1/tickets/\(id)/vendor-messages", token: token, body: VendorMessageRequest(message: form["message"] ?? ""))
                return Pages.redirect(page, notice: "Sent to the vendor.")
            default:
                return Pages.redirect(page)
            }
        }
    }
}
