import Foundation
import Hummingbird
import NIOCore
import TierdeskModels

/// The one JSON dialect of the API: camelCase, ISO 8601 dates with milliseconds.
public enum JSONCoding {
    /// Shared: encoding and decoding are safe from any number of tasks at once.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
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
