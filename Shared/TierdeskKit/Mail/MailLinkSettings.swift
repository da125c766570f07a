import Configuration
import Foundation

/// What the mail a service writes links to and is written from: the console's public URL and the
/// operator's template folder. (Where the mail leaves, and the reply addresses' domain, are
/// `MailSettings`.)
public enum MailLinkSettings {
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

    /// The templates of `defaults`, overridden from the folder `TIERDESK_MAIL_TEMPLATES` names; one
    /// that cannot be used stops start-up with the setting's name.
    public static func templates(_ defaults: [String: MailTemplates.Defaults], folder: String?) throws(ConfigurationError) -> MailTemplates {
        do {
            return try MailTemplates(defaults: defaults, folder: folder)
        } catch {
            throw ConfigurationError(key: "tierdesk.mail.templates", problem: "cannot be used: \(error.description)")
        }
    }

    /// What these read, for `--help`.
    public static let settings = [
        ConfigSetting(
            "tierdesk.mail.templates",
            "folder of mail templates overriding the built-in ones, <kind>.<subject|text|html>.mustache (default none: the built-in ones)"),
        ConfigSetting("tierdesk.public.url", "the console's public URL, for the links in mail (default http://127.0.0.1:8084)"),
    ]
}
