import ConsoleApp
import TierdeskKit

await ServiceMain.run(name: Console.serviceName, summary: "Tierdesk console: the web pages for requesters, agents, admins and vendors.") { reader in
    try await buildApplication(reader: reader)
}
