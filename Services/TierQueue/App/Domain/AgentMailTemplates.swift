import TierdeskKit

/// The built-in templates of agents' mail (`Notifier`): a notification sent at once
/// (`agent.notification`: `name`, `text`, `notificationsLink`) and the hourly digest
/// (`agent.digest`: `name`, `count`, `items` of `at` and `text`, `notificationsLink`). An operator
/// overrides any file from `TIERDESK_MAIL_TEMPLATES`, as for requesters' mail.
enum AgentMailTemplates {
    static let notification = "agent.notification"
    static let digest = "agent.digest"

    static let defaults: [String: MailTemplates.Defaults] = [
        notification: .init(
            subject: "Tierdesk: {{text}}",
            text: """
                Hello {{name}},

                {{text}}

                Your notifications: {{notificationsLink}}

                You receive each notification by mail as it happens; the notifications page lets you choose an hourly digest or no mail instead.
                """,
            html: """
                <!DOCTYPE html>
                <html><head><meta charset="utf-8"></head><body style="font-family:sans-serif;line-height:1.4">
                <p>Hello {{name}},</p>
                <p>{{text}}</p>
                <p><a href="{{notificationsLink}}">Your notifications</a></p>
                <p style="color:#555">You receive each notification by mail as it happens; the notifications page lets you choose an hourly digest or no mail instead.</p>
                </body></html>
                """),
        digest: .init(
            subject: "Tierdesk: {{count}} notifications in the last hour",
            text: """
                Hello {{name}},

                What you were told in the last hour ({{count}}):

                {{#items}}
                - {{at}}: {{text}}
                {{/items}}

                Your notifications: {{notificationsLink}}
                """,
            html: """
                <!DOCTYPE html>
                <html><head><meta charset="utf-8"></head><body style="font-family:sans-serif;line-height:1.4">
                <p>Hello {{name}},</p>
                <p>What you were told in the last hour ({{count}}):</p>
                <ul>{{#items}}<li>{{at}}: {{text}}</li>{{/items}}</ul>
                <p><a href="{{notificationsLink}}">Your notifications</a></p>
                </body></html>
                """),
    ]

    /// The built-in set: constants of this code, checked by `AgentMailTests`.
    static let builtIn: MailTemplates = {
        do {
            return try MailTemplates(defaults: defaults)
        } catch {
            fatalError("the built-in agent mail templates cannot be used: \(error)")
        }
    }()
}
