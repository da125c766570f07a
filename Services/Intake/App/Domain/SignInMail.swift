import Foundation
import TierdeskKit

/// The mail that carries a requester's sign-in link. The key rides in the link's fragment
/// (`/sign-in#token=…`), which browsers never send to a server, so no access log keeps it; the
/// portal's page posts it.
struct SignInMail: Sendable {
    static let kind = "sign_in"
    /// The console's public origin, without a trailing slash (`https://help.example.com`).
    let publicURL: String

    func link(key: String) -> String { publicURL + "/sign-in#token=" + key }

    func make(key: String, to address: String) -> OutgoingMail {
        let link = link(key: key)
        let domain = URL(string: publicURL)?.host ?? "localhost"
        return OutgoingMail(
            to: address, subject: "Your sign-in link",
            text: """
                Hello,

                Open this link to see all your tickets with the help desk. It works once, for 15 minutes:

                \(link)

                If you did not ask for it, ignore this mail: nothing happens without the link.
                """,
            html: """
                <p>Hello,</p>
                <p>Open this link to see all your tickets with the help desk. It works once, for 15 minutes:</p>
                <p><a href="\(Self.escape(link))">Sign in</a></p>
                <p>If you did not ask for it, ignore this mail: nothing happens without the link.</p>
                """,
            messageID: OutgoingMail.newMessageID(domain: domain), headers: [OutgoingMail.Header("Auto-Submitted", "auto-generated")])
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
