import IntakeApp
import TierdeskKit

await ServiceMain.run(
    name: Intake.serviceName, summary: "Tierdesk intake: the front door and Level 0.",
    extraKeys: [
        "TIERDESK_RATE_LIMIT_PER_MINUTE\n      requests a minute per client address, anonymous and requester callers (default 120)",
        "TIERDESK_REQUESTER_RATE_LIMIT_PER_MINUTE\n      submissions a minute per requester email (default 30)",
        "TIERDESK_TRUST_FORWARDED_FOR\n      true behind a gateway: the client address is the last X-Forwarded-For hop (default false)",
    ]
) { reader in
    try await buildApplication(reader: reader)
}
