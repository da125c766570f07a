import IntakeApp
import TierdeskKit

await ServiceMain.run(name: Intake.serviceName, summary: "Tierdesk intake: the front door and Level 0.") { reader in
    try await buildApplication(reader: reader)
}
