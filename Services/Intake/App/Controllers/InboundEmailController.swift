import Foundation
import Hummingbird
import Logging
import TierdeskKit
import TierdeskModels

/// Mail from the mail gateway (its own token, `TIERDESK_MAIL_GATEWAY_TOKEN`); see `MailIntake`.
struct InboundEmailController: Sendable {
    let deps: IntakeDependencies

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("v1/inbound/email", use: receive)
    }

    @Sendable func receive(request: Request, context: AppRequestContext) async throws -> JSONResponse<InboundEmailResult> {
        guard try context.authenticated() == .mailGateway else { throw Problem.forbidden("this endpoint is for the mail gateway's token") }
        let mail = try await request.decodeJSON(InboundEmail.self, context: context)
        try mail.validate()
        let (mailIntake, now, logger) = (deps.mail, deps.runtime.clock.now(), context.logger)
        let result = try await deps.runtime.postgres.transaction(logger: logger) { connection in
            try await mailIntake.receive(mail, on: connection, now: now, logger: logger)
        }
        return JSONResponse(result, status: result.outcome == .created ? .created : .ok)
    }
}
