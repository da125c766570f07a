import IntakeApp
import TierdeskKit

await ServiceMain.run(
    name: Intake.serviceName, summary: "Tierdesk intake: the front door and Level 0.",
    extraKeys: [
        "TIERDESK_RATE_LIMIT_PER_MINUTE\n      requests a minute per client address, anonymous and requester callers (default 120)",
        "TIERDESK_REQUESTER_RATE_LIMIT_PER_MINUTE\n      submissions a minute per requester email (default 30)",
        "TIERDESK_INTEGRATION_RATE_LIMIT_PER_MINUTE\n      submissions a minute per integration key that sets no rate of its own (default 600)",
        "TIERDESK_MAIL_GATEWAY_TOKEN\n      the mail gateway's bearer token for POST /v1/inbound/email, 16+ characters (unset: the endpoint is closed)",
    ]
) { reader in
    try await buildApplication(reader: reader)
}
