import Configuration
import Foundation
import Testing

@testable import TierdeskKit

/// `TIERDESK_SMTP_*` and `TIERDESK_MAIL_*` as a service reads them: no I/O but the password file.
@Suite struct MailSettingsTests {
    func settings(_ environment: [String: String]) throws -> MailSettings {
        try MailSettings(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
    }

    @Test func withoutAHostMailWaits() throws {
        let mail = try settings(["TIERDESK_MAIL_REPLY_DOMAIN": "help.example.com"])
        #expect(mail.smtp == nil && mail.replyDomain == "help.example.com" && mail.dispatch.connections == 4)
    }

    @Test func aHostWithItsDefaults() throws {
        let smtp = try #require(try settings(["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "Help desk <help@example.com>"]).smtp)
        #expect(smtp.port == 587 && smtp.tls == .starttls && smtp.credentials == nil && smtp.timeout == .seconds(30))
        #expect(smtp.from == MailAddress("help@example.com", name: "Help desk"))
        let implicit = try #require(
            try settings(["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_TLS": "tls"]).smtp)
        #expect(implicit.port == 465)
    }

    @Test func thePasswordComesFromAFileToo() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-password-\(UUID().uuidString)")
        try "from-a-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let smtp = try #require(
            try settings([
                "TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_USER": "mailer",
                "TIERDESK_SMTP_PASSWORD_FILE": file.path,
            ]).smtp)
        #expect(smtp.credentials?.user == "mailer" && smtp.credentials?.password == "from-a-file")
    }

    @Test(arguments: [
        ["TIERDESK_SMTP_HOST": "smtp.example.com"],  // no sender
        ["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "not an address"],
        ["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_TLS": "ssl"],
        ["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_TLS": "none"],  // plain, off this machine
        ["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_USER": "mailer"],  // no password
        ["TIERDESK_SMTP_HOST": "smtp.example.com", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_PASSWORD_FILE": "/nonexistent"],
        ["TIERDESK_SMTP_PORT": "0"], ["TIERDESK_MAIL_REPLY_DOMAIN": "not a domain"],
    ])
    func aBadSettingStopsStartUpAndNamesItself(_ environment: [String: String]) {
        #expect(throws: ConfigurationError.self) { try settings(environment) }
    }

    @Test func plainSMTPOnThisMachineOnly() throws {
        let smtp = try #require(try settings(["TIERDESK_SMTP_HOST": "127.0.0.1", "TIERDESK_SMTP_FROM": "help@example.com", "TIERDESK_SMTP_TLS": "none"]).smtp)
        #expect(smtp.tls == .none && smtp.port == 587)
    }
}
