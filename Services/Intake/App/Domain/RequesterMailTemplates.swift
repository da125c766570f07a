import TierdeskKit

/// The built-in templates of the mail requesters receive, one set per `RequesterMail.Kind`. Each
/// is rendered with: `reference` (TD-n), `subject` (the ticket's), `name` (the requester's, when
/// known), `ticketLink`; and by kind `message` (a comment, the question, the resolution, the reason
/// a ticket was closed), `confirmLink`, `reopenLink` and `surveyLink` (resolved), `waitingDays` and
/// `autoResolveDays` (reminder); the sign-in mail gets `signInLink` (and `name`). An operator overrides any file from `TIERDESK_MAIL_TEMPLATES`.
enum RequesterMailTemplates {
    static let defaults: [String: MailTemplates.Defaults] = [
        RequesterMail.Kind.filed.rawValue: .init(
            subject: "[{{reference}}] We received your request: {{subject}}",
            text: """
                \(greeting)

                We received your request and filed it as {{reference}}: {{subject}}

                Follow it, add information or answer us here:
                {{ticketLink}}

                This link opens your ticket without a password: keep it to yourself. You can also simply reply to this mail.
                \(signature)
                """,
            html: page(
                """
                <p>We received your request and filed it as <strong>{{reference}}</strong>: {{subject}}</p>
                <p><a href="{{ticketLink}}">Follow it, add information or answer us</a></p>
                <p style="color:#555">This link opens your ticket without a password: keep it to yourself. You can also simply reply to this mail.</p>
                """)),
        RequesterMail.Kind.commented.rawValue: .init(
            subject: "[{{reference}}] New reply: {{subject}}",
            text: """
                \(greeting)

                The help desk wrote on {{reference}} ({{subject}}):

                {{message}}

                Answer by replying to this mail, or here: {{ticketLink}}
                \(signature)
                """,
            html: page(
                """
                <p>The help desk wrote on <strong>{{reference}}</strong> ({{subject}}):</p>
                <blockquote style="white-space:pre-wrap">{{message}}</blockquote>
                <p>Answer by replying to this mail, or <a href="{{ticketLink}}">on your ticket's page</a>.</p>
                """)),
        RequesterMail.Kind.question.rawValue: .init(
            subject: "[{{reference}}] We need your answer: {{subject}}",
            text: """
                \(greeting)

                To go on with {{reference}} ({{subject}}) the help desk needs an answer from you.
                {{#message}}

                {{message}}
                {{/message}}

                Answer by replying to this mail, or here: {{ticketLink}}
                \(signature)
                """,
            html: page(
                """
                <p>To go on with <strong>{{reference}}</strong> ({{subject}}) the help desk needs an answer from you.</p>
                {{#message}}<blockquote style="white-space:pre-wrap">{{message}}</blockquote>{{/message}}
                <p>Answer by replying to this mail, or <a href="{{ticketLink}}">on your ticket's page</a>.</p>
                """)),
        RequesterMail.Kind.reminder.rawValue: .init(
            subject: "[{{reference}}] Reminder: we are waiting for your answer: {{subject}}",
            text: """
                \(greeting)

                {{reference}} ({{subject}}) has been waiting for your answer for {{waitingDays}} days.
                {{#message}}

                {{message}}
                {{/message}}
                {{#autoResolveDays}}

                Without an answer, it will be resolved after {{autoResolveDays}} days of waiting.
                {{/autoResolveDays}}

                Answer by replying to this mail, or here: {{ticketLink}}
                \(signature)
                """,
            html: page(
                """
                <p><strong>{{reference}}</strong> ({{subject}}) has been waiting for your answer for {{waitingDays}} days.</p>
                {{#message}}<blockquote style="white-space:pre-wrap">{{message}}</blockquote>{{/message}}
                {{#autoResolveDays}}<p>Without an answer, it will be resolved after {{autoResolveDays}} days of waiting.</p>{{/autoResolveDays}}
                <p>Answer by replying to this mail, or <a href="{{ticketLink}}">on your ticket's page</a>.</p>
                """)),
        RequesterMail.Kind.resolved.rawValue: .init(
            subject: "[{{reference}}] Resolved: {{subject}}",
            text: """
                \(greeting)

                The help desk resolved {{reference}} ({{subject}}):

                {{message}}

                Is it solved? Confirm it here: {{confirmLink}}
                Still broken? Tell us here and the ticket opens again: {{reopenLink}}
                How did we do? One question: {{surveyLink}}
                \(signature)
                """,
            html: page(
                """
                <p>The help desk resolved <strong>{{reference}}</strong> ({{subject}}):</p>
                <blockquote style="white-space:pre-wrap">{{message}}</blockquote>
                <p><a href="{{confirmLink}}">Yes, it is solved</a> &middot; <a href="{{reopenLink}}">No, it is still broken</a></p>
                <p><a href="{{surveyLink}}">How did we do?</a> One question.</p>
                """)),
        RequesterMail.Kind.closed.rawValue: .init(
            subject: "[{{reference}}] Closed: {{subject}}",
            text: """
                \(greeting)

                {{reference}} ({{subject}}) is closed.
                {{#message}}

                {{message}}
                {{/message}}

                Something new? File a new ticket; your closed one stays here: {{ticketLink}}
                \(signature)
                """,
            html: page(
                """
                <p><strong>{{reference}}</strong> ({{subject}}) is closed.</p>
                {{#message}}<blockquote style="white-space:pre-wrap">{{message}}</blockquote>{{/message}}
                <p>Something new? File a new ticket; <a href="{{ticketLink}}">your closed one stays here</a>.</p>
                """)),
        RequesterMail.signInKind: .init(
            subject: "Your sign-in link",
            text: """
                \(greeting)

                Open this link to see all your tickets with the help desk. It works once, for 15 minutes:

                {{signInLink}}

                If you did not ask for it, ignore this mail: nothing happens without the link.
                \(signature)
                """,
            html: page(
                """
                <p>Open this link to see all your tickets with the help desk. It works once, for 15 minutes:</p>
                <p><a href="{{signInLink}}">Sign in</a></p>
                <p style="color:#555">If you did not ask for it, ignore this mail: nothing happens without the link.</p>
                """)),
    ]

    static let greeting = "{{#name}}Hello {{name}},{{/name}}{{^name}}Hello,{{/name}}"
    static let signature = "\n-- \nThe help desk"

    /// An HTML mail around `body`: every value in it is escaped (`{{ }}`).
    static func page(_ body: String) -> String {
        """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"></head>
        <body style="font-family:sans-serif;line-height:1.4">
        <p>{{#name}}Hello {{name}},{{/name}}{{^name}}Hello,{{/name}}</p>
        \(body)
        <p style="color:#555">&mdash; The help desk</p>
        </body></html>
        """
    }
}
