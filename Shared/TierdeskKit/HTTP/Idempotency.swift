import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import TierdeskModels

/// A response kept for an idempotency key, replayed as it was.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var body: String
    public var location: String?
    /// True when this answer is a replay of an earlier request.
    public var replayed: Bool

    public init(status: Int, body: String, location: String? = nil, replayed: Bool = false) {
        self.status = status
        self.body = body
        self.location = location
        self.replayed = replayed
    }

    public init(_ value: some Encodable, status: HTTPResponse.Status, location: String? = nil) throws {
        self.init(status: status.code, body: try JSONCoding.string(value), location: location)
    }

    public func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let location { headers[.location] = location }
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `Idempotency-Key` as payment APIs define it: the same key with the same body returns the first
/// response; with another body it is 422; concurrent requests with one key create one thing; keys
/// expire after 24 hours. The key's row commits in the same transaction as what it created: a
/// concurrent request blocks on the row, then replays; a failed first request leaves no key behind.
public struct Idempotency: Sendable {
    public static let lifetime: TimeInterval = 24 * 3600
    public static let header = HTTPField.Name("Idempotency-Key")!

    public init() {}

    /// The key of a request, or nil; 422 for a malformed one.
    public static func key(of request: Request) throws -> String? {
        guard let key = request.headers[header] else { return nil }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw Problem.validation([FieldError(field: "Idempotency-Key", message: "must be 1-255 visible ASCII characters")])
        }
        return key
    }

    /// Whether a key looks like at least 128 random bits (32 or more characters of base64url, hex or a
    /// UUID's, with no long runs of one character): what an anonymous caller must send, since anyone
    /// who guesses its key (an alert id, a counter) and body would be answered its replay.
    public static func isUnguessable(_ key: String) -> Bool {
        let allowed = key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
        return allowed && key.count >= 32 && Set(key).count >= 12
    }

    /// A hash of the request's meaning: the JSON body with its keys sorted, so spacing and key order do not count.
    public static func fingerprint(_ value: some Encodable) throws -> Data {
        Data(SHA256.hash(data: Data(try JSONCoding.string(value).utf8)))
    }

    /// Runs `create` in a transaction, once per (scope, key); without a key it simply runs it.
    public func run(
        key: String?, scope: String, fingerprint: Data, client: PostgresClient, now: Date, logger: Logger,
        _ create: (PostgresConnection) async throws -> StoredResponse
    ) async throws -> StoredResponse {
        try await client.transaction(logger: logger) { connection in
            guard let key else { return try await create(connection) }
            try await connection.execute(
                "DELETE FROM idempotency_keys WHERE scope = \(scope) AND key = \(key) AND created_at < \(now.addingTimeInterval(-Self.lifetime))",
                logger: logger)
            let claimed = try await connection.first(
                """
                INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES (\(scope), \(key), \(fingerprint), \(now))
                ON CONFLICT DO NOTHING RETURNING key
                """, logger: logger
            ) { try $0.get("key", as: String.self) }
            if claimed == nil {
                return try await replay(key: key, scope: scope, fingerprint: fingerprint, on: connection, logger: logger)
            }
            let response = try await create(connection)
            try await connection.execute(
                """
                UPDATE idempotency_keys SET response_status = \(Int16(response.status)), response_body = \(response.body),
                    response_location = \(response.location)
                WHERE scope = \(scope) AND key = \(key)
                """, logger: logger)
            return response
        }
    }

    private func replay(key: String, scope: String, fingerprint: Data, on connection: PostgresConnection, logger: Logger) async throws -> StoredResponse {
        let stored = try await connection.first(
            "SELECT request_hash, response_status, response_body, response_location FROM idempotency_keys WHERE scope = \(scope) AND key = \(key)",
            logger: logger
        ) { row in
            (
                try row.get("request_hash", as: Data.self), try row.get("response_status", as: Int16?.self), try row.get("response_body", as: String?.self),
                try row.get("response_location", as: String?.self)
            )
        }
        guard let (hash, status, body, location) = stored, let status, let body else {
            throw Problem.conflict("a request with this Idempotency-Key is still being processed; retry shortly", type: "idempotency-in-progress")
        }
        guard hash == fingerprint else {
            throw Problem(
                type: Problem.typeBase + "idempotency-key-reused", title: "Idempotency-Key reused", status: 422,
                detail: "this Idempotency-Key was used with a different request body",
                errors: [FieldError(field: "Idempotency-Key", message: "was used with a different request body")])
        }
        return StoredResponse(status: Int(status), body: body, location: location, replayed: true)
    }

    /// Removes expired keys (run now and then by a service that uses keys).
    public static func removeExpired(client: PostgresClient, now: Date, logger: Logger) async throws {
        try await client.execute("DELETE FROM idempotency_keys WHERE created_at < \(now.addingTimeInterval(-lifetime))", logger: logger)
    }
}
