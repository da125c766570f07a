import Configuration
import Hummingbird
import TierQueueApp
import TierdeskKit

/// `tier-queue`: serves until SIGTERM; `--help` lists the settings it reads, `--version` the build.
@main
struct TierQueueCommand: ServiceCommand {
    static let configuration = commandConfiguration(
        name: TierQueue.serviceName, abstract: "Tierdesk tier-queue: the queues of levels 1-3 and the agents' work.", settings: TierQueue.settings)

    static func build(reader: ConfigReader) async throws -> some ApplicationProtocol { try await buildApplication(reader: reader) }
}
