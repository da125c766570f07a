import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// An agent's notifications: the page (newest first, read marks, the mail choice), the header's
/// count and short list (`notifications.json`), and the relay of tier-queue's live stream with the
/// session's own token, which the header and the queue page listen to (`console.js`).
struct NotificationPages: Sendable {
    let backend: Backend

    func addRoutes(to groups: RouteGroups) {
        groups.agentOnly.get("notifications", use: page)
        groups.agentOnly.get("notifications.json", use: latest)
        groups.agentOnly.post("notifications/read", use: markAll)
        groups.agentOnly.post("notifications/{id}/read", use: markOne)
        groups.agentOnly.post("notifications/settings", use: setMail)
        // The admin's stream carries only the queues' changes (it has no notifications).
        groups.agent.get("notifications/stream", use: stream)
    }

    @Sendable func page(request: Request, context: ConsoleContext) async throws -> Response {
        let (notice, error) = Pages.notices(request, context)
        let token = context.session.token
        var path = "/v1/notifications?limit=\(Pages.pageSize)"
        if let cursor = Pages.cursor(request) { path += "&cursor=" + Pages.encode(cursor) }
        let listPath = path
        let list = try await Pages.part("Your notifications", context) { try await backend.get(NotificationPage.self, .tierQueue, listPath, token: token) }
        let settings = try await Pages.part("Your mail choice", context) {
            try await backend.get(NotificationSettings.self, .tierQueue, "/v1/notifications/settings", token: token)
        }
        let items = Pages.show(list, "Your notifications", context) { page in
            let rows: HTML =
                page.items.isEmpty
                ? "<li>Nothing yet.</li>"
                : HTML.join(
                    page.items.map { item in
                        let link: HTML = item.ticketId.map { " <a href=\"/agent/tickets/\($0)\">Open the ticket</a>" } ?? ""
                        let mark: HTML =
                            item.readAt == nil
                            ? "<form method=\"post\" action=\"/agent/notifications/\(item.id)/read\" class=\"inline\">\(Pages.csrf(context))<button type=\"submit\">Mark read</button></form>"
                            : ""
                        return """
                            <li class="notification\(item.readAt == nil ? " unread" as HTML : "")" data-notification="\(item.id)"><time datetime="\(RFC3339.format(item.createdAt))">\(RFC3339.format(item.createdAt))</time> \(item.text)\(link) \(mark)</li>
                            """
                    })
            return """
                <p>Unread: <span id="page-unread">\(page.unread)</span></p>
                <form method="post" action="/agent/notifications/read" class="inline">\(Pages.csrf(context))<button type="submit" id="mark-all-read">Mark all read</button></form>
                <ul id="notifications">\(rows)</ul>\(Pages.more(request, next: page.nextCursor))
                """
        }
        let mail = Pages.show(settings, "Your mail choice", context) { settings in
            let choices: [(NotificationMail, String)] = [(.immediate, "each at once"), (.hourly, "an hourly digest"), (.off, "no mail")]
            return """
                <form method="post" action="/agent/notifications/settings" id="mail-choice">\(Pages.csrf(context))<fieldset><legend>Mail me my notifications</legend>
                \(HTML.join(choices.map { choice in "<label class=\"check\"><input type=\"radio\" name=\"mail\" value=\"\(choice.0.rawValue)\"\(choice.0 == settings.mail ? " checked" as HTML : "")> \(choice.1)</label>" }))
                <button type="submit" id="save-mail-choice">Save</button></fieldset></form>
                """
        }
        return Pages.page(
            "Notifications", context, notice: notice, error: error,
            "<h1>Notifications</h1><section id=\"notification-list\">\(items)</section><section id=\"notification-mail\">\(mail)</section>"
        ).response()
    }

    /// The unread count and the five newest, for the header's script.
    @Sendable func latest(request: Request, context: ConsoleContext) async throws -> Response {
        let page = try await backend.get(NotificationPage.self, .tierQueue, "/v1/notifications?limit=5", token: context.session.token)
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: try JSONCoding.encode(page)))
    }

    @Sendable func markAll(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/agent/notifications", context) {
            _ = try await backend.raw(.POST, .tierQueue, "/v1/notifications/read", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/agent/notifications", notice: .saved)
        }
    }

    @Sendable func markOne(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/agent/notifications", context) {
            guard let id = context.parameters.get("id", as: UUID.self) else { throw Backend.Failure.refused("That is not a notification.") }
            _ = try await backend.raw(.POST, .tierQueue, "/v1/notifications/\(id)/read", token: context.session.token, body: NoBody?.none)
            return Pages.redirect("/agent/notifications", notice: .saved)
        }
    }

    @Sendable func setMail(request: Request, context: ConsoleContext) async throws -> Response {
        try await Pages.attempt(orBackTo: "/agent/notifications", context) {
            guard let mail = context.form["mail"].flatMap(NotificationMail.init(rawValue:)) else {
                throw Backend.Failure.refused("Choose how to be mailed: each at once, an hourly digest, or no mail.")
            }
            _ = try await backend.send(
                NotificationSettings.self, .PUT, .tierQueue, "/v1/notifications/settings", token: context.session.token, body: NotificationSettings(mail: mail))
            return Pages.redirect("/agent/notifications", notice: .saved)
        }
    }

    /// Relays tier-queue's stream of the signed-in agent (with its `Last-Event-ID`) as it comes, until
    /// either side hangs up or the console shuts down; the browser's EventSource reconnects and resumes.
    @Sendable func stream(request: Request, context: ConsoleContext) async throws -> Response {
        var headers: [(String, String)] = []
        if let last = request.headers[HTTPField.Name("Last-Event-ID")!], !last.isEmpty, last.count <= 20, last.allSatisfy(\.isNumber) {
            headers.append(("Last-Event-ID", last))
        }
        let upstream = try await backend.stream(.tierQueue, "/v1/notifications/stream", token: context.session.token, headers: headers)
        let logger = context.logger
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                // Read apart from the writing, so that a shutdown or a browser gone stops the reading too.
                let (buffers, feed) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(256))
                let reader = Task {
                    do {
                        for try await buffer in upstream.body {
                            guard case .enqueued = feed.yield(buffer) else { break }
                        }
                    } catch {
                        logger.debug("notification stream from tier-queue ended", metadata: ["error": "\(String(reflecting: error))"])
                    }
                    feed.finish()
                }
                defer { reader.cancel() }
                try await withGracefulShutdownHandler {
                    for await buffer in buffers { try await writer.write(buffer) }
                } onGracefulShutdown: {
                    reader.cancel()
                    feed.finish()
                }
                try await writer.finish(nil)
            })
    }
}

extension Backend {
    /// Streams are held open for long: their own connections, apart from the pages' pool.
    static let streamClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 4096)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Opens a service's `text/event-stream` with `token`: the answer, whose body goes on for up to
    /// an hour; a refusal is a `Failure` as `raw` makes it.
    func stream(_ service: Service, _ path: String, token: String?, headers: [(String, String)] = []) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: urls[service, default: ""] + path)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let visitor = SessionMiddleware.visitor { request.headers.add(name: "X-Forwarded-For", value: visitor) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await Self.streamClient.execute(request, timeout: .seconds(3600), logger: logger)
        } catch {
            throw Failure(status: 503, detail: "\(service.rawValue) cannot be reached", fields: [], service: service, cause: String(reflecting: error))
        }
        guard response.status == .ok else {
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: 1 << 20)
            } catch {
                throw Failure(status: 502, detail: "\(service.rawValue)'s answer broke off", fields: [], service: service, cause: String(reflecting: error))
            }
            let problem = try? JSONCoding.decoder.decode(Problem.self, from: Data(buffer: buffer))  // try?: not problem+json: it fails with its status
            throw Failure(
                status: Int(response.status.code), detail: problem?.detail ?? problem?.title ?? "\(service.rawValue) answered \(response.status.code)",
                fields: problem?.errors ?? [], service: service, tokenHash: token.map(Secrets.hash))
        }
        return response
    }
}
