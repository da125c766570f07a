import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `mail_bounces`: addresses whose mail bounced. A bounce marks only addresses
/// Tierdesk has mailed (a row of `mail_outbox`), so a forged bounce cannot mark anybody else; a
/// person's mail from the address clears the mark.
public struct MailBounceStore: Sendable {
    public init() {}

    /// Marks the failed recipients of `report` that Tierdesk has mailed; returns the addresses marked.
    public func mark(_ report: MailBounceReport, messageID: String, on connection: PostgresConnection, now: Date, logger: Logger) async throws
        -> [String]
    {
        var marked: [String] = []
        for recipient in report.failed {
            let address = recipient.address.trimmingCharacters(in: .whitespacesAndNewlines)
            let normalized = RequesterStore.normalize(address)
            let row = try await connection.first(
                """
                INSERT INTO mail_bounces (address_normalized, address, status, diagnostic, message_id, first_bounced_at, last_bounced_at)
                SELECT \(normalized), \(address), \(recipient.status), \(recipient.diagnostic), \(messageID), \(now), \(now)
                WHERE EXISTS (SELECT 1 FROM mail_outbox WHERE lower(recipient) = \(normalized))
                ON CONFLICT (address_normalized) DO UPDATE SET
                    status = EXCLUDED.status, diagnostic = EXCLUDED.diagnostic, message_id = EXCLUDED.message_id,
                    last_bounced_at = EXCLUDED.last_bounced_at, bounces = mail_bounces.bounces + 1
                RETURNING address
                """, logger: logger
            ) { try $0.get("address", as: String.self) }
            if let row { marked.append(row) }
        }
        return marked
    }

    /// Clears the mark of `address`: mail from it proves it works again.
    public func clear(_ address: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("DELETE FROM mail_bounces WHERE address_normalized = \(RequesterStore.normalize(address))", logger: logger)
    }
}
