import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `vendors`. The API key rests as a hash; the signing secret, which must be
/// used again to sign webhooks, rests sealed under a key derived from the server secret.
public struct VendorStore: Sendable {
    let secret: String

    public init(secret: String) { self.secret = secret }

    /// Registers a vendor; its API key and signing secret are returned once, here.
    public func create(_ input: CreateVendorRequest, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Vendor {
        let id = UUID()
        let apiKey = Secrets.newToken(.vendorKey)
        let signingSecret = Secrets.Kind.webhookSecret.rawValue + Secrets.randomBytes(32).base64EncodedString()
        let categories = Array(Set(input.categories)).sorted()
        do {
            try await executor.execute(
                """
                INSERT INTO vendors (id, name, webhook_url, categories, api_key_hash, signing_secret_sealed, created_at)
                VALUES (\(id), \(input.name), \(input.webhookUrl), \(categories), \(Secrets.hash(apiKey)),
                        \(try Secrets.seal(signingSecret, secret: secret)), \(now))
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw VendorBridgeError.duplicateVendor(name: input.name)
        }
        return Vendor(id: id, name: input.name, webhookUrl: input.webhookUrl, categories: categories, apiKey: apiKey, signingSecret: signingSecret)
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

    static let columns = "id, name, webhook_url, categories, active"

    /// Registered active vendors by name (then id), without secrets, a page at a time after `cursor`.
    public func list(limit: Int, after cursor: VendorCursor?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Vendor> {
        let rows = try await executor.all(
            """
            SELECT \(unescaped: Self.columns) FROM vendors
            WHERE active AND (\(cursor?.name)::text IS NULL OR (name, id) > (\(cursor?.name), \(cursor?.id)))
            ORDER BY name, id LIMIT \(limit + 1)
            """, logger: logger, Vendor.init(row:))
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last.map { VendorCursor(name: $0.name, id: $0.id).encoded } : nil
        return Page(items: page, nextCursor: next)
    }

    /// Changes what a vendor covers or its standing; nil when there is no such vendor.
    public func update(_ id: UUID, with change: UpdateVendorRequest, on executor: some DatabaseExecutor, logger: Logger) async throws -> Vendor? {
        try await executor.first(
            """
            UPDATE vendors SET categories = COALESCE(\(change.categories.map { Array(Set($0)).sorted() }), categories),
                active = COALESCE(\(change.active), active)
            WHERE id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger, Vendor.init(row:))
    }

    /// Gives a vendor a new API key (the old one stops working); the vendor with it, or nil when there is no such vendor.
    public func rotateKey(id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Vendor? {
        let apiKey = Secrets.newToken(.vendorKey)
        var vendor = try await executor.first(
            "UPDATE vendors SET api_key_hash = \(Secrets.hash(apiKey)) WHERE id = \(id) RETURNING \(unescaped: Self.columns)", logger: logger, Vendor.init(row:)
        )
        vendor?.apiKey = apiKey
        return vendor
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
            active: try row.get("active"))
    }
}
