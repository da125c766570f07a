import Foundation
import Hummingbird
import TierdeskKit
import TierdeskModels

/// Single sign-on's two internal routes, for the console (internal token only): after it verified
/// an ID token, a sign-in links, creates or updates the staff person and mints their session token;
/// at sign-out, the session token is revoked.
struct StaffSignInController: Sendable {
    let deps: TierQueueDependencies

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("internal/v1/staff-sign-ins") { request, context in
            try context.requireInternal()
            let input = try await request.decodeJSON(StaffSignInRequest.self, context: context)
            try input.validate()
            let now = deps.runtime.clock.now()
            // A console session lasts at most 720 hours (TIERDESK_CONSOLE_SESSION_MAX_HOURS).
            guard input.sessionExpiresAt > now, input.sessionExpiresAt <= now.addingTimeInterval(720 * 3600) else {
                throw Problem.validation([FieldError(field: "sessionExpiresAt", message: "must be in the future, within 720 hours")])
            }
            let outcome = try await deps.staffSignIns.signIn(input, via: try AuditActor(context), on: deps.runtime.postgres, now: now, logger: context.logger)
            switch outcome {
            case .signedIn(let person):
                context.logger.info("staff signed in by single sign-on", metadata: ["staff.id": "\(person.id)", "staff.role": "\(person.role)"])
                return JSONResponse(person, status: .created)
            case .noRole(let personID, let revoked):
                context.logger.notice(
                    "single sign-on refused: in no mapped group", metadata: ["staff.id": "\(personID.map(\.uuidString) ?? "none")", "revoked": "\(revoked)"])
                throw Problem(
                    type: Problem.typeBase + "no-staff-role", title: "Forbidden", status: 403,
                    detail: "your account at the identity provider is in none of the groups that give a role here; ask an administrator")
            case .notStaff(let why):
                throw Problem(type: Problem.typeBase + "not-staff", title: "Forbidden", status: 403, detail: why)
            case .deactivated:
                throw Problem(type: Problem.typeBase + "deactivated", title: "Forbidden", status: 403, detail: "your staff account is deactivated")
            case .linkedElsewhere:
                throw Problem.conflict(
                    "a staff person with this email is linked to another account at the identity provider", type: "identity-mismatch")
            }
        }
    }
}
