import Configuration
import Hummingbird
import TierdeskKit
import VendorBridgeApp

/// `vendor-bridge`: serves until SIGTERM; `--help` lists the settings it reads, `--version` the build.
@main
struct VendorBridgeCommand: ServiceCommand {
    static let configuration = commandConfiguration(
        name: VendorBridge.serviceName, abstract: "Tierdesk vendor-bridge: Level 4 cases with external vendors.", settings: VendorBridge.settings)

    static func build(reader: ConfigReader) async throws -> some ApplicationProtocol { try await buildApplication(reader: reader) }
}
