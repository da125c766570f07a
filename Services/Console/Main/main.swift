import ConsoleApp
import TierdeskKit

await ServiceMain.run(
    name: Console.serviceName, summary: "Tierdesk console: the web pages for requesters, agents, admins and vendors.",
    extraKeys: [
        "TIERDESK_CONSOLE_SECRET (required: derives the sessions' sealing key and the CSRF keys; not TIERDESK_SECRET's value)",
        "TIERDESK_CONSOLE_INSECURE_COOKIES (true: cookies without Secure and __Host-, for plain http on localhost; default false)",
        "TIERDESK_CONSOLE_SESSION_IDLE_MINUTES (a staff session ends this long unused; default 30)",
        "TIERDESK_CONSOLE_SESSION_MAX_HOURS (a staff session ends this long after sign-in; default 12)",
    ]
) { reader in
    try await buildApplication(reader: reader)
}
