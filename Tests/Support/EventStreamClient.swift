import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One Server-Sent Event as a client reads it (a comment line is kept as `comment`).
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String
    public var comment: String?

    public init(id: String? = nil, event: String? = nil, data: String = "", comment: String? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.comment = comment
    }
}

/// Splits a `text/event-stream` into events as its bytes arrive (the subset Tierdesk writes: `id`,
/// `event`, one `data` line, comments, `retry`).
public struct EventStreamParser: Sendable {
    var pending = ""
    var current = ServerSentEvent()
    var started = false

    public init() {}

    /// The events completed by `text`.
    public mutating func feed(_ text: String) -> [ServerSentEvent] {
        pending += text
        var events: [ServerSentEvent] = []
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline])
            pending = String(pending[pending.index(after: newline)...])
            if line.isEmpty {
                if started { events.append(current) }
                current = ServerSentEvent()
                started = false
            } else if line.hasPrefix(":") {
                current.comment = line.dropFirst().trimmingCharacters(in: .whitespaces)
                started = true
            } else {
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                let value = parts.count > 1 ? String(parts[1].drop { $0 == " " }) : ""
                switch parts[0] {
                case "id": current.id = value
                case "event": current.event = value
                case "data": current.data = current.data.isEmpty ? value : current.data + "\n" + value
                default: break
                }
                started = parts[0] != "retry" || started
            }
        }
        return events
    }
}

/// A live `text/event-stream` read in the background: its status, headers, and the events so far.
public final class EventStreamClient: Sendable {
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    private let events = Mutex<[ServerSentEvent]>([])
    private let ended = Mutex(false)
    private let reader = Mutex<Task<Void, Never>?>(nil)
    private let client: HTTPClient

    private init(status: HTTPResponseStatus, headers: HTTPHeaders, client: HTTPClient) {
        self.status = status
        self.headers = headers
        self.client = client
    }

    /// Opens `url` with `headers` (a bearer token, `Last-Event-ID`); reading starts at once.
    public static func open(_ url: String, headers: [(String, String)] = []) async throws -> EventStreamClient {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(30))
        } catch {
            try await client.shutdown()
            throw error
        }
        let stream = EventStreamClient(status: response.status, headers: response.headers, client: client)
        let body = response.body
        let task = Task { [stream] in
            var parser = EventStreamParser()
            do {
                for try await buffer in body {
                    let parsed = parser.feed(String(buffer: buffer))
                    stream.events.withLock { $0 += parsed }
                }
            } catch {}
            stream.ended.withLock { $0 = true }
        }
        stream.reader.withLock { $0 = task }
        return stream
    }

    /// The events read so far.
    public var received: [ServerSentEvent] { events.withLock { $0 } }
    /// Whether the server ended the stream.
    public var isEnded: Bool { ended.withLock { $0 } }

    /// Waits until `condition` holds for the events read so far (or the stream ends); false after `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(10), until condition: ([ServerSentEvent]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(received) { return true }
            if isEnded { return condition(received) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition(received)
    }

    /// Stops reading and closes the connection.
    public func close() async throws {
        reader.withLock { $0?.cancel() }
        try await client.shutdown()
    }
}
