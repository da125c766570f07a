import Foundation

/// Why a message could not be read. Each case says what is wrong in words an operator (or an
/// MTA's bounce to the sender) can act on.
public enum MailParseError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooLarge(limit: Int)
    case noHeaderFields
    case tooDeep(limit: Int)
    case tooManyParts(limit: Int)
    case missingFrom

    public var description: String {
        switch self {
        case .empty: "the message is empty"
        case .tooLarge(let limit): "the message is larger than \(limit) bytes"
        case .noHeaderFields: "not an RFC 5322 message: it starts with no header fields"
        case .tooDeep(let limit): "the message nests MIME parts more than \(limit) deep"
        case .tooManyParts(let limit): "the message has more than \(limit) MIME parts"
        case .missingFrom: "the message has no From address"
        }
    }
}

/// A message's header fields in their order, unfolded (RFC 5322 §2.2.3), values as written
/// (encoded words still encoded: `MailHeaders.decoded` decodes them).
public struct MailHeaders: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        /// Lowercased.
        public var name: String
        public var value: String
    }

    public var fields: [Field]

    public init(fields: [Field] = []) { self.fields = fields }

    /// The first field named `name` (any case), trimmed.
    public func first(_ name: String) -> String? {
        let name = name.lowercased()
        return fields.first { $0.name == name }.map { $0.value.trimmingCharacters(in: .whitespaces) }
    }

    /// Every field named `name` (any case), trimmed, in order.
    public func all(_ name: String) -> [String] {
        let name = name.lowercased()
        return fields.filter { $0.name == name }.map { $0.value.trimmingCharacters(in: .whitespaces) }
    }

    /// The first field named `name`, its RFC 2047 encoded words decoded.
    public func decoded(_ name: String) -> String? { first(name).map(EncodedWords.decode) }

    /// `Content-Type` as a lowercased `type/subtype` and its parameters (default text/plain, RFC 2045 §5.2).
    public var contentType: HeaderValue {
        guard let value = first("content-type"), let parsed = HeaderValue(value), parsed.value.contains("/") else {
            return HeaderValue(value: "text/plain", parameters: ["charset": "us-ascii"])
        }
        return HeaderValue(value: parsed.value.lowercased(), parameters: parsed.parameters)
    }

    /// `Content-Disposition`, lowercased, if given.
    public var disposition: HeaderValue? {
        first("content-disposition").flatMap(HeaderValue.init).map { HeaderValue(value: $0.value.lowercased(), parameters: $0.parameters) }
    }

    /// Reads the header section: unfolds continuation lines; a line that is no field is skipped
    /// (an mbox `From ` line, stray text) rather than refused.
    static func parse(_ bytes: ArraySlice<UInt8>) -> MailHeaders {
        var fields: [Field] = []
        for line in MIMEParser.lines(bytes) {
            let text = MailCharset.headerText(line)
            if let first = text.unicodeScalars.first, first == " " || first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].value += " " + text.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else { continue }
            fields.append(Field(name: name.lowercased(), value: String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        return MailHeaders(fields: fields)
    }
}

/// A structured header value: `value; name=param; name="quoted param"`, with RFC 2231's extended
/// (`name*=utf-8''%E2%82%AC`) and continued (`name*0=`, `name*1=`) parameters joined and decoded.
public struct HeaderValue: Sendable, Equatable {
    public var value: String
    /// Lowercased names.
    public var parameters: [String: String]

    public init(value: String, parameters: [String: String]) {
        self.value = value
        self.parameters = parameters
    }

    init?(_ text: String) {
        var parts = Self.split(text)
        guard !parts.isEmpty else { return nil }
        value = Self.withoutComments(parts.removeFirst()).trimmingCharacters(in: .whitespaces)
        var plain: [String: String] = [:]
        var continued: [String: [(index: Int, text: String, encoded: Bool)]] = [:]
        for part in parts {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let name = part[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = part[part.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("\"") { raw = Self.unquote(raw) }
            guard !name.isEmpty else { continue }
            // RFC 2231: name*  (extended), name*N (continued), name*N* (both).
            let pieces = name.split(separator: "*", omittingEmptySubsequences: false)
            if pieces.count > 1 {
                let base = String(pieces[0])
                let index = Int(pieces[1]) ?? 0
                let encoded = name.hasSuffix("*")
                continued[base, default: []].append((index, raw, encoded))
            } else {
                plain[name] = raw
            }
        }
        for (name, pieces) in continued {
            let ordered = pieces.sorted { $0.index < $1.index }
            var charset = "us-ascii"
            var bytes: [UInt8] = []
            for (position, piece) in ordered.enumerated() {
                var text = Substring(piece.text)
                if piece.encoded, position == 0 {
                    // charset'language'value
                    let quoteParts = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if quoteParts.count == 3 {
                        charset = String(quoteParts[0]).isEmpty ? charset : String(quoteParts[0])
                        text = quoteParts[2]
                    }
                }
                bytes += piece.encoded ? Self.percentDecoded(text) : Array(text.utf8)
            }
            plain[name] = MailCharset.decode(bytes, charset: charset)
        }
        parameters = plain
    }

    /// The parts between semicolons that stand outside quotes.
    static func split(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                current.append(character)
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                current.append(character)
            } else if character == ";" && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty || parts.count == 1 }
    }

    /// A quoted string's content, its backslash escapes removed (an unclosed quote runs to the end).
    static func unquote(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text.dropFirst() {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                break
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// `text` without RFC 5322 comments (`(...)`, nested).
    static func withoutComments(_ text: String) -> String {
        var depth = 0
        var result = ""
        for character in text {
            if character == "(" {
                depth += 1
            } else if character == ")" && depth > 0 {
                depth -= 1
            } else if depth == 0 {
                result.append(character)
            }
        }
        return result
    }

    /// RFC 2231's `%XX` escapes undone (a malformed one kept as written).
    static func percentDecoded(_ text: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next() {
                if let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                    bytes.append(value)
                } else {
                    bytes += [byte, high, low]
                }
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }
}

/// One MIME entity: its header fields and its body, a leaf's bytes with the transfer encoding
/// undone, a multipart's parts, or an enclosed message (`message/rfc822`).
public struct MIMEPart: Sendable {
    public indirect enum Body: Sendable {
        case leaf([UInt8])
        case multipart([MIMEPart])
        case message(MIMEPart)
    }

    public var headers: MailHeaders
    public var body: Body
    /// The size of the part's body as it was sent, before the transfer encoding was undone.
    public var encodedSize: Int

    /// Every part of the tree, this one first, depth first.
    public var allParts: [MIMEPart] {
        switch body {
        case .leaf: [self]
        case .multipart(let parts): [self] + parts.flatMap(\.allParts)
        case .message(let inner): [self] + inner.allParts
        }
    }
}

/// Reads an RFC 5322 message with its MIME structure (RFC 2045-2049). Lenient where real mail is
/// sloppy (bare LF line ends, a missing closing boundary, bad base64 or quoted-printable, unknown
/// charsets), strict only where nothing sensible can be read; never traps on any input, and bounded
/// in size, depth and parts so no message can exhaust memory or the stack.
public struct MIMEParser: Sendable {
    public var maxBytes: Int
    public var maxDepth: Int
    public var maxParts: Int

    public init(maxBytes: Int = 32 << 20, maxDepth: Int = 16, maxParts: Int = 500) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxParts = maxParts
    }

    /// The message's tree of parts.
    public func parse(_ message: [UInt8]) throws(MailParseError) -> MIMEPart {
        guard !message.isEmpty, message.contains(where: { !Self.isSpace($0) }) else { throw .empty }
        guard message.count <= maxBytes else { throw .tooLarge(limit: maxBytes) }
        var count = 0
        let root = try entity(message[...], depth: 0, count: &count)
        guard !root.headers.fields.isEmpty else { throw .noHeaderFields }
        return root
    }

    /// One entity and, recursively, its parts; `count` counts every part read so far.
    func entity(_ bytes: ArraySlice<UInt8>, depth: Int, count: inout Int) throws(MailParseError) -> MIMEPart {
        count += 1
        guard count <= maxParts else { throw .tooManyParts(limit: maxParts) }
        guard depth <= maxDepth else { throw .tooDeep(limit: maxDepth) }
        let (head, content) = Self.splitHeader(bytes)
        let headers = MailHeaders.parse(head)
        let type = headers.contentType
        if type.value.hasPrefix("multipart/"), let boundary = type.parameters["boundary"], !boundary.isEmpty {
            var parts: [MIMEPart] = []
            for slice in Self.bodyParts(content, boundary: boundary) {
                parts.append(try entity(slice, depth: depth + 1, count: &count))
            }
            return MIMEPart(headers: headers, body: .multipart(parts), encodedSize: content.count)
        }
        let decoded = Self.transferDecoded(content, encoding: headers.first("content-transfer-encoding"))
        if type.value == "message/rfc822" || type.value == "message/global" {
            let inner = try entity(decoded[...], depth: depth + 1, count: &count)
            return MIMEPart(headers: headers, body: .message(inner), encodedSize: content.count)
        }
        return MIMEPart(headers: headers, body: .leaf(decoded), encodedSize: content.count)
    }

    /// The header section and the body, split at the first empty line (CRLF or bare LF). A part
    /// that starts with an empty line has no header fields.
    static func splitHeader(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var index = bytes.startIndex
        var lineStart = index
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                let line = bytes[lineStart..<index]
                if line.isEmpty || line == [0x0D] { return (bytes[bytes.startIndex..<lineStart], bytes[(index + 1)...]) }
                lineStart = index + 1
            }
            index += 1
        }
        // No empty line: all header (a message without a body) unless the text holds no field at all.
        return (bytes, bytes[bytes.endIndex...])
    }

    /// The lines of `bytes`, without their CR LF or LF.
    static func lines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                var end = index
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                lines.append(bytes[start..<end])
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex {
            var end = bytes.endIndex
            if bytes[end - 1] == 0x0D { end -= 1 }
            lines.append(bytes[start..<end])
        }
        return lines
    }

    /// The bodies between `--boundary` lines, up to `--boundary--` (or the end, when it is missing).
    static func bodyParts(_ bytes: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while lineStart < bytes.endIndex {
            while index < bytes.endIndex, bytes[index] != 0x0A { index += 1 }
            let line = bytes[lineStart..<index]
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                let tail = closing ? rest.dropFirst(2) : rest
                if tail.allSatisfy(isSpace) {
                    if let start = partStart {
                        // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                        var end = lineStart
                        if end > start, bytes[end - 1] == 0x0A { end -= 1 }
                        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                        parts.append(bytes[start..<max(start, end)])
                    }
                    if closing { return parts }
                    partStart = min(index + 1, bytes.endIndex)
                }
            }
            index += 1
            lineStart = min(index, bytes.endIndex)
        }
        if let start = partStart, start < bytes.endIndex { parts.append(bytes[start...]) }
        return parts
    }

    /// The body with its Content-Transfer-Encoding undone (7bit, 8bit, binary and unknown ones as they are).
    static func transferDecoded(_ bytes: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding?.lowercased().trimmingCharacters(in: .whitespaces) {
        case "base64": base64(bytes)
        case "quoted-printable": quotedPrintable(bytes, underscoreIsSpace: false)
        default: Array(bytes)
        }
    }

    /// Base64, skipping every byte outside the alphabet and stopping at padding; a trailing partial
    /// group gives what bytes it holds.
    static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): return output
            default: continue
            }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX`, soft line breaks, an `=` that starts no escape kept
    /// as it is; `underscoreIsSpace` for RFC 2047's Q encoding.
    static func quotedPrintable(_ bytes: ArraySlice<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                // A soft line break: "=" then optional trailing white space, then CRLF or LF.
                var next = index + 1
                while next < bytes.endIndex, bytes[next] == 0x20 || bytes[next] == 0x09 { next += 1 }
                if next < bytes.endIndex, bytes[next] == 0x0D, next + 1 < bytes.endIndex, bytes[next + 1] == 0x0A {
                    index = next + 2
                    continue
                }
                if next < bytes.endIndex, bytes[next] == 0x0A {
                    index = next + 1
                    continue
                }
                if next == bytes.endIndex {
                    index = next
                    continue
                }
                if index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                output.append(byte)
                index += 1
            } else if underscoreIsSpace && byte == UInt8(ascii: "_") {
                output.append(0x20)
                index += 1
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    /// The value of a hexadecimal digit, either case.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Space, tab, CR or LF.
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
}
