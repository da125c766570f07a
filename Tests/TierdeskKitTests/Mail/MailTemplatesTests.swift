import Foundation
import Testing

@testable import TierdeskKit

@Suite struct MailTemplatesTests {
    static let defaults: [String: MailTemplates.Defaults] = [
        "ticket.filed": .init(
            subject: "[{{reference}}] Received: {{subject}}", text: "Hello {{name}}, see {{link}}\n{{#message}}> {{message}}{{/message}}",
            html: "<p>Hello {{name}}</p><a href=\"{{link}}\">open</a>")
    ]

    static func folder(_ files: [String: String]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mail-templates-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: (folder as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    @Test func theHTMLPartEscapesEveryValueAndTheTextPartKeepsThemAsTheyAre() throws {
        let templates = try MailTemplates(defaults: Self.defaults)
        let hostile = "<script>alert('x')</script> & \"Dana\""
        let rendered = try #require(templates.render("ticket.filed", ["reference": "TD-1", "subject": "s", "name": hostile, "link": "https://x/?a=1&b=\"2\""]))
        let html = try #require(rendered.html)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Dana&quot;"))
        #expect(html.contains("href=\"https://x/?a=1&amp;b=&quot;2&quot;\""))
        #expect(rendered.text.hasPrefix("Hello \(hostile), see https://x/?a=1&b=\"2\""))
    }

    @Test func aSubjectIsOneLineWhateverItsValuesHold() throws {
        let templates = try MailTemplates(defaults: Self.defaults)
        let rendered = try #require(
            templates.render("ticket.filed", ["reference": "TD-7", "subject": "VPN\r\nBcc: evil@example.com\n\tX-Evil: 1\u{0}\u{2028}end"]))
        #expect(rendered.subject == "[TD-7] Received: VPN Bcc: evil@example.com X-Evil: 1 end")
        #expect(!rendered.subject.contains(where: { $0.isNewline }))
        #expect(MailTemplates.oneLine(String(repeating: "a ", count: 500)).count == 200)
    }

    @Test func anOperatorsFileOverridesItsPartAndAMissingOneKeepsTheDefault() throws {
        let folder = try Self.folder(["ticket.filed.subject.mustache": "Ticket {{reference}} is in"])
        let rendered = try #require(try MailTemplates(defaults: Self.defaults, folder: folder).render("ticket.filed", ["reference": "TD-2", "name": "Dana"]))
        #expect(rendered.subject == "Ticket TD-2 is in")
        #expect(rendered.text.hasPrefix("Hello Dana, see"))
        #expect(rendered.html == "<p>Hello Dana</p><a href=\"\">open</a>")
    }

    @Test func aTemplateThatCannotBeUsedIsRefusedAtStartUpNamingItsFile() throws {
        let broken = try Self.folder(["ticket.filed.text.mustache": "Hello {{#name}} unclosed"])
        #expect {
            _ = try MailTemplates(defaults: Self.defaults, folder: broken)
        } throws: { error in
            "\(error)".contains("ticket.filed.text.mustache does not parse")
        }
        for unescaped in ["<p>{{{name}}}</p>", "<p>{{&name}}</p>", "{{=<% %>=}}<p><%name%></p>", "{{% CONTENT_TYPE: TEXT}}<p>{{name}}</p>"] {
            let folder = try Self.folder(["ticket.filed.html.mustache": unescaped])
            #expect {
                _ = try MailTemplates(defaults: Self.defaults, folder: folder)
            } throws: { error in
                "\(error)".contains("ticket.filed.html.mustache: an HTML mail template must escape every value")
            }
        }
        let misspelt = try Self.folder(["ticket.filed.txt.mustache": "Hello"])
        #expect {
            _ = try MailTemplates(defaults: Self.defaults, folder: misspelt)
        } throws: { error in
            "\(error)".contains("ticket.filed.txt.mustache names no mail template")
        }
    }
}
