import Configuration
import Foundation

/// Settings every service that writes mail reads alike.
public enum MailSettings {
    /// `TIERDESK_MAIL_REPLY_DOMAIN`: the domain of the tickets' reply addresses
    /// (`reply+…@<domain>`, `ReplyAddress`) and of the Message-IDs written; default `localhost`.
    public static func replyDomain(_ reader: ConfigReader) throws(ConfigurationError) -> String {
        let domain = reader.string(forKey: "tierdesk.mail.reply.domain", default: "localhost").lowercased()
        guard isDomain(domain) else {
            throw ConfigurationError(key: "tierdesk.mail.reply.domain", problem: "must be a domain name such as help.example.com, not '\(domain)'")
        }
        return domain
    }

    /// `TIERDESK_MAIL_TEMPLATES`: the folder of the operator's mail templates, which override the
    /// built-in ones file by file (`MailTemplates`); nil when unset.
    public static func templateFolder(_ reader: ConfigReader) throws(ConfigurationError) -> String? {
        guard let folder = reader.string(forKey: "tierdesk.mail.templates"), !folder.isEmpty else { return nil }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ConfigurationError(key: "tierdesk.mail.templates", problem: "must name a folder of mail templates; '\(folder)' is none")
        }
        return folder
    }

    /// `TIERDESK_PUBLIC_URL`: where people open the console (the links in mail); default the local console.
    public static func publicURL(_ reader: ConfigReader) throws(ConfigurationError) -> String {
        let value = reader.string(forKey: "tierdesk.public.url", default: "http://127.0.0.1:8084")
        guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false, url.query == nil,
            url.fragment == nil
        else {
            throw ConfigurationError(key: "tierdesk.public.url", problem: "must be the console's public http(s) URL (no query or fragment), not '\(value)'")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    /// What these read, for `--help`.
    public static let settings = [
        ConfigSetting("tierdesk.mail.reply.domain", "domain of the tickets' reply addresses and of the Message-IDs of mail written (default localhost)"),
        ConfigSetting(
            "tierdesk.mail.templates",
            "folder of mail templates overriding the built-in ones, <kind>.<subject|text|html>.mustache (default none: the built-in ones)"),
        ConfigSetting("tierdesk.public.url", "the console's public URL, for the links in mail (default http://127.0.0.1:8084)"),
    ]

    /// Letters, digits and hyphens in dot-separated labels.
    static func isDomain(_ value: String) -> Bool {
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        return value.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }
}
