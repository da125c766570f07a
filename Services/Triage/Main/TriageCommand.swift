import Configuration
import Hummingbird
import TierdeskKit
import TriageApp

/// `triage`: serves until SIGTERM; `--help` lists the settings it reads, `--version` the build.
@main
struct TriageCommand: ServiceCommand {
    static let configuration = commandConfiguration(
        name: Triage.serviceName, abstract: "Tierdesk triage: classification, priority, routing and problems (Level 1).", settings: Triage.settings)

    static func build(reader: ConfigReader) async throws -> some ApplicationProtocol { try await buildApplication(reader: reader) }
}
