import Foundation
import HTTPTypes
import Hummingbird
import TierdeskKit

/// Markup whose interpolations are escaped: `"<p>\(ticket.subject)</p>"` shows a subject holding
/// `<script>` as text. Only other `HTML` (a page's own parts) goes in as it is; there is no way to
/// put a plain string in unescaped.
struct HTML: ExpressibleByStringInterpolation, Sendable {
    private(set) var text: String

    init(stringLiteral value: String) { text = value }

    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity * 2) }

        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }
        mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ value: UUID) { text += value.uuidString.lowercased() }
        mutating func appendInterpolation(_ value: HTML) { text += value.text }
        mutating func appendInterpolation(_ values: [HTML]) { for value in values { text += value.text } }
        mutating func appendInterpolation(_ date: Date) {
            let written = RFC3339.format(date)
            text += "<time datetime=\"\(written)\">\(HTML.readable(written))</time>"
        }
    }

    /// The text with `& < > " '` as entities; a text without any is copied as it is.
    static func escape(_ value: String) -> String {
        let utf8 = value.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return value }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case 0x26: escaped.append(contentsOf: "&amp;".utf8)
            case 0x3C: escaped.append(contentsOf: "&lt;".utf8)
            case 0x3E: escaped.append(contentsOf: "&gt;".utf8)
            case 0x22: escaped.append(contentsOf: "&quot;".utf8)
            case 0x27: escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// `2026-11-30 14:05 UTC`.
    static func readable(_ date: Date) -> String { readable(RFC3339.format(date)) }

    /// `2026-11-30 14:05 UTC`, from the date as RFC 3339 writes it (`2026-11-30T14:05:09.250Z`).
    static func readable(_ written: String) -> String {
        let minute = written.prefix(16)
        return minute.prefix(10) + " " + minute.suffix(5) + " UTC"
    }

    /// A knowledge-base snippet as intake gives it (HTML-escaped text with matches in `<mark>`), taken
    /// apart and put together again here: the text is unescaped and escaped anew, so nothing but
    /// `<mark>` can come through whatever the snippet holds.
    static func snippet(_ text: String) -> HTML {
        var html: HTML = ""
        for (index, part) in text.components(separatedBy: "<mark>").enumerated() {
            let pieces = part.components(separatedBy: "</mark>")
            for (inner, piece) in pieces.enumerated() {
                let plain = escape(unescape(piece))
                html.text += index > 0 && inner == 0 && pieces.count > 1 ? "<mark>\(plain)</mark>" : plain
            }
        }
        return html
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func join(_ parts: [HTML]) -> HTML {
        var html: HTML = ""
        for part in parts { html.text += part.text }
        return html
    }
}

extension HTML: ResponseGenerator {
    func response(from request: Request, context: some RequestContext) throws -> Response { response() }

    /// The page as a response: HTML, never cached (the security headers every answer carries are
    /// `SessionMiddleware`'s).
    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
