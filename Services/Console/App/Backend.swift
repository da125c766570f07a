import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TierdeskKit
import TierdeskModels

/// The four services' public APIs, called with the signed-in person's own token.
struct Backend: Sendable {
    enum Service: String, Sendable {
        case intake, triage
        case tierQueue = "tier-queue"
        case vendorBridge = "vendor-bridge"
    }

    /// A refusal or failure of a service (or the console's own refusal of a form value), with the
    /// problem's detail to show; `Failure+Pages.swift` says what each kind means to the visitor.
    struct Failure: Error, Sendable {
        var status: Int
        var detail: String
        var fields: [FieldError]
        /// The service that answered (nil: the console refused a form value itself, sending nothing).
        var service: Service? = nil
        /// The SHA-256 of the token the call carried: a 401 for it ends the session holding it.
        var tokenHash: Data? = nil
        /// What went wrong underneath (a connection error, an answer that did not decode), for the log only.
        var cause: String? = nil
        /// The problem's `type`, where a page tells refusals apart (a sign-in that needs a code).
        var type: String? = nil

        /// A form value the console refuses before sending anything.
        static func refused(_ message: String) -> Failure { Failure(status: 422, detail: message, fields: []) }

        /// The fields the service named, as one line (`subject: is required; ...`); nil when it named none.
        var fieldList: String? {
            fields.isEmpty ? nil : fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        }

        /// What a page shows: the problem's detail, with the fields it named unless the detail says them already.
        var message: String {
            guard let fieldList, !fields.allSatisfy({ detail.contains($0.message) }) else { return detail }
            return "\(detail) (\(fieldList))"
        }
    }

    let urls: [Service: String]
    /// Each level's own tier-queue instance, where levels run apart (`/v1/queues/N` goes there).
    var queueURLs: [Int: String] = [:]
    let logger: Logger

    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    func get<T: Decodable>(_ type: T.Type, _ service: Service, _ path: String, token: String?) async throws -> T {
        try await send(type, .GET, service, path, token: token, body: NoBody?.none)
    }

    /// Sends `body` as JSON (nil: no body) and decodes a 2xx answer as `T`.
    func send<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ service: Service, _ path: String, token: String?, body: (some Encodable & Sendable)?,
        headers: [(String, String)] = []
    ) async throws -> T {
        let buffer = try await raw(method, service, path, token: token, body: body, headers: headers)
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(buffer: buffer))
        } catch {
            throw Failure(
                status: 502, detail: "\(service.rawValue) answered what the console cannot read", fields: [], service: service,
                cause: String(reflecting: error))
        }
    }

    /// One page of a list: `path` (its own query kept) with `limit` and the `cursor` of the page before.
    func page<Item: Sendable & Codable & Equatable>(_ type: Item.Type, _ service: Service, _ path: String, limit: Int, cursor: String?, token: String?)
        async throws -> Page<Item>
    {
        var address = path + (!path.contains("?") ? "?" : path.hasSuffix("?") ? "" : "&") + "limit=\(limit)"
        if let cursor { address += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
        return try await get(Page<Item>.self, service, address, token: token)
    }

    /// Every item of a list, page after page (a choice that must offer them all).
    func all<Item: Sendable & Codable & Equatable>(_ type: Item.Type, _ service: Service, _ path: String, token: String?) async throws -> [Item] {
        var items: [Item] = []
        var cursor: String?
        repeat {
            let page = try await page(Item.self, service, path, limit: Page<Item>.maxLimit, cursor: cursor, token: token)
            items += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return items
    }

    /// The body of a 2xx answer; a `Failure` with the problem's detail otherwise.
    func raw(
        _ method: HTTPMethod, _ service: Service, _ path: String, token: String?, body: (some Encodable & Sendable)?, headers: [(String, String)] = []
    ) async throws -> ByteBuffer {
        var base = urls[service, default: ""]
        if service == .tierQueue, path.hasPrefix("/v1/queues/"), let tier = Int(path.dropFirst("/v1/queues/".count).prefix(1)), let own = queueURLs[tier] {
            base = own
        }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let visitor = SessionMiddleware.visitor { request.headers.add(name: "X-Forwarded-For", value: visitor) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(try JSONCoding.encode(body))
        }
        let response: HTTPClientResponse
        do {
            response = try await Self.client.execute(request, timeout: .seconds(10), logger: logger)
        } catch {
            throw Failure(
                status: 503, detail: "\(service.rawValue) cannot be reached", fields: [], service: service, cause: String(reflecting: error))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: 8 << 20)
        } catch {
            throw Failure(status: 502, detail: "\(service.rawValue)'s answer broke off", fields: [], service: service, cause: String(reflecting: error))
        }
        guard (200..<300).contains(response.status.code) else {
            let problem = try? JSONCoding.decoder.decode(Problem.self, from: Data(buffer: buffer))  // try?: not problem+json: it fails with its status
            throw Failure(
                status: Int(response.status.code), detail: problem?.detail ?? problem?.title ?? "\(service.rawValue) answered \(response.status.code)",
                fields: problem?.errors ?? [], service: service, tokenHash: token.map(Secrets.hash), type: problem?.type)
        }
        return buffer
    }
}

/// No body.
struct NoBody: Encodable, Sendable {}
