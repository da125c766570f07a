import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `vendors`. The API key rests as a hash; the signing secret, which must be
/// used again to sign webhooks, rests sealed under a key derived from the server secret.
public struct VendorStore: Sendable {
    /// Seals and opens the signing secrets (the server secret's sealing key, not the server secret).
    public let sealingKey: SealingKey

    public init(sealingKey: SealingKey) { self.sealingKey = sealingKey }

    /// Registers a vendor; its API key and signing secret are returned once, here.
    public func create(_ input: CreateVendorRequest, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Vendor {
        let id = UUID()
        let apiKey = Secrets.newToken(.vendorKey)
        let signingSecret = Secrets.Kind.webhookSecret.rawValue + Secrets.randomBytes(32).base64EncodedString()
        let categories = Array(Set(input.categories)).sorted()
        let contract = String(buffer: try JSONCoding.encode(input.contract ?? VendorContract()))
        var vendor: Vendor?
        do {
            vendor = try await executor.first(
                """
                INSERT INTO vendors (
                    id, name, webhook_url, categories, products, contract, api_key_hash, api_key_expires_at, signing_secret_sealed, created_at)
                VALUES (\(id), \(input.name), \(input.webhookUrl), \(categories), \(input.products ?? []), \(contract)::jsonb, \(Secrets.hash(apiKey)),
                        \(input.apiKeyExpiresAt), \(try sealingKey.seal(signingSecret)), \(now))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger, Vendor.init(row:))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw VendorBridgeError.duplicateVendor(name: input.name)
        }
        guard var vendor else { throw VendorBridgeError.vendorNotFound }
        vendor.apiKey = apiKey
        vendor.signingSecret = signingSecret
        return vendor
    }

    /// One vendor, without secrets; nil when there is no such vendor.
    public func find(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Vendor? {
        try await executor.first("SELECT \(unescaped: Self.columns) FROM vendors WHERE id = \(id)", logger: logger, Vendor.init(row:))
    }

    /// Gives an existing vendor (by name) a new API key; nil when there is no such vendor.
    public func rotateKey(name: String, on executor: some DatabaseExecutor, logger: Logger) async throws -> (UUID, String)? {
        let apiKey = Secrets.newToken(.vendorKey)
        let id = try await executor.first(
            "UPDATE vendors SET api_key_hash = \(Secrets.hash(apiKey)) WHERE name = \(name) RETURNING id", logger: logger
        ) { try $0.get("id", as: UUID.self) }
        return id.map { ($0, apiKey) }
    }

    /// The vendor to take a Level 4 case: `id` if active, else the first (by name) whose categories
    /// include `category`.
    public func match(id: UUID?, category: String?, on executor: some DatabaseExecutor, logger: Logger) async throws -> UUID? {
        if let id {
            return try await executor.first("SELECT id FROM vendors WHERE id = \(id) AND active", logger: logger) { try $0.get("id", as: UUID.self) }
        }
        guard let category else { return nil }
        return try await executor.first(
            "SELECT id FROM vendors WHERE active AND \(category) = ANY(categories) ORDER BY name LIMIT 1", logger: logger
        ) { try $0.get("id", as: UUID.self) }
    }

    static let columns = """
        id, name, webhook_url, categories, products, contract::text AS contract, active, api_key_expires_at,
        CASE WHEN previous_api_key_until > now() THEN previous_api_key_until END AS previous_api_key_until
        """

    /// Registered active vendors by name (then id), without secrets, a page at a time after `cursor`.
    public func list(limit: Int, after cursor: VendorCursor?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Vendor> {
        let rows = try await executor.all(
            """
            SELECT \(unescaped: Self.columns) FROM vendors
            WHERE active AND (\(cursor?.name)::text IS NULL OR (name, id) > (\(cursor?.name), \(cursor?.id)))
            ORDER BY name, id LIMIT \(limit + 1)
            """, logger: logger, Vendor.init(row:))
        return Page(fetched: rows, limit: limit) { VendorCursor(name: $0.name, id: $0.id).encoded }
    }

    /// Changes what a vendor covers, its webhook, its contract or its standing; nil when there is no such vendor.
    public func update(_ id: UUID, with change: UpdateVendorRequest, on executor: some DatabaseExecutor, logger: Logger) async throws -> Vendor? {
        let contract = try change.contract.map { String(buffer: try JSONCoding.encode($0)) }
        return try await executor.first(
            """
            UPDATE vendors SET categories = COALESCE(\(change.categories.map { Array(Set($0)).sorted() }), categories),
                products = COALESCE(\(change.products), products), webhook_url = COALESCE(\(change.webhookUrl), webhook_url),
                contract = COALESCE(\(contract)::jsonb, contract), active = COALESCE(\(change.active), active)
            WHERE id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger, Vendor.init(row:))
    }

    /// Gives a vendor a new API key, good until `expiresAt` (nil: no end); the old one keeps working
    /// for `overlap` (not at all when zero, nor past its own expiry). The vendor with its new key, or nil when there is no such vendor.
    public func rotateKey(id: UUID, overlap: Duration, expiresAt: Date? = nil, on executor: some DatabaseExecutor, logger: Logger) async throws -> Vendor? {
        let apiKey = Secrets.newToken(.vendorKey)
        let seconds = overlap.seconds
        var vendor = try await executor.first(
            """
            UPDATE vendors SET previous_api_key_hash = CASE WHEN \(seconds) > 0 THEN api_key_hash END,
                previous_api_key_until = CASE WHEN \(seconds) > 0
                    THEN LEAST(now() + make_interval(secs => \(seconds)), COALESCE(api_key_expires_at, 'infinity')) END,
                api_key_hash = \(Secrets.hash(apiKey)), api_key_expires_at = \(expiresAt)
            WHERE id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger, Vendor.init(row:))
        vendor?.apiKey = apiKey
        return vendor
    }

    /// A vendor's contract, for a case being opened.
    func contract(of id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> VendorContract? {
        try await executor.first("SELECT contract::text AS contract FROM vendors WHERE id = \(id)", logger: logger) { row in
            try Self.contract(row)
        }
    }

    static func contract(_ row: PostgresRandomAccessRow) throws -> VendorContract {
        try JSONCoding.decoder.decode(VendorContract.self, from: Data(try row.get("contract", as: String.self).utf8))
    }
}

/// Where a page of vendors ends: the last vendor's name and id, opaque to clients.
public struct VendorCursor: Sendable, Equatable {
    public var name: String
    public var id: UUID

    public init(name: String, id: UUID) {
        self.name = name
        self.id = id
    }

    /// The name travels base64url-encoded: it may hold the `|` that separates a cursor's parts.
    public var encoded: String { Cursor.encode([Secrets.base64URL(Data(name.utf8)), id.uuidString]) }

    /// Parses a cursor; nil for anything this service did not hand out.
    public init?(encoded: String) {
        guard let parts = Cursor.decode(encoded, count: 2), let data = Secrets.fromBase64URL(parts[0]), let name = String(data: data, encoding: .utf8),
            let id = UUID(uuidString: parts[1])
        else { return nil }
        self.init(name: name, id: id)
    }
}

extension Vendor {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), name: try row.get("name"), webhookUrl: try row.get("webhook_url"), categories: try row.get("categories"),
            products: try row.get("products"), contract: try VendorStore.contract(row), active: try row.get("active"),
            previousKeyValidUntil: try row.get("previous_api_key_until"), apiKeyExpiresAt: try row.get("api_key_expires_at"))
    }
}
