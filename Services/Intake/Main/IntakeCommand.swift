import Configuration
import Hummingbird
import IntakeApp
import TierdeskKit

/// `intake`: serves until SIGTERM; `--help` lists the settings it reads, `--version` the build.
@main
struct IntakeCommand: ServiceCommand {
    static let configuration = commandConfiguration(
        name: Intake.serviceName, abstract: "Tierdesk intake: the front door and Level 0.", settings: Intake.settings)

    static func build(reader: ConfigReader) async throws -> some ApplicationProtocol { try await buildApplication(reader: reader) }
}
