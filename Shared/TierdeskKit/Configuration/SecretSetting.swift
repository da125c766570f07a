import Configuration
import Foundation

/// Secret settings come from the variable itself or from a file its `_FILE` form names
/// (`TIERDESK_SECRET_FILE=/run/secrets/tierdesk_secret`), as Docker and Kubernetes mount secrets;
/// setting both is an error, so an operator never wonders which one is used.
extension TierdeskConfiguration {
    /// The secret `key` (`tierdesk.secret`), or the content of the file `key.file` names; nil when
    /// neither is set (or the value is empty). Both forms are always read, so `--help` lists both.
    public static func secret(_ reader: ConfigReader, _ key: String) throws(ConfigurationError) -> String? {
        try secret(
            direct: reader.string(forKey: ConfigKey(key), isSecret: true), file: reader.string(forKey: ConfigKey(key + ".file")),
            name: environmentName(key))
    }

    /// The secret environment variable `name` (`TIERDESK_SECRET`), or the content of the file
    /// `name_FILE` names, from `environment` (the admin command reads its environment directly).
    public static func secret(_ name: String, in environment: [String: String]) throws(ConfigurationError) -> String? {
        try secret(direct: environment[name], file: environment[name + "_FILE"], name: name)
    }

    /// The value, from the variable or the file; line breaks around a file's content are dropped
    /// (`openssl rand -hex 32 > file` ends with one), nothing else.
    static func secret(direct: String?, file: String?, name: String) throws(ConfigurationError) -> String? {
        let direct = direct.flatMap { $0.isEmpty ? nil : $0 }
        let file = file.flatMap { $0.isEmpty ? nil : $0 }
        switch (direct, file) {
        case (nil, nil): return nil
        case (let value?, nil): return value
        case (_?, _?): throw ConfigurationError(key: name, problem: "and \(name)_FILE are both set: set one")
        case (nil, let path?):
            let contents: String
            do {
                contents = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: name + "_FILE", problem: "names a file that cannot be read: '\(path)'")
            }
            let value = contents.trimmingCharacters(in: .newlines)
            return value.isEmpty ? nil : value
        }
    }

    /// `url` with `password` as its password (replacing any it has), for a database URL kept apart
    /// from its password (`TIERDESK_DATABASE_PASSWORD_FILE`); `url` itself when `password` is nil.
    public static func databaseURL(_ url: String, password: String?) throws(ConfigurationError) -> String {
        guard let password else { return url }
        guard var components = URLComponents(string: url), components.user?.isEmpty == false else {
            throw ConfigurationError(key: "tierdesk.database.url", problem: "must name a user for TIERDESK_DATABASE_PASSWORD")
        }
        components.percentEncodedPassword = password.addingPercentEncoding(withAllowedCharacters: .urlUnreserved)
        guard let joined = components.string else {
            throw ConfigurationError(key: "tierdesk.database.password", problem: "cannot be placed in TIERDESK_DATABASE_URL")
        }
        return joined
    }

    /// `TIERDESK_DATABASE_URL` with the password of `TIERDESK_DATABASE_PASSWORD` (or its file) when
    /// one is set; the URL (or its file) is required.
    public static func databaseURL(_ reader: ConfigReader) throws(ConfigurationError) -> String {
        let url = try required(reader, "tierdesk.database.url", secret: true)
        let joined = try databaseURL(url, password: try secret(reader, "tierdesk.database.password"))
        _ = try DatabaseSettings(url: joined)
        return joined
    }

    /// The same from an environment (the admin command's).
    public static func databaseURL(in environment: [String: String]) throws(ConfigurationError) -> String {
        guard let url = try secret("TIERDESK_DATABASE_URL", in: environment) else {
            throw ConfigurationError(key: "tierdesk.database.url", problem: "is required (or TIERDESK_DATABASE_URL_FILE)")
        }
        let joined = try databaseURL(url, password: try secret("TIERDESK_DATABASE_PASSWORD", in: environment))
        _ = try DatabaseSettings(url: joined)
        return joined
    }

    /// What `databaseURL(_:)` reads, as `--help` lists it.
    public static let databaseSettings =
        ConfigSetting.secret("tierdesk.database.url", "postgres://user[:password]@host:port/database (required)")
        + ConfigSetting.secret("tierdesk.database.password", "the password of the URL's user, kept out of the URL (a mounted secret)")
}

extension CharacterSet {
    /// RFC 3986's unreserved characters: all a percent-encoded URL part may hold unescaped.
    static let urlUnreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

extension ConfigSetting {
    /// A secret setting and its `_FILE` form, as `--help` lists them.
    public static func secret(_ key: String, _ help: String) -> [ConfigSetting] {
        let setting = ConfigSetting(key, help)
        return [setting, ConfigSetting(setting.name + "_FILE", "a file holding \(setting.name) (a mounted secret), instead of it")]
    }
}
