import Foundation
import Hummingbird

/// Who may open a page is decided once, by its route group: each group has one `RoleMiddleware`,
/// and no handler checks the role again. The API still decides what each token may see or do.
struct RouteGroups {
    /// Pages anyone may open: the help centre, articles, filing a ticket, a ticket's page, sign-in.
    let open: Router<ConsoleContext>
    /// `/agent/...`: agents, and the admin, who sees every level.
    let agent: RouterGroup<ConsoleContext>
    /// `/agent/reports`: agents, administrators and auditors (the API decides which agents).
    let reports: RouterGroup<ConsoleContext>
    /// `/agent/claim`: agents only (the admin holds no tickets).
    let agentOnly: RouterGroup<ConsoleContext>
    /// `/admin/...`: the admin.
    let admin: RouterGroup<ConsoleContext>
    /// `/vendor/...`: a vendor's engineers.
    let vendor: RouterGroup<ConsoleContext>
    /// `/t/{id}/...` forms: the requester whose ticket link this browser opened.
    let requester: RouterGroup<ConsoleContext>

    init(_ router: Router<ConsoleContext>) {
        open = router
        agent = router.group("agent").add(middleware: RoleMiddleware(allowed: [.agent, .admin], refusal: "Sign in with an agent token first."))
        reports = router.group("agent").add(
            middleware: RoleMiddleware(allowed: [.agent, .admin, .auditor], refusal: "Sign in as an agent, administrator or auditor first."))
        agentOnly = router.group("agent").add(middleware: RoleMiddleware(allowed: [.agent], refusal: "Sign in with an agent token first."))
        admin = router.group("admin").add(middleware: RoleMiddleware(allowed: [.admin], refusal: "Sign in with the admin token first."))
        vendor = router.group("vendor").add(middleware: RoleMiddleware(allowed: [.vendor], refusal: "Sign in with your vendor API key first."))
        requester = router.group("t").add(
            middleware: RoleMiddleware(allowed: [.requester], refusal: "Only the ticket's requester can do this: open the link you were given."))
    }
}

/// Lets through the roles its group is for. Others are sent to sign in with `refusal` (a requester
/// back to the ticket's page, which asks for its link); a request for data is answered 403.
struct RoleMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let allowed: Set<Session.Role>
    let refusal: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let role = allowed.contains(.requester) && context.requesterToken != nil ? .requester : context.session.role
        if let role, allowed.contains(role) { return try await next(request, context) }
        if Pages.wantsData(request) { return Response(status: .forbidden) }
        if allowed == [.requester] {
            let parts = request.uri.path.split(separator: "/")
            return Pages.redirect(parts.count >= 2 ? "/t/\(parts[1])" : "/", error: refusal)
        }
        return Pages.redirect("/signin", error: refusal)
    }
}
