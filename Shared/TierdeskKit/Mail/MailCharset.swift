import Foundation

/// Bytes in a mail's charset to text. UTF-8, US-ASCII, ISO-8859-1 and -15, Windows-1252 and UTF-16
/// are read exactly; any other (or a misnamed) charset is read leniently: as UTF-8 when the bytes
/// are valid UTF-8, else as Windows-1252, so every byte gives some character and nothing traps.
public enum MailCharset {
    /// `bytes` as text in `charset` (a MIME charset name, any case).
    public static func decode(_ bytes: some Collection<UInt8>, charset: String?) -> String {
        let name = (charset ?? "us-ascii").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        switch name {
        case "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "646":
            return lenientUTF8(bytes)
        case "iso-8859-1", "iso8859-1", "latin1", "iso_8859-1", "l1", "cp819":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case "iso-8859-15", "iso8859-15", "latin-9", "latin9":
            return String(String.UnicodeScalarView(bytes.map { latin9[$0].flatMap(Unicode.Scalar.init) ?? Unicode.Scalar($0) }))
        case "windows-1252", "cp1252", "x-cp1252":
            return windows1252(bytes)
        case "utf-16le":
            return utf16(Array(bytes), bigEndian: false)
        case "utf-16be":
            return utf16(Array(bytes), bigEndian: true)
        case "utf-16":
            let array = Array(bytes)
            if array.starts(with: [0xFF, 0xFE]) { return utf16(Array(array.dropFirst(2)), bigEndian: false) }
            if array.starts(with: [0xFE, 0xFF]) { return utf16(Array(array.dropFirst(2)), bigEndian: true) }
            return utf16(array, bigEndian: true)
        default:
            return String(validating: Array(bytes), as: UTF8.self) ?? windows1252(bytes)
        }
    }

    /// A header line's bytes: UTF-8 when valid (RFC 6532), else Latin-1 (raw 8-bit headers); each
    /// control character (a tab, a stray CR) becomes a space and NUL goes, as no header value holds them.
    static func headerText(_ bytes: ArraySlice<UInt8>) -> String {
        let clean = bytes.compactMap { byte -> UInt8? in byte == 0 ? nil : (byte < 0x20 || byte == 0x7F ? 0x20 : byte) }
        return String(validating: clean, as: UTF8.self) ?? String(String.UnicodeScalarView(clean.map { Unicode.Scalar($0) }))
    }

    /// UTF-8 with each invalid sequence replaced by U+FFFD.
    static func lenientUTF8(_ bytes: some Collection<UInt8>) -> String { String(decoding: Array(bytes), as: UTF8.self) }

    /// Windows-1252: Latin-1 with printable characters in 0x80-0x9F.
    static func windows1252(_ bytes: some Collection<UInt8>) -> String {
        String(
            String.UnicodeScalarView(
                bytes.map { byte in
                    if byte >= 0x80 && byte <= 0x9F, let value = cp1252High[Int(byte - 0x80)], let scalar = Unicode.Scalar(value) { return scalar }
                    return Unicode.Scalar(byte)
                }))
    }

    /// UTF-16 of the given byte order; an odd last byte is dropped, a lone surrogate replaced.
    static func utf16(_ bytes: [UInt8], bigEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = 0
        while index + 1 < bytes.count {
            let (a, b) = (UInt16(bytes[index]), UInt16(bytes[index + 1]))
            units.append(bigEndian ? a << 8 | b : b << 8 | a)
            index += 2
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// Where ISO-8859-15 differs from Latin-1.
    static let latin9: [UInt8: UInt32] = [0xA4: 0x20AC, 0xA6: 0x160, 0xA8: 0x161, 0xB4: 0x17D, 0xB8: 0x17E, 0xBC: 0x152, 0xBD: 0x153, 0xBE: 0x178]

    /// Windows-1252's 0x80-0x9F (nil: undefined there, read as the C1 control of the same value).
    static let cp1252High: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil, 0x017D, nil,
        nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, nil, 0x017E, 0x0178,
    ]
}

/// RFC 2047 encoded words in header values (`=?utf-8?Q?Gr=C3=BC=C3=9Fe?=`, `=?iso-8859-1?B?...?=`).
/// White space between two adjacent encoded words is dropped; a malformed word stays as written.
public enum EncodedWords {
    /// `text` with every well-formed encoded word decoded.
    public static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var result = ""
        var rest = Substring(text)
        var previousWasEncoded = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            if let (decoded, end) = word(rest[start.lowerBound...]) {
                if !(previousWasEncoded && before.allSatisfy({ $0 == " " || $0 == "\t" })) { result += before }
                result += decoded
                previousWasEncoded = true
                rest = rest[end...]
            } else {
                result += before + "=?"
                previousWasEncoded = false
                rest = rest[start.upperBound...]
            }
        }
        return result + rest
    }

    /// One encoded word at the start of `text`: its text and where it ends.
    static func word(_ text: Substring) -> (String, Substring.Index)? {
        // =?charset?encoding?encoded-text?=
        let body = text.dropFirst(2)
        guard let firstMark = body.firstIndex(of: "?") else { return nil }
        let charset = body[..<firstMark]
        let afterCharset = body[body.index(after: firstMark)...]
        guard let secondMark = afterCharset.firstIndex(of: "?") else { return nil }
        let encoding = afterCharset[..<secondMark].lowercased()
        let payloadStart = afterCharset.index(after: secondMark)
        guard let close = afterCharset[payloadStart...].range(of: "?=") else { return nil }
        let payload = afterCharset[payloadStart..<close.lowerBound]
        guard !charset.isEmpty, charset.count < 64, !payload.contains(" ") else { return nil }
        // RFC 2231 §5: charset*language.
        let name = String(charset.split(separator: "*").first ?? charset)
        let bytes: [UInt8]
        switch encoding {
        case "b": bytes = MIMEParser.base64(Array(payload.utf8)[...])
        case "q": bytes = MIMEParser.quotedPrintable(Array(payload.utf8)[...], underscoreIsSpace: true)
        default: return nil
        }
        return (MailCharset.decode(bytes, charset: name), close.upperBound)
    }
}
