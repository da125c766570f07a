import ArgumentParser
import Configuration
import Foundation
import TierdeskKit

/// `tierdesk mail-in`: one RFC 5322 message on standard input, for an MTA's pipe transport or
/// fetchmail's `--mda`, as Request Tracker's rt-mailgate does. The exit code tells the MTA what to
/// do (sysexits): 0 delivered, 75 try again later, 65 never (bounce), 78 a setting is missing.
struct MailInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail-in",
        abstract: "Deliver one message from standard input to intake's mail gateway (for an MTA's pipe or fetchmail --mda).",
        discussion: """
            Postfix master.cf: tierdesk unix - n n - - pipe flags=Rq user=tierdesk \
            argv=/usr/local/bin/tierdesk mail-in --recipient ${original_recipient} --sender ${sender}
            Exit codes: 0 delivered (or recognised as a repeat), 75 intake unreachable, slow, overloaded or refusing the token \
            (the MTA keeps the message and retries), 65 the message can never be accepted, 78 a setting is missing.

            \(ConfigSetting.help(MailInSettings.settings))
            """)

    @Option(help: "The envelope recipient (Postfix: ${original_recipient}), where a ticket's reply address arrives.") var recipient: String?
    @Option(help: "The envelope sender (Postfix: ${sender}; empty for a bounce). Without it, the Return-Path header is read.") var sender: String?

    func run() async throws {
        let settings: MailInSettings
        do {
            settings = try MailInSettings(reader: ConfigReader(provider: EnvironmentVariablesProvider()))
        } catch {
            Self.finish(.configuration, "mail-in: \(error)")
        }
        let raw = Self.readStandardInput(limit: settings.maxBytes + 1)
        let (code, line) = await MailIn(settings: settings).deliver(raw, recipient: recipient, sender: sender)
        Self.finish(code, line)
    }

    /// Up to `limit` bytes of standard input (the rest is not read: the message is refused as too large).
    static func readStandardInput(limit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    /// Prints `line` on standard error and exits with `code`.
    static func finish(_ code: SysExit, _ line: String) -> Never {
        FileHandle.standardError.write(Data((line + "\n").utf8))
        Foundation.exit(code.rawValue)
    }
}
