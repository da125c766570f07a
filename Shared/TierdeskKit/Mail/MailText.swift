import Foundation

/// A mail body as an agent reads it: HTML turned into plain text, and the quoted history of
/// earlier messages cut off, so a reply on a ticket's trail shows what was newly written.
public enum MailText {
    /// Readable text from HTML: scripts, styles and the head dropped; block elements and `<br>`
    /// become line breaks, list items `- ` lines, a `<blockquote>`'s lines quoted with `> `; links
    /// keep their address; character references decoded; runs of blank lines and spaces collapsed.
    public static func fromHTML(_ html: String) -> String {
        var output = ""
        var quoteDepth = 0
        var skipping: String?
        var pendingLink: String?
        var index = html.startIndex
        var atLineStart = true

        func newline() {
            output.append("\n")
            atLineStart = true
        }
        func emit(_ text: String) {
            for character in text {
                if character == "\n" {
                    newline()
                    continue
                }
                if character == " " && (atLineStart || output.last == " ") { continue }
                if atLineStart && quoteDepth > 0 { output += String(repeating: ">", count: quoteDepth) + " " }
                atLineStart = false
                output.append(character)
            }
        }

        while index < html.endIndex {
            let character = html[index]
            if character == "<" {
                guard let close = html[index...].firstIndex(of: ">") else { break }
                let tag = html[html.index(after: index)..<close]
                index = html.index(after: close)
                if tag.hasPrefix("!--") {
                    // A comment may hold ">": skip to its end.
                    if let end = html[html.index(after: close)...].range(of: "-->"), !tag.hasSuffix("--") { index = end.upperBound }
                    continue
                }
                let closing = tag.hasPrefix("/")
                let name = tag.drop(while: { $0 == "/" }).prefix(while: { $0.isLetter || $0.isNumber }).lowercased()
                if let skipped = skipping {
                    if closing && name == skipped { skipping = nil }
                    continue
                }
                switch name {
                case "script", "style", "head", "title":
                    if !closing && !tag.hasSuffix("/") { skipping = name }
                case "br":
                    newline()
                case "p", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr", "section", "article", "header", "footer":
                    if !atLineStart { newline() }
                case "li":
                    if !closing {
                        if !atLineStart { newline() }
                        emit("- ")
                    }
                case "td", "th":
                    if !closing { emit(" ") }
                case "blockquote":
                    if !atLineStart { newline() }
                    quoteDepth = max(0, quoteDepth + (closing ? -1 : 1))
                case "a":
                    if closing {
                        if let link = pendingLink { emit(" (\(link))") }
                        pendingLink = nil
                    } else if let href = attribute("href", in: tag), href.hasPrefix("http") {
                        pendingLink = href
                    }
                default:
                    break
                }
                continue
            }
            let next = html[index...].firstIndex(of: "<") ?? html.endIndex
            if skipping == nil {
                let text = html[index..<next].replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
                    .replacingOccurrences(of: "\t", with: " ")
                emit(entities(text))
            }
            index = next
        }
        return collapse(output)
    }

    /// The value of an attribute of a tag (`href="..."`), entities decoded.
    static func attribute(_ name: String, in tag: Substring) -> String? {
        guard let match = tag.range(of: name + "=", options: .caseInsensitive) else { return nil }
        var rest = tag[match.upperBound...]
        let quote = rest.first
        if quote == "\"" || quote == "'" {
            rest = rest.dropFirst()
            return entities(String(rest.prefix(while: { $0 != quote })))
        }
        return entities(String(rest.prefix(while: { !$0.isWhitespace && $0 != ">" })))
    }

    /// `&amp;`, `&lt;`, `&#233;`, `&#x20AC;`, `&nbsp;` and a few common named references decoded; others kept.
    static func entities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(12).firstIndex(of: ";") {
                let name = after[..<semicolon]
                if let decoded = entity(String(name)) {
                    result += decoded
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "&"
            rest = after
        }
        return result + rest
    }

    /// One character reference's text (`#233`, `#x20AC`, `amp`), or nil when unknown.
    static func entity(_ name: String) -> String? {
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, value != 0, let scalar = Unicode.Scalar(value) else { return nil }
            return String(Character(scalar))
        }
        return namedEntities[name]
    }

    static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®", "euro": "€", "hellip": "…",
        "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "bull": "•", "middot": "·", "laquo": "«",
        "raquo": "»", "eacute": "é", "egrave": "è", "agrave": "à", "auml": "ä", "ouml": "ö", "uuml": "ü", "Auml": "Ä", "Ouml": "Ö",
        "Uuml": "Ü", "szlig": "ß", "ccedil": "ç",
    ]

    /// Trailing spaces cut, at most one blank line in a row, no blank lines at either end.
    static func collapse(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = String(line.reversed().drop(while: { $0 == " " }).reversed())
            if trimmed.isEmpty && (lines.last?.isEmpty ?? true) { continue }
            lines.append(trimmed)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The newly written part of a reply: cut at the first attribution of quoted history ("On ...
    /// wrote:", Outlook's "-----Original Message-----" or its "From:"/"Sent:" block, and the same
    /// in a few other languages) when something was written above it, then without the trailing
    /// block of `>` lines. Quotes interleaved with answers stay, so the answers keep their
    /// questions. A message that is nothing but quotation is kept whole.
    public static func withoutQuotedHistory(_ text: String) -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var kept = lines
        if let cut = attributionLine(in: lines), lines[..<cut].contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            kept = Array(lines[..<cut])
        }
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty || last.hasPrefix(">") { kept.removeLast() }
        let result = kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return result.isEmpty ? text.trimmingCharacters(in: .whitespacesAndNewlines) : result
    }

    /// The index of the first line that introduces quoted history.
    static func attributionLine(in lines: [String]) -> Int? {
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix(">") { continue }
            if line.range(
                of: #"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Forwarded message)\s*-{2,}$"#,
                options: [.regularExpression, .caseInsensitive]) != nil
            {
                return index
            }
            // "On <date>, <person> wrote:" (perhaps wrapped onto a second line), and its translations.
            let joined = index + 1 < lines.count ? line + " " + lines[index + 1].trimmingCharacters(in: .whitespaces) : line
            for candidate in [line, joined] {
                if candidate.range(
                    of: #"^(On|Am|Le|El|Il|Op)\s.{4,200}\s(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s?:$"#,
                    options: [.regularExpression, .caseInsensitive]) != nil
                {
                    return index
                }
            }
            // Outlook: "From: ..." followed within a few lines by "Sent:"/"Date:" and "To:"/"Subject:";
            // often after a line of underscores, which goes with it.
            if line.range(of: #"^\*?(From|Von|De|Van)\s?:\*?\s"#, options: [.regularExpression, .caseInsensitive]) != nil {
                let following = lines[(index + 1)..<min(lines.count, index + 6)].map { $0.trimmingCharacters(in: .whitespaces) }
                let dated = following.contains {
                    $0.range(of: #"^\*?(Sent|Date|Gesendet|Envoyé|Datum)\s?:"#, options: [.regularExpression, .caseInsensitive]) != nil
                }
                let addressed = following.contains {
                    $0.range(of: #"^\*?(To|Subject|An|Betreff|À|Objet|Aan|Onderwerp)\s?:"#, options: [.regularExpression, .caseInsensitive]) != nil
                }
                if dated && addressed {
                    if index > 0, lines[index - 1].trimmingCharacters(in: .whitespaces).range(of: #"^_{10,}$"#, options: .regularExpression) != nil {
                        return index - 1
                    }
                    return index
                }
            }
        }
        return nil
    }
}
