import Foundation
import Hummingbird
import NIOCore
import TierdeskModels

/// The one JSON dialect of the API: camelCase, ISO 8601 dates with milliseconds, ids in lower case.
public enum JSONCoding {
    /// Shared: encoding and decoding are safe from any number of tasks at once.
    public static let encoder: APIEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return APIEncoder(json: encoder)
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO 8601 date-time")
            }
            return date
        }
        return decoder
    }()

    /// An RFC 3339 date-time, with or without fractional seconds, and nothing else: Foundation's
    /// parser alone accepts trailing text, June 31 (as July 1) and hour 24, which the fuzzer found.
    public static func parseDate(_ text: String) -> Date? { RFC3339.parse(text) }

    public static func encode(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(data: try encoder.encode(value))
    }

    public static func string(_ value: some Encodable) throws -> String {
        // Most tickets carry no metadata: an empty object needs no encoder.
        if let object = value as? [String: JSONValue], object.isEmpty { return "{}" }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Foundation's JSON encoder in the API's dialect, with every id lowercase: bodies, events, outbox
/// payloads, webhooks and problem documents all come from here. Foundation writes a `UUID` upper
/// case and has no strategy for it, so the encoded text is canonicalised: every JSON string that is
/// exactly a UUID is lowercased (RFC 9562's canonical form; ids compare without regard to case, and
/// decoding accepts either).
public struct APIEncoder: ResponseEncoder, Sendable {
    let json: JSONEncoder

    /// `value` as JSON, ids lowercase.
    public func encode(_ value: some Encodable) throws -> Data {
        Self.lowercasingIDs(try json.encode(value))
    }

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let data = try encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: "\(data.count)"],
            body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// `data` (compact JSON) with each string that is exactly a UUID with upper-case digits lowercased;
    /// `data` itself when it has none.
    static func lowercasingIDs(_ data: Data) -> Data {
        let (quote, backslash) = (UInt8(ascii: "\""), UInt8(ascii: "\\"))
        var starts: [Int] = []
        data.withUnsafeBytes { bytes in
            var index = 0
            var inString = false
            while index < bytes.count {
                let byte = bytes[index]
                if inString {
                    if byte == backslash {
                        index += 2
                        continue
                    }
                    if byte == quote { inString = false }
                } else if byte == quote {
                    // A string that is a UUID holds no quote or escape: it ends 37 bytes on.
                    if index + 37 < bytes.count, bytes[index + 37] == quote, isUpperCaseID(bytes, at: index + 1) {
                        starts.append(index + 1)
                        index += 38
                        continue
                    }
                    inString = true
                }
                index += 1
            }
        }
        guard !starts.isEmpty else { return data }
        var lowered = data
        lowered.withUnsafeMutableBytes { bytes in
            for start in starts {
                for index in start..<start + 36 where (0x41...0x46).contains(bytes[index]) { bytes[index] |= 0x20 }
            }
        }
        return lowered
    }

    /// Whether the 36 bytes at `start` spell a UUID (8-4-4-4-12 hex digits) with an upper-case digit.
    static func isUpperCaseID(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Bool {
        var upper = false
        for offset in 0..<36 {
            let byte = bytes[start + offset]
            switch offset {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return false }
            default:
                switch byte {
                case 0x30...0x39, 0x61...0x66: break
                case 0x41...0x46: upper = true
                default: return false
                }
            }
        }
        return upper
    }
}

/// A JSON response with a status: `return JSONResponse(ticket, status: .created)`.
public struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator, Sendable {
    public var value: Value
    public var status: HTTPResponse.Status
    public var headers: HTTPFields

    public init(_ value: Value, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.value = value
        self.status = status
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: try JSONCoding.encode(value)))
    }
}

extension Request {
    /// Reads the body (at most the context's limit: 413 past it) and decodes it; malformed JSON is
    /// 400, a missing or mistyped field 422 naming the field.
    public func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        try requireJSON()
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        return try JSONCoding.decodeBody(type, from: buffer)
    }

    /// 415 for a body declared as anything but JSON.
    func requireJSON() throws {
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw Problem(type: Problem.typeBase + "unsupported-media-type", title: "Unsupported media type", status: 415, detail: "send application/json")
        }
    }

    /// As `decodeJSON`, for a body that may be left out: nil when there is none.
    public func decodeJSONIfPresent<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T? {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        try requireJSON()
        return try JSONCoding.decodeBody(type, from: buffer)
    }
}

extension JSONCoding {
    /// Decodes a request body, turning every decoding failure into a problem that names the field.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else {
            throw Problem(
                type: Problem.typeBase + "malformed-body", title: "Malformed request body", status: 400, detail: "the body is empty; send a JSON object")
        }
        let bytes = Data(buffer.readableBytesView)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Problem(type: Problem.typeBase + "malformed-body", title: "Malformed request body", status: 400, detail: "the body is not valid UTF-8")
        }
        do {
            return try decoder.decode(type, from: bytes)
        } catch let error as DecodingError {
            throw problem(for: error)
        }
    }

    static func problem(for error: DecodingError) -> Problem {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("") { result, key in
                if let index = key.intValue { return result + "[\(index)]" }
                return result.isEmpty ? key.stringValue : result + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .validation([FieldError(field: path(context.codingPath + [key]), message: "is required")])
        case .typeMismatch(let type, let context):
            return .validation([FieldError(field: path(context.codingPath), message: "must be \(describe(type))")])
        case .valueNotFound(let type, let context):
            return .validation([FieldError(field: path(context.codingPath), message: "must be \(describe(type)), not null")])
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            return .validation([FieldError(field: path(context.codingPath), message: "has a value that is not allowed")])
        default:
            return Problem(type: Problem.typeBase + "malformed-body", title: "Malformed request body", status: 400, detail: "the body is not valid JSON")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}

extension JSONValue {
    /// Any encodable value as JSON, in the API's dialect (for event data).
    public init(encoding value: some Encodable) throws {
        self = try JSONCoding.decoder.decode(JSONValue.self, from: JSONCoding.encoder.encode(value))
    }
}
