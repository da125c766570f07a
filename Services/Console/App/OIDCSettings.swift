import Configuration
import Foundation
import TierdeskKit
import TierdeskModels

/// Single sign-on with an OpenID provider, as `TIERDESK_OIDC_*` configure it. Without
/// `TIERDESK_OIDC_ISSUER` there is none: the sign-in page offers only the token form.
struct OIDCSettings: Sendable {
    /// The issuer's URL exactly as its ID tokens name it (`iss`); discovery is read below it.
    var issuer: String
    var clientID: String
    var clientSecret: String
    /// What the sign-in asks for (`TIERDESK_OIDC_SCOPES`, default `openid email profile groups`; `openid` is required).
    var scopes: [String]
    /// The claims that carry the person's email, name and groups (default `email`, `name`, `groups`).
    var emailClaim: String
    var nameClaim: String
    var groupsClaim: String
    /// Which groups give which role and levels (`TIERDESK_OIDC_GROUPS`).
    var groups: GroupMapping
    /// Whether a first sign-in of someone unknown creates a staff person (`TIERDESK_OIDC_CREATE_STAFF`, default true).
    var createStaff: Bool
    /// What the button says: "Sign in with <name>" (`TIERDESK_OIDC_DISPLAY_NAME`, default the issuer's host).
    var displayName: String
    /// The console's public URL (`TIERDESK_PUBLIC_URL`): the callback and the page after the provider's sign-out are below it.
    var publicURL: String
    /// The internal token, for tier-queue's `/internal/v1/staff-sign-ins` (required with an issuer).
    var internalToken: String

    /// How far the provider's clock may be from ours when `exp`, `iat` and `nbf` are checked.
    static let clockSkew: TimeInterval = 60

    var redirectURI: String { publicURL + "/signin/oidc/callback" }
    var postLogoutRedirectURI: String { publicURL + "/" }

    /// The settings, or nil when no issuer is set; a setting that does not parse stops start-up with its name.
    static func read(_ reader: ConfigReader) throws(ConfigurationError) -> OIDCSettings? {
        guard let issuer = reader.string(forKey: "tierdesk.oidc.issuer"), !issuer.isEmpty else { return nil }
        guard let url = URL(string: issuer), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false, url.query == nil,
            url.fragment == nil
        else {
            throw ConfigurationError(key: "tierdesk.oidc.issuer", problem: "must be the provider's http(s) issuer URL, not '\(issuer)'")
        }
        let clientID = try TierdeskConfiguration.required(reader, "tierdesk.oidc.client.id")
        let scopes = reader.string(forKey: "tierdesk.oidc.scopes", default: "openid email profile groups").split(whereSeparator: \.isWhitespace).map(
            String.init)
        guard scopes.contains("openid") else {
            throw ConfigurationError(key: "tierdesk.oidc.scopes", problem: "must contain openid (space-separated scopes)")
        }
        var claims: [String] = []
        for (key, fallback) in [("tierdesk.oidc.email.claim", "email"), ("tierdesk.oidc.name.claim", "name"), ("tierdesk.oidc.groups.claim", "groups")] {
            let value = reader.string(forKey: ConfigKey(key), default: fallback).trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw ConfigurationError(key: key, problem: "must name a claim") }
            claims.append(value)
        }
        let mapping: GroupMapping
        switch GroupMapping.parse(reader.string(forKey: "tierdesk.oidc.groups", default: "")) {
        case .success(let parsed): mapping = parsed
        case .failure(let failure): throw ConfigurationError(key: "tierdesk.oidc.groups", problem: failure.description)
        }
        let createStaff: Bool
        switch reader.string(forKey: "tierdesk.oidc.create.staff", default: "true") {
        case "true": createStaff = true
        case "false": createStaff = false
        case let other: throw ConfigurationError(key: "tierdesk.oidc.create.staff", problem: "must be true or false, not '\(other)'")
        }
        return OIDCSettings(
            issuer: issuer, clientID: clientID, clientSecret: try clientSecret(reader), scopes: scopes, emailClaim: claims[0], nameClaim: claims[1],
            groupsClaim: claims[2], groups: mapping, createStaff: createStaff,
            displayName: reader.string(forKey: "tierdesk.oidc.display.name", default: url.host ?? issuer),
            publicURL: try MailLinkSettings.publicURL(reader),
            internalToken: try TierdeskConfiguration.required(reader, "tierdesk.internal.token", secret: true, minLength: 16))
    }

    /// `TIERDESK_OIDC_CLIENT_SECRET`, or the file `TIERDESK_OIDC_CLIENT_SECRET_FILE` names (a mounted secret).
    static func clientSecret(_ reader: ConfigReader) throws(ConfigurationError) -> String {
        guard let secret = try TierdeskConfiguration.secret(reader, "tierdesk.oidc.client.secret") else {
            throw ConfigurationError(key: "tierdesk.oidc.client.secret", problem: "(or TIERDESK_OIDC_CLIENT_SECRET_FILE) is required with TIERDESK_OIDC_ISSUER")
        }
        return secret
    }

    /// What `read(_:)` reads, for `--help`.
    static let settings =
        [
            ConfigSetting("tierdesk.oidc.issuer", "single sign-on: the OpenID provider's issuer URL (unset: no single sign-on)"),
            ConfigSetting("tierdesk.oidc.client.id", "the console's client id at the provider (required with an issuer)"),
        ] + ConfigSetting.secret("tierdesk.oidc.client.secret", "the console's client secret at the provider (required with an issuer)") + [
            ConfigSetting("tierdesk.oidc.scopes", "the scopes asked for, space-separated (default openid email profile groups)"),
            ConfigSetting("tierdesk.oidc.email.claim", "the ID token claim with the person's email (default email; email_verified must be true)"),
            ConfigSetting("tierdesk.oidc.name.claim", "the claim with the person's name (default name)"),
            ConfigSetting("tierdesk.oidc.groups.claim", "the claim with the person's groups (default groups)"),
            ConfigSetting(
                "tierdesk.oidc.groups",
                "group=role mapping, comma-separated: helpdesk-l2=agent:2,helpdesk-leads=lead:1+2,helpdesk-admins=admin,helpdesk-audit=auditor (required with an issuer)"
            ),
            ConfigSetting(
                "tierdesk.oidc.create.staff", "true: a first sign-in of someone unknown creates a staff person; false: only existing ones link (default true)"),
            ConfigSetting("tierdesk.oidc.display.name", "the provider's name on the sign-in button (default the issuer's host)"),
            ConfigSetting(
                "tierdesk.public.url", "the console's public URL: the sign-in callback and the page after sign-out are below it (default http://127.0.0.1:8084)"
            ),
        ] + ConfigSetting.secret("tierdesk.internal.token", "the services' internal token, for tier-queue's staff sign-ins (required with an issuer)")
}

/// A staff role single sign-on gives, and its levels (agents and team leads only).
struct StaffGrant: Sendable, Equatable {
    var role: StaffRole
    var tiers: [Tier]
}

/// Which provider groups give which role: `group=role[:levels]`, comma-separated, where role is
/// `agent`, `lead`, `admin` or `auditor` and levels (agents and leads only, required for them) are
/// joined by `+`: `helpdesk-l2=agent:2,helpdesk-leads=lead:1+2,helpdesk-admins=admin`. A person in
/// several mapped groups gets the strongest role among them (admin, lead, agent, auditor) with the
/// levels of all their agent and lead groups; one in none is refused.
struct GroupMapping: Sendable, Equatable {
    var entries: [String: StaffGrant]

    /// What the strongest role is: first in this list.
    static let precedence: [StaffRole] = [.admin, .lead, .agent, .auditor]

    /// A mapping that does not parse: the entry and what is wrong with it.
    struct Failure: Error, Equatable, CustomStringConvertible {
        var entry: String
        var problem: String
        var description: String { entry.isEmpty ? problem : "'\(entry)': \(problem)" }
    }

    static func parse(_ text: String) -> Result<GroupMapping, Failure> {
        var entries: [String: StaffGrant] = [:]
        for raw in text.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let group = parts[0].trimmingCharacters(in: .whitespaces)
            guard parts.count == 2, !group.isEmpty else { return .failure(Failure(entry: entry, problem: "must be group=role[:levels]")) }
            guard entries[group] == nil else { return .failure(Failure(entry: entry, problem: "maps the group '\(group)' a second time")) }
            let grant = parts[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let role = StaffRole(rawValue: grant[0].trimmingCharacters(in: .whitespaces)) else {
                return .failure(Failure(entry: entry, problem: "the role must be agent, lead, admin or auditor"))
            }
            var tiers: [Tier] = []
            if grant.count == 2 {
                guard role == .agent || role == .lead else {
                    return .failure(Failure(entry: entry, problem: "\(role.rawValue) has no levels: write \(group)=\(role.rawValue)"))
                }
                for level in grant[1].split(separator: "+", omittingEmptySubsequences: false) {
                    guard let number = Int(level.trimmingCharacters(in: .whitespaces)), let tier = Tier(rawValue: number), Tier.agentTiers.contains(tier)
                    else { return .failure(Failure(entry: entry, problem: "levels are 1, 2 or 3 joined by +, e.g. agent:1+2")) }
                    tiers.append(tier)
                }
            } else if role == .agent || role == .lead {
                return .failure(Failure(entry: entry, problem: "\(role.rawValue) needs its levels, e.g. \(group)=\(role.rawValue):1"))
            }
            entries[group] = StaffGrant(role: role, tiers: Array(Set(tiers)).sorted())
        }
        guard !entries.isEmpty else {
            return .failure(Failure(entry: "", problem: "must map at least one group, e.g. helpdesk-l1=agent:1,helpdesk-admins=admin"))
        }
        return .success(GroupMapping(entries: entries))
    }

    /// The role and levels `groups` give; nil when none of them is mapped.
    func grant(for groups: [String]) -> StaffGrant? {
        let grants = Set(groups).compactMap { entries[$0] }
        guard let role = Self.precedence.first(where: { role in grants.contains { $0.role == role } }) else { return nil }
        let tiers = role == .agent || role == .lead ? Set(grants.flatMap(\.tiers)).sorted() : []
        return StaffGrant(role: role, tiers: tiers)
    }
}
