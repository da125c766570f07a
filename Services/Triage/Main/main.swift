import TierdeskKit
import TriageApp

await ServiceMain.run(name: Triage.serviceName, summary: "Tierdesk triage: classification, priority and routing (Level 1).") { reader in
    try await buildApplication(reader: reader)
}
