import Foundation
import Logging
import PostgresNIO

/// A `postgres://user:password@host:port/database` URL, parsed. `?host=/run/postgresql` selects a
/// Unix socket directory.
public struct DatabaseSettings: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var socketPath: String?

    public init(url: String) throws(ConfigurationError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw ConfigurationError(key: "tierdesk.database.url", problem: "must be a postgres:// URL")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let user = components.user, !user.isEmpty, !database.isEmpty else {
            throw ConfigurationError(key: "tierdesk.database.url", problem: "must name a user and a database")
        }
        host = components.host ?? "127.0.0.1"
        port = components.port ?? 5432
        // Decoded once: a password may hold `%` itself (TIERDESK_DATABASE_PASSWORD_FILE puts any password in).
        username = components.percentEncodedUser?.removingPercentEncoding ?? user
        password = components.percentEncodedPassword?.removingPercentEncoding
        self.database = database
        if let socketDirectory = components.queryItems?.first(where: { $0.name == "host" })?.value {
            socketPath = "\(socketDirectory)/.s.PGSQL.\(port)"
        }
    }

    /// The same server, another database (tests clone databases from a template).
    public func with(database: String) -> DatabaseSettings {
        var copy = self
        copy.database = database
        return copy
    }

    /// The same server and database as another user (tests connect as each service's role).
    public func with(username: String, password: String? = nil) -> DatabaseSettings {
        var copy = self
        copy.username = username
        copy.password = password
        return copy
    }

    public var url: String {
        let credentials = password.map { "\(username):\($0)" } ?? username
        return "postgres://\(credentials)@\(host):\(port)/\(database)"
    }

    /// A pool for these settings.
    public func makeClient(poolSize: Int = 16, logger: Logger) -> PostgresClient {
        var configuration: PostgresClient.Configuration
        if let socketPath {
            configuration = .init(unixSocketPath: socketPath, username: username, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: .disable)
        }
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        // A database that is restarting accepts connections before it answers them: give up on one
        // well within a request's deadline, so waiting requests fail over to a fresh attempt or a 503.
        configuration.options.connectTimeout = .seconds(2)
        // No JIT compilation: every statement here is short. Once a table grows past the planner's
        // `jit_above_cost`, PostgreSQL compiled the outbox lease on every run, 10-30 ms of LLVM for a
        // statement that executes in 0.14 ms: the lease went from 0.1 to 6.4 ms on average in the
        // benchmark's routing run and held every hand-off up (BENCHMARKS.md).
        configuration.options.additionalStartupParameters = [("jit", "off")]
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
