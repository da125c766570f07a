import Foundation

/// Splits a SQL file into statements, since PostgreSQL's extended protocol runs one at a time.
/// Semicolons inside quotes, dollar-quoted bodies and comments do not split.
public enum SQLScript {
    public static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var index = script.startIndex
        var dollarTag: String? = nil
        var inQuote = false

        func peek(_ offset: Int) -> Character? {
            script.index(index, offsetBy: offset, limitedBy: script.endIndex).flatMap { $0 < script.endIndex ? script[$0] : nil }
        }

        while index < script.endIndex {
            let character = script[index]
            if let tag = dollarTag {
                if script[index...].hasPrefix(tag) {
                    current += tag
                    index = script.index(index, offsetBy: tag.count)
                    dollarTag = nil
                    continue
                }
            } else if inQuote {
                if character == "'" { inQuote = false }
            } else if character == "'" {
                inQuote = true
            } else if character == "-", peek(1) == "-" {
                while index < script.endIndex, script[index] != "\n" { index = script.index(after: index) }
                continue
            } else if character == "$", let end = script[script.index(after: index)...].firstIndex(of: "$"),
                script[script.index(after: index)..<end].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            {
                let tag = String(script[index...end])
                current += tag
                index = script.index(after: end)
                dollarTag = tag
                continue
            } else if character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
                index = script.index(after: index)
                continue
            }
            current.append(character)
            index = script.index(after: index)
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }
}
