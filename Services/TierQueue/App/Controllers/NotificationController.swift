import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// An agent's notifications: its list with the unread count, marking read, its mail choice, and the
/// live stream (Server-Sent Events). Agents only, each its own: every query is by the caller's id.
struct NotificationController: Sendable {
    let deps: TierQueueDependencies
    var store: NotificationStore { NotificationStore() }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("v1/notifications", use: list)
        router.post("v1/notifications/read", use: markAllRead)
        router.post("v1/notifications/{id}/read", use: markRead)
        router.get("v1/notifications/settings", use: settings)
        router.put("v1/notifications/settings", use: setSettings)
        router.get("v1/notifications/stream", use: stream)
    }

    /// The caller's notifications, newest first, with how many are unread.
    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse<NotificationPage> {
        let me = try context.requireAgent()
        let cursor = try Pagination.cursor(request, NotificationStore.cursor)
        return JSONResponse(
            try await store.list(agent: me.id, limit: try Pagination.limit(request), before: cursor, on: deps.runtime.postgres, logger: context.logger))
    }

    @Sendable func markRead(request: Request, context: AppRequestContext) async throws -> JSONResponse<NotificationsRead> {
        let me = try context.requireAgent()
        guard let id = context.parameters.get("id", as: UUID.self),
            let read = try await store.markRead(agent: me.id, id: id, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger)
        else { throw TierQueueError.notificationNotFound }
        return JSONResponse(read)
    }

    @Sendable func markAllRead(request: Request, context: AppRequestContext) async throws -> JSONResponse<NotificationsRead> {
        let me = try context.requireAgent()
        guard let read = try await store.markRead(agent: me.id, id: nil, on: deps.runtime.postgres, now: deps.runtime.clock.now(), logger: context.logger)
        else { throw TierQueueError.notificationNotFound }
        return JSONResponse(read)
    }

    @Sendable func settings(request: Request, context: AppRequestContext) async throws -> JSONResponse<NotificationSettings> {
        let me = try context.requireAgent()
        guard let mail = try await store.mailChoice(agent: me.id, on: deps.runtime.postgres, logger: context.logger) else {
            throw TierQueueError.agentNotFound
        }
        return JSONResponse(NotificationSettings(mail: mail))
    }

    @Sendable func setSettings(request: Request, context: AppRequestContext) async throws -> JSONResponse<NotificationSettings> {
        let me = try context.requireAgent()
        let input = try await request.decodeJSON(NotificationSettings.self, context: context)
        let (store, actor, now) = (store, try AuditActor(context), deps.runtime.clock.now())
        // The agent's own setting, on its own row: recorded like any change to a person.
        let mail = try await deps.runtime.postgres.transaction(logger: context.logger) { connection in
            try await AuditTrail.change(
                "agent.notification_settings_set", .agent, id: "\(me.id)", by: actor, on: connection, now: now, logger: context.logger
            ) { try await store.setMailChoice(agent: me.id, input.mail, on: connection, now: now, logger: context.logger) }
        }
        guard let mail else { throw TierQueueError.agentNotFound }
        return JSONResponse(NotificationSettings(mail: mail))
    }

    /// `text/event-stream`: `event: notification` (`id:` its `seq`, data the notification), `event:
    /// queue` (data `{"tier": n}`) for the caller's levels, and a comment every 15 s. `Last-Event-ID`
    /// resumes: what came after it (at most 200) is sent first. The admin's stream carries
    /// the queue events of every level.
    @Sendable func stream(request: Request, context: AppRequestContext) async throws -> Response {
        // The admin has no notifications: its stream carries the queue events of every level.
        let me = try context.requireAgentOrAdmin() ?? AgentIdentity(id: Self.adminStream, tiers: Set(Tier.agentTiers), skills: [], wipLimit: 0)
        var resume: Int64?
        if let text = request.headers[HTTPField.Name("Last-Event-ID")!], !text.isEmpty {
            guard let seq = Int64(text), seq >= 0 else {
                throw Problem.validation([FieldError(field: "Last-Event-ID", message: "must be the id of an event this stream sent")])
            }
            resume = seq
        }
        let hub = deps.notifications
        let (id, events) = try hub.subscribe(agent: me)
        var backlog: [AgentNotification] = []
        do {
            if let resume { backlog = try await store.after(resume, agent: me.id, limit: 200, on: deps.runtime.postgres, logger: context.logger) }
        } catch {
            hub.unsubscribe(id)
            throw error
        }
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [backlog] writer in
                defer { hub.unsubscribe(id) }
                try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                let sent = Set(backlog.map(\.seq))
                for notification in backlog { try await writer.write(ByteBuffer(string: try Self.frame(.notification(notification)))) }
                // A server shutting down ends the stream (the server waits for open responses); the client resumes elsewhere.
                try await withGracefulShutdownHandler {
                    for await event in events {
                        if case .notification(let notification) = event, sent.contains(notification.seq) { continue }
                        try await writer.write(ByteBuffer(string: try Self.frame(event)))
                    }
                } onGracefulShutdown: {
                    hub.unsubscribe(id)
                }
                try await writer.finish(nil)
            })
    }

    /// The id the admin's streams count under (no agent has it).
    static let adminStream = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// One event as the stream writes it.
    static func frame(_ event: StreamEvent) throws -> String {
        switch event {
        case .notification(let notification):
            "id: \(notification.seq)\nevent: notification\ndata: \(try JSONCoding.string(notification))\n\n"
        case .queueChanged(let tier):
            "event: queue\ndata: \(try JSONCoding.string(QueueChanged(tier: tier)))\n\n"
        case .heartbeat:
            ": heartbeat\n\n"
        }
    }
}
