import Foundation
import Logging
import PostgresNIO
import TierdeskKit

extension VendorStore {
    /// Gives an existing vendor (by name) a new API key and a new signing secret, and points its
    /// webhooks at `webhookUrl`, in one statement; the new credentials are returned once, here (they
    /// rest as a hash and sealed, as `create` leaves them). Nil when there is no such vendor. For
    /// `tierdesk seed-demo`, whose simulator needs both credentials on every run.
    public func reissueDemoCredentials(
        name: String, webhookUrl: String, on executor: some DatabaseExecutor, logger: Logger
    ) async throws -> (id: UUID, apiKey: String, signingSecret: String)? {
        let apiKey = Secrets.newToken(.vendorKey)
        let signingSecret = Secrets.Kind.webhookSecret.rawValue + Secrets.randomBytes(32).base64EncodedString()
        let id = try await executor.first(
            """
            UPDATE vendors SET api_key_hash = \(Secrets.hash(apiKey)), signing_secret_sealed = \(try sealingKey.seal(signingSecret)),
                webhook_url = \(webhookUrl)
            WHERE name = \(name) RETURNING id
            """, logger: logger
        ) { try $0.get("id", as: UUID.self) }
        return id.map { ($0, apiKey, signingSecret) }
    }
}
