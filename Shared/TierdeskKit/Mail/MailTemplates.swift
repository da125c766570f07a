import Foundation
import Mustache

/// The mail a service writes, from Mustache templates: for each kind a subject, a text and
/// (optionally) an HTML template. The defaults ship with the code; an operator overrides any of
/// them with a file in a folder (`TIERDESK_MAIL_TEMPLATES`): `<kind>.subject.mustache`,
/// `<kind>.text.mustache`, `<kind>.html.mustache`. A missing file keeps the default. Every template
/// is parsed at start-up, so one that does not parse, an HTML one that could print a value
/// unescaped (`{{{ }}}`, `{{& }}`, a changed delimiter or content type) and a file that names no
/// template stop start-up with a message naming the file, never a send.
public struct MailTemplates: Sendable {
    /// The part of a mail a template writes.
    public enum Part: String, Sendable, CaseIterable {
        case subject, text, html
    }

    /// A kind's default templates, as shipped.
    public struct Defaults: Sendable {
        public var subject: String
        public var text: String
        public var html: String?

        public init(subject: String, text: String, html: String?) {
            self.subject = subject
            self.text = text
            self.html = html
        }
    }

    /// A rendered mail's parts: the subject one line, the HTML with every value escaped.
    public struct Rendered: Sendable, Equatable {
        public var subject: String
        public var text: String
        public var html: String?
    }

    /// A template that cannot be used; `description` names the file (or the built-in default) and why.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    let templates: [String: KindTemplates]

    /// One kind's parsed templates.
    struct KindTemplates: Sendable {
        var subject: MustacheTemplate
        var text: MustacheTemplate
        var html: MustacheTemplate?
    }

    /// The longest subject a mail gets (RFC 5322 advises lines under 78 characters; an encoded
    /// subject folds, but a longer one helps nobody).
    static let maxSubjectLength = 200

    /// The templates of `defaults` (by kind), each overridden by its file in `folder`, when given.
    public init(defaults: [String: Defaults], folder: String? = nil) throws(Refusal) {
        // Each kind's part: its text and where it comes from (nil: built in).
        var sources: [String: [Part: (text: String, path: String?)]] = [:]
        for (kind, given) in defaults {
            sources[kind] = [.subject: (given.subject, nil), .text: (given.text, nil)]
            if let html = given.html { sources[kind]?[.html] = (html, nil) }
        }
        if let folder {
            for (kind, part, path, text) in try Self.overrides(in: folder, kinds: Set(defaults.keys)) { sources[kind]?[part] = (text, path) }
        }
        var templates: [String: KindTemplates] = [:]
        for (kind, parts) in sources {
            func parse(_ part: Part) throws(Refusal) -> MustacheTemplate? {
                guard let (text, path) = parts[part] else { return nil }
                return try Self.parse(text, part: part, origin: path ?? "the built-in \(kind).\(part.rawValue) template")
            }
            guard let subject = try parse(.subject), let text = try parse(.text) else { continue }
            templates[kind] = KindTemplates(subject: subject, text: text, html: try parse(.html))
        }
        self.templates = templates
    }

    /// The kinds there are templates for.
    public var kinds: [String] { templates.keys.sorted() }

    /// Renders `kind` with `values` (strings, booleans for sections, arrays of dictionaries for
    /// lists). The subject comes out as one line (no value can add a header line) of at most
    /// `maxSubjectLength` characters; nil when there is no such kind.
    public func render(_ kind: String, _ values: [String: Any]) -> Rendered? {
        guard let set = templates[kind] else { return nil }
        return Rendered(subject: Self.oneLine(set.subject.render(values)), text: set.text.render(values), html: set.html?.render(values))
    }

    /// A header value from anything: controls (CR and LF among them) become spaces, runs of
    /// white space one space, trimmed and cut to `maxSubjectLength`.
    public static func oneLine(_ value: String) -> String {
        var line = ""
        var space = false
        for scalar in value.unicodeScalars {
            if CharacterSet.whitespacesAndNewlines.contains(scalar) || CharacterSet.controlCharacters.contains(scalar) {
                space = !line.isEmpty
            } else {
                if space { line.unicodeScalars.append(" ") }
                line.unicodeScalars.append(scalar)
                space = false
            }
        }
        return String(line.prefix(maxSubjectLength))
    }

    /// Parses one template: a text or subject template renders values as they are (the plain text
    /// content type), an HTML one escapes every value and may not turn that off.
    static func parse(_ text: String, part: Part, origin: String) throws(Refusal) -> MustacheTemplate {
        if part == .html, let tag = ["{{{", "{{&", "{{=", "{{%"].first(where: { text.contains($0) }) {
            throw Refusal(description: "\(origin): an HTML mail template must escape every value; '\(tag)' is not allowed there (use {{ name }})")
        }
        do {
            return try MustacheTemplate(string: part == .html ? text : "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch let error as MustacheTemplate.ParserError {
            throw Refusal(
                description: "\(origin) does not parse: \(error.error) at line \(error.context.lineNumber), column \(error.context.columnNumber)")
        } catch {
            throw Refusal(description: "\(origin) does not parse: \(error)")
        }
    }

    /// The folder's templates, as (kind, part, path, text). Each file must be `<kind>.<part>.mustache`
    /// for a known kind and part: a misspelt name would otherwise be ignored without a word.
    static func overrides(in folder: String, kinds: Set<String>) throws(Refusal) -> [(String, Part, String, String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw Refusal(description: "the mail template folder \(folder) cannot be read: \(error.localizedDescription)")
        }
        var found: [(String, Part, String, String)] = []
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            let pieces = name.split(separator: ".").map(String.init)
            guard pieces.count >= 3, pieces.last == "mustache", let part = Part(rawValue: pieces[pieces.count - 2]),
                case let kind = pieces.dropLast(2).joined(separator: "."), kinds.contains(kind)
            else {
                throw Refusal(
                    description:
                        "\(path) names no mail template: expected <kind>.<subject|text|html>.mustache with a kind among \(kinds.sorted().joined(separator: ", "))"
                )
            }
            do {
                found.append((kind, part, path, try String(contentsOfFile: path, encoding: .utf8)))
            } catch {
                throw Refusal(description: "\(path) cannot be read as UTF-8 text: \(error.localizedDescription)")
            }
        }
        return found
    }
}
