import Configuration
import Foundation
import Testing

@testable import TierdeskKit

/// Secret settings from the variable or from the file its `_FILE` form names (Docker and Kubernetes
/// secrets), and a database URL kept apart from its password.
@Suite struct SecretSettingTests {
    func reader(_ environment: [String: String]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
    }

    /// A file holding `text`, removed after `body`.
    func withFile<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-secret-\(UUID().uuidString)")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }  // a leftover temporary file harms nothing
        return try body(file.path)
    }

    @Test func aSecretComesFromTheVariableOrFromItsFile() throws {
        #expect(try TierdeskConfiguration.secret(reader(["TIERDESK_SECRET": "from-the-variable"]), "tierdesk.secret") == "from-the-variable")
        try withFile("from-a-file\n") { path throws in
            #expect(try TierdeskConfiguration.secret(reader(["TIERDESK_SECRET_FILE": path]), "tierdesk.secret") == "from-a-file")
            #expect(try TierdeskConfiguration.secret("TIERDESK_SECRET", in: ["TIERDESK_SECRET_FILE": path]) == "from-a-file")
        }
        #expect(try TierdeskConfiguration.secret(reader([:]), "tierdesk.secret") == nil)
        // An empty file is no value: a required secret is refused, never taken as "".
        try withFile("\n") { path throws in
            #expect(try TierdeskConfiguration.secret(reader(["TIERDESK_SECRET_FILE": path]), "tierdesk.secret") == nil)
            let error = #expect(throws: ConfigurationError.self) {
                try TierdeskConfiguration.required(reader(["TIERDESK_SECRET_FILE": path]), "tierdesk.secret", secret: true)
            }
            #expect(error?.description == "TIERDESK_SECRET is required (or TIERDESK_SECRET_FILE)")
        }
    }

    @Test func bothFormsOrAnUnreadableFileStopStartUpNamingTheVariable() throws {
        try withFile("one") { path throws in
            let error = #expect(throws: ConfigurationError.self) {
                try TierdeskConfiguration.secret(reader(["TIERDESK_ADMIN_TOKEN": "two", "TIERDESK_ADMIN_TOKEN_FILE": path]), "tierdesk.admin.token")
            }
            #expect(error?.description == "TIERDESK_ADMIN_TOKEN and TIERDESK_ADMIN_TOKEN_FILE are both set: set one")
        }
        let error = #expect(throws: ConfigurationError.self) {
            try TierdeskConfiguration.secret(reader(["TIERDESK_ADMIN_TOKEN_FILE": "/nonexistent/admin_token"]), "tierdesk.admin.token")
        }
        #expect(error?.description == "TIERDESK_ADMIN_TOKEN_FILE names a file that cannot be read: '/nonexistent/admin_token'")
    }

    @Test func everySharedSecretOfAServiceReadsItsFile() throws {
        let token = String(repeating: "a", count: 20)
        let configuration = try withFile(token + "\n") { admin in
            try withFile(String(repeating: "i", count: 20)) { internalToken in
                try withFile("compose-password\n") { password in
                    try TierdeskConfiguration(
                        reader: reader([
                            "TIERDESK_DATABASE_URL": "postgres://tierdesk_intake@postgres:5432/tierdesk", "TIERDESK_DATABASE_PASSWORD_FILE": password,
                            "TIERDESK_ADMIN_TOKEN_FILE": admin, "TIERDESK_INTERNAL_TOKEN_FILE": internalToken,
                        ]), serviceName: "triage", defaultPort: 8081)
                }
            }
        }
        #expect(configuration.bootstrapTokenDigest == Secrets.digest(token) && configuration.internalToken == String(repeating: "i", count: 20))
        let database = try DatabaseSettings(url: configuration.databaseURL)
        #expect(database.username == "tierdesk_intake" && database.password == "compose-password" && database.host == "postgres")
    }

    @Test(arguments: ["hex0123abcd", "p@ss:w/rd?#%+ é", "'quoted' \"and\" spaced"])
    func aPasswordKeptApartReachesTheConnectionUnchanged(_ password: String) throws {
        let url = try TierdeskConfiguration.databaseURL(in: [
            "TIERDESK_DATABASE_URL": "postgres://tierdesk@db:5432/tierdesk", "TIERDESK_DATABASE_PASSWORD": password,
        ])
        let settings = try DatabaseSettings(url: url)
        #expect(settings.password == password && settings.username == "tierdesk" && settings.database == "tierdesk" && settings.port == 5432)
        // It replaces a password the URL carries; without one the URL is used as it is.
        #expect(try DatabaseSettings(url: TierdeskConfiguration.databaseURL("postgres://u:old@db/d", password: password)).password == password)
        #expect(try TierdeskConfiguration.databaseURL("postgres://u:old@db/d", password: nil) == "postgres://u:old@db/d")
    }

    @Test func theDatabaseURLIsRequiredInEitherForm() throws {
        let error = #expect(throws: ConfigurationError.self) { try TierdeskConfiguration.databaseURL(in: ["TIERDESK_DATABASE_PASSWORD": "x"]) }
        #expect(error?.description == "TIERDESK_DATABASE_URL is required (or TIERDESK_DATABASE_URL_FILE)")
        try withFile("postgres://tierdesk@db:5432/tierdesk\n") { path throws in
            #expect(try TierdeskConfiguration.databaseURL(reader(["TIERDESK_DATABASE_URL_FILE": path])) == "postgres://tierdesk@db:5432/tierdesk")
        }
    }

    @Test func helpListsEverySecretWithItsFileForm() {
        let names = ConfigSetting.secret("tierdesk.console.secret", "the console's secret").map(\.name)
        #expect(names == ["TIERDESK_CONSOLE_SECRET", "TIERDESK_CONSOLE_SECRET_FILE"])
    }
}
