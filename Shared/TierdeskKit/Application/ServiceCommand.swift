import ArgumentParser
import Configuration
import Foundation
import Hummingbird

/// The command line of a server executable (the four services and the console): `--help` with its
/// summary and exactly the settings it reads, `--version`, and no other argument. Run, it reads its
/// configuration from the environment and serves until SIGTERM (`ServiceMain.serve`).
public protocol ServiceCommand: AsyncParsableCommand {
    associatedtype App: ApplicationProtocol
    /// The executable's name, as its configuration errors name it.
    static var name: String { get }
    /// Builds the application from the environment's configuration.
    static func build(reader: ConfigReader) async throws -> App
}

extension ServiceCommand {
    public static var name: String { configuration.commandName ?? "tierdesk" }

    public func run() async throws {
        await ServiceMain.serve(name: Self.name, build: Self.build)
    }

    /// The command's `--help` and `--version`: its name, summary and the settings it reads.
    public static func commandConfiguration(name: String, abstract: String, settings: [ConfigSetting]) -> CommandConfiguration {
        CommandConfiguration(
            commandName: name, abstract: abstract,
            discussion: ConfigSetting.help(settings) + "\n\nEndpoints: see GET /openapi.yaml on the running service.", version: TierdeskVersion.current)
    }
}

/// The version every executable of this build reports (`--version`).
public enum TierdeskVersion {
    /// Raised with each release; the APIs' own version is in their OpenAPI documents.
    public static let current = "1.24.0"
}
