import Foundation
import Logging
import PostgresNIO

/// Runs a query on the pool or on one connection (inside a transaction), so store methods work
/// in both.
public protocol DatabaseExecutor: Sendable {
    func run(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence
    func run<S: HotStatement>(_ statement: S, logger: Logger) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow>
}

/// A statement on the hot path, prepared once per connection (named after its type) and from then
/// on only executed: no parse and no plan per call. Its SQL is fixed; the values are its bindings.
public protocol HotStatement: PostgresPreparedStatement where Row == PostgresRow {
    /// The values for `$1`, `$2`, … in order.
    var bindings: PostgresBindings { get }
}

extension HotStatement {
    public func makeBindings() -> PostgresBindings { bindings }
    public func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresBindings {
    /// Bindings for `$1`, `$2`, … in order; nil binds NULL.
    public init(_ values: (any PostgresEncodable & Sendable)?...) throws {
        self.init()
        for value in values {
            if let value { try append(value) } else { appendNull() }
        }
    }
}

extension PostgresClient: DatabaseExecutor {
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }

    public func run<S: HotStatement>(_ statement: S, logger: Logger) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow> {
        try await execute(statement, logger: logger)
    }
}

extension PostgresConnection: DatabaseExecutor {
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }

    public func run<S: HotStatement>(_ statement: S, logger: Logger) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow> {
        try await execute(statement, logger: logger)
    }
}

extension DatabaseExecutor {
    /// Every row of a query, each turned into a value by `transform`.
    public func all<T>(_ query: PostgresQuery, logger: Logger, _ transform: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in try await run(query, logger: logger) {
            values.append(try transform(row.makeRandomAccess()))
        }
        return values
    }

    /// The first row of a query, or nil.
    public func first<T>(_ query: PostgresQuery, logger: Logger, _ transform: (PostgresRandomAccessRow) throws -> T) async throws -> T? {
        try await all(query, logger: logger, transform).first
    }

    /// Every row of a prepared hot statement, each turned into a value by `transform`.
    public func all<S: HotStatement, T>(_ statement: S, logger: Logger, _ transform: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in try await run(statement, logger: logger) {
            values.append(try transform(row.makeRandomAccess()))
        }
        return values
    }

    /// The first row of a prepared hot statement, or nil.
    public func first<S: HotStatement, T>(_ statement: S, logger: Logger, _ transform: (PostgresRandomAccessRow) throws -> T) async throws -> T? {
        try await all(statement, logger: logger, transform).first
    }

    /// Runs a statement and drains its rows.
    public func execute(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await run(query, logger: logger) {}
    }
}

extension PostgresRandomAccessRow {
    /// The column's value as `T`.
    public func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self, context: .default)
    }

    /// A text column holding a `RawRepresentable` (an enum stored by its raw value).
    public func get<T: RawRepresentable>(_ column: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        let raw = try get(column, as: String.self)
        guard let value = T(rawValue: raw) else { throw UnexpectedColumnValue(column: column, value: raw) }
        return value
    }

    public func get<T: RawRepresentable>(_ column: String, as type: T?.Type) throws -> T? where T.RawValue == String {
        guard let raw = try get(column, as: String?.self) else { return nil }
        guard let value = T(rawValue: raw) else { throw UnexpectedColumnValue(column: column, value: raw) }
        return value
    }
}

/// A column holds a value the code does not know: the schema and the code disagree.
public struct UnexpectedColumnValue: Error, CustomStringConvertible {
    public var column: String
    public var value: String
    public var description: String { "column \(column) holds unexpected value '\(value)'" }
}

extension PostgresClient {
    /// `withTransaction` that rethrows the body's own error, or the failed BEGIN's or COMMIT's:
    /// PostgresNIO wraps them in a `PostgresTransactionError`, which would hide a 404 or 409, or a
    /// database that went away (a restart ends BEGIN and COMMIT with 57P01 too: a 503, not a 500;
    /// an unknown COMMIT outcome is safe to retry with the same Idempotency-Key).
    public func transaction<T: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> sending T) async throws -> T {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let cause = error.closureError ?? error.beginError ?? error.commitError { throw cause }
            throw error
        }
    }
}

extension Date {
    /// Microseconds since 1970: PostgreSQL's own precision, exact in a keyset cursor.
    public var epochMicroseconds: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
}
