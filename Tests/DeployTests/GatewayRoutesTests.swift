import Foundation
import Testing
import Yams

/// One directive of an nginx configuration: its name, its arguments and, for a block, the directives it holds.
struct NginxDirective {
    var name: String
    var arguments: [String]
    var block: [NginxDirective]?

    /// The directives named `name` in this block.
    func children(_ name: String) -> [NginxDirective] { (block ?? []).filter { $0.name == name } }
}

/// Reads nginx's configuration syntax: words and quoted strings, `;`-terminated directives, `{}` blocks, `#` comments.
enum NginxSyntax {
    enum Token: Equatable {
        case word(String)
        case open, close, end
    }

    struct Malformed: Error, CustomStringConvertible { var description: String }

    static func tokens(_ text: String) throws -> [Token] {
        let characters = Array(text)
        var tokens: [Token] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case _ where character.isWhitespace: index += 1
            case "#": while index < characters.count, characters[index] != "\n" { index += 1 }
            case "{", "}", ";":
                tokens.append(character == "{" ? .open : character == "}" ? .close : .end)
                index += 1
            case "\"", "'":
                var word = ""
                index += 1
                while index < characters.count, characters[index] != character {
                    // nginx unescapes only the quote and the backslash; `\s` in a regex stays as written.
                    if characters[index] == "\\", index + 1 < characters.count, [character, "\\"].contains(characters[index + 1]) { index += 1 }
                    word.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw Malformed(description: "an unterminated quoted string") }
                index += 1
                tokens.append(.word(word))
            default:
                var word = ""
                while index < characters.count, !characters[index].isWhitespace, !"{};".contains(characters[index]) {
                    word.append(characters[index])
                    index += 1
                }
                tokens.append(.word(word))
            }
        }
        return tokens
    }

    /// The configuration's top-level directives.
    static func parse(_ text: String) throws -> [NginxDirective] {
        let tokens = try tokens(text)
        var index = 0
        let directives = try block(tokens, &index, nested: false)
        guard index == tokens.count else { throw Malformed(description: "a `}` without its `{`") }
        return directives
    }

    static func block(_ tokens: [Token], _ index: inout Int, nested: Bool) throws -> [NginxDirective] {
        var directives: [NginxDirective] = []
        while index < tokens.count {
            if tokens[index] == .close {
                guard nested else { return directives }
                index += 1
                return directives
            }
            var words: [String] = []
            while index < tokens.count, case .word(let word) = tokens[index] {
                words.append(word)
                index += 1
            }
            guard let name = words.first, index < tokens.count else { throw Malformed(description: "a directive without `;` or `{`: \(words)") }
            switch tokens[index] {
            case .end:
                index += 1
                directives.append(NginxDirective(name: name, arguments: Array(words.dropFirst())))
            case .open:
                index += 1
                directives.append(NginxDirective(name: name, arguments: Array(words.dropFirst()), block: try block(tokens, &index, nested: true)))
            default: throw Malformed(description: "`}` right after \(words)")
            }
        }
        if nested { throw Malformed(description: "a `{` without its `}`") }
        return directives
    }
}

/// The gateway as nginx sees it: its variables, its maps and its server's locations, in order.
struct NginxGateway {
    /// A `map $source $variable { key value; ... }`.
    struct Map {
        var source: String
        var entries: [(key: String, value: String)]
    }

    struct Location {
        /// `=`, `^~`, `~`, `~*`, or empty for a plain prefix.
        var modifier: String
        var pattern: String
        /// The `proxy_pass` target as written (a URL or a variable); nil for a location that answers itself.
        var proxyPass: String?
        /// The arguments of its `return` (status and body), for a location that answers itself.
        var returns: [String]?
        /// Its `default_type`: the answer's Content-Type when it answers itself.
        var defaultType: String?
        var isRegex: Bool { modifier == "~" || modifier == "~*" }

        /// Whether it answers 404 with a problem document itself, proxying nothing.
        var isNotFoundProblem: Bool {
            proxyPass == nil && defaultType == "application/problem+json" && returns?.first == "404"
                && (returns?.last ?? "").contains(#""status":404"#)
        }
    }

    var sets: [String: String] = [:]
    var maps: [String: Map] = [:]
    var locations: [Location] = []

    init(_ text: String) throws {
        let http = try #require(try NginxSyntax.parse(text).first(where: { $0.name == "http" }))
        for map in http.children("map") {
            let arguments = map.arguments
            try #require(arguments.count == 2 && arguments[1].hasPrefix("$"), "map takes a source and a variable: \(arguments)")
            maps[String(arguments[1].dropFirst())] = Map(
                source: arguments[0], entries: (map.block ?? []).map { (key: $0.name, value: $0.arguments.joined(separator: " ")) })
        }
        let servers = http.children("server")
        try #require(servers.count == 1, "the gateway has one server")
        for directive in servers[0].block ?? [] {
            switch directive.name {
            case "set":
                try #require(directive.arguments.count == 2 && directive.arguments[0].hasPrefix("$"))
                sets[String(directive.arguments[0].dropFirst())] = directive.arguments[1]
            case "location":
                let arguments = directive.arguments
                guard !(arguments.first ?? "").hasPrefix("@") else { continue }  // named: reached only by error_page
                let (modifier, pattern) = arguments.count == 2 ? (arguments[0], arguments[1]) : ("", arguments.first ?? "")
                try #require(["", "=", "^~", "~", "~*"].contains(modifier), "location modifier \(modifier)")
                #expect(directive.children("location").isEmpty, "location \(pattern) nests locations, which this test does not follow")
                locations.append(
                    Location(
                        modifier: modifier, pattern: pattern, proxyPass: directive.children("proxy_pass").first?.arguments.first,
                        returns: directive.children("return").first?.arguments, defaultType: directive.children("default_type").first?.arguments.first))
            default: continue
            }
        }
    }

    /// The location nginx picks for `path`: an exact match, else the longest prefix if it is `^~`, else the first
    /// regex that matches in the order written, else the longest prefix.
    func location(for path: String) throws -> Location? {
        if let exact = locations.first(where: { $0.modifier == "=" && $0.pattern == path }) { return exact }
        let longest = locations.filter { ($0.modifier == "" || $0.modifier == "^~") && path.hasPrefix($0.pattern) }
            .max { $0.pattern.count < $1.pattern.count }
        if longest?.modifier == "^~" { return longest }
        for location in locations where location.isRegex {
            var regex = try Regex(location.pattern)
            if location.modifier == "~*" { regex = regex.ignoresCase() }
            if path.firstMatch(of: regex) != nil { return location }
        }
        return longest
    }

    /// The upstream URLs a `proxy_pass` value can send a request with `method` to; every method's when nil.
    /// A map keyed on `$request_method` is followed for that method, any other map (the token split) by all of its values.
    func upstreams(of value: String, method: String? = nil) throws -> Set<String> {
        guard value.hasPrefix("$") else {
            #expect(!value.contains("$"), "\(value): a variable inside a URL is not followed by this test")
            return [value]
        }
        let name = String(value.dropFirst())
        if let set = sets[name] { return try upstreams(of: set, method: method) }
        let map = try #require(maps[name], "$\(name) is neither set nor mapped")
        var values = map.entries.map(\.value)
        if map.source == "$request_method", let method {
            values = [map.entries.first { $0.key == method }?.value ?? map.entries.first { $0.key == "default" }?.value].compactMap { $0 }
        }
        return try values.reduce(into: Set<String>()) { $0.formUnion(try upstreams(of: $1, method: method)) }
    }
}

/// The concrete paths a location regex stands for. `^/v1/(rules|problems)(/|$)` → `/v1/rules` and `/v1/problems`,
/// each a prefix of whole segments; `^/v1/tickets/[^/]+/?$` → exactly `/v1/tickets/*` (`*`: any one segment).
enum RouteExpansion {
    struct Prefix: Hashable, CustomStringConvertible {
        var path: String
        /// True when the regex ends the path there (`$`); false when longer paths under it match too.
        var exact: Bool
        var segments: [Substring] { path.split(separator: "/") }
        var description: String { exact ? path : path + "[/...]" }

        /// Whether an OpenAPI path (`/v1/tickets/{id}`) is this prefix or lies under it. A `{parameter}` segment
        /// stands for any value, a `*` of the prefix for any segment.
        func covers(_ template: String) -> Bool {
            let mine = segments
            let theirs = template.split(separator: "/")
            guard exact ? theirs.count == mine.count : theirs.count >= mine.count else { return false }
            return zip(mine, theirs).allSatisfy { $0 == "*" || $0 == $1 || ($1.hasPrefix("{") && $1.hasSuffix("}")) }
        }
    }

    struct Unsupported: Error, CustomStringConvertible { var description: String }

    /// Alternatives of a regex written with literals, groups of alternatives, `[^/]+`, `?` after one character, and `$`.
    static func alternatives(_ pattern: String) throws -> [String] {
        guard pattern.hasPrefix("^") else { throw Unsupported(description: "\(pattern) is not anchored at the start of the path") }
        let characters = Array(pattern.dropFirst())
        var index = 0
        let result = try sequence(characters, &index, pattern)
        guard index == characters.count else { throw Unsupported(description: "an unbalanced `)` in \(pattern)") }
        return result
    }

    /// One alternative: a sequence of atoms, each expanded, multiplied out; stops before `|` or `)`.
    static func sequence(_ characters: [Character], _ index: inout Int, _ pattern: String) throws -> [String] {
        var results = [""]
        while index < characters.count, characters[index] != "|", characters[index] != ")" {
            var atom: [String]
            switch characters[index] {
            case "(":
                index += 1
                if characters[index...].starts(with: "?:") { index += 2 }
                atom = []
                while true {
                    atom += try sequence(characters, &index, pattern)
                    guard index < characters.count else { throw Unsupported(description: "an unclosed group in \(pattern)") }
                    index += 1
                    if characters[index - 1] == ")" { break }
                }
            case "[":
                guard characters[index...].starts(with: "[^/]+") else { throw Unsupported(description: "a class other than [^/]+ in \(pattern)") }
                index += 5
                atom = ["*"]
            case "\\":
                guard index + 1 < characters.count, !characters[index + 1].isLetter, !characters[index + 1].isNumber else {
                    throw Unsupported(description: "a backslash class in \(pattern)")
                }
                atom = [String(characters[index + 1])]
                index += 2
            case ".", "*", "+", "{", "}", "^":
                throw Unsupported(description: "`\(characters[index])` in \(pattern)")
            default:
                atom = [String(characters[index])]
                index += 1
            }
            if index < characters.count, characters[index] == "?" {
                guard atom.count == 1, atom[0].count == 1 else { throw Unsupported(description: "`?` after a group in \(pattern)") }
                atom.append("")
                index += 1
            }
            results = results.flatMap { head in atom.map { head + $0 } }
        }
        return results
    }

    /// The regex's concrete prefixes: its alternatives that end in `$` cut there, those that go on cut at their
    /// last `/` (the `(/|$)` idiom: this segment and anything under it), merged by path.
    static func prefixes(_ pattern: String) throws -> Set<Prefix> {
        var byPath: [String: Bool] = [:]
        for alternative in try alternatives(pattern) {
            if let end = alternative.firstIndex(of: "$") {
                guard alternative.index(after: end) == alternative.endIndex else { continue }  // `$` then more: matches nothing
                var path = String(alternative[..<end])
                if path.count > 1, path.hasSuffix("/") { path.removeLast() }
                byPath[path] = byPath[path] ?? true
            } else {
                var path = alternative
                if path.count > 1, path.hasSuffix("/") { path.removeLast() }
                byPath[path] = false
            }
        }
        return Set(byPath.map { Prefix(path: $0.key, exact: $0.value) })
    }
}

/// Every path the gateway routes exists on the service it routes to, and every public path of a service's OpenAPI
/// document reaches that service through the gateway; compose gives the gateway what its routes name.
@Suite struct GatewayRoutesTests {
    /// Each executable's OpenAPI document.
    static let documents = [
        "intake": "Services/Intake/App/openapi.yaml", "triage": "Services/Triage/App/openapi.yaml",
        "tier-queue": "Services/TierQueue/App/openapi.yaml", "vendor-bridge": "Services/VendorBridge/App/openapi.yaml",
    ]

    /// `/v1/` paths of the services that are deliberately not public, with the reason.
    static let notPublic = [
        "/v1/admin/dead-letters": "each service's own outbox: an operator asks that service on its own port, as no one path could name the service",
        "/v1/admin/dead-letters/{eventId}/retry": "the same: a dead letter is retried on the service that holds it",
    ]

    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]

    static func gateway() throws -> NginxGateway { try NginxGateway(ComposeTests.text("deploy/nginx.conf")) }

    static func services() throws -> [String: [String: Any]] {
        try #require(try ComposeTests.compose()["services"] as? [String: [String: Any]])
    }

    /// The compose services a host name reaches: the service of that name, or every service carrying it as an alias.
    static func composeServices(answering host: String) throws -> [String: [String: Any]] {
        try services().filter { name, service in
            let networks = service["networks"] as? [String: Any] ?? [:]
            let aliases = networks.values.flatMap { (($0 as? [String: Any])?["aliases"] as? [String]) ?? [] }
            return name == host || aliases.contains(host)
        }
    }

    /// The executable (`tier-queue`) behind an upstream URL (`http://tier-queue:8082`), checked to be one for every
    /// compose service the name reaches.
    static func executable(of upstream: String) throws -> String {
        let match = try #require(upstream.wholeMatch(of: /http:\/\/([a-z0-9-]+):(\d+)/), "\(upstream) is not http://host:port")
        let answering = try composeServices(answering: String(match.1))
        try #require(!answering.isEmpty, "nothing in docker-compose.yml answers \(match.1)")
        let executables = Set(answering.values.compactMap { ($0["command"] as? [String])?.first.map { String($0.dropFirst(2)) } })
        try #require(executables.count == 1, "\(match.1) reaches \(executables.sorted())")
        let executable = try #require(executables.first)
        #expect(ComposeTests.executables[executable] == Int(match.2), "\(upstream): \(executable) listens on \(ComposeTests.executables[executable] ?? 0)")
        return executable
    }

    /// The executables a location sends requests with `method` to (every method's when nil); empty when it answers itself.
    static func executables(_ location: NginxGateway.Location, in gateway: NginxGateway, method: String? = nil) throws -> Set<String> {
        guard let target = location.proxyPass else { return [] }
        return Set(try gateway.upstreams(of: target, method: method).map(executable(of:)))
    }

    /// An OpenAPI document's paths, each with its methods and path parameters (`$ref`s to components followed).
    static func paths(of executable: String) throws -> [(path: String, methods: [String], parameters: [[String: Any]])] {
        let file = try #require(documents[executable])
        let document = try #require(try Yams.load(yaml: ComposeTests.text(file)) as? [String: Any])
        let components = (document["components"] as? [String: Any])?["parameters"] as? [String: Any] ?? [:]
        func resolved(_ parameter: Any) -> [String: Any]? {
            guard let parameter = parameter as? [String: Any] else { return nil }
            guard let reference = parameter["$ref"] as? String else { return parameter }
            return components[String(reference.split(separator: "/").last ?? "")] as? [String: Any]
        }
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        return paths.map { path, item in
            let operations = item.filter { methods.contains($0.key) }
            let declared = (item["parameters"] as? [Any] ?? []) + operations.values.flatMap { ($0 as? [String: Any])?["parameters"] as? [Any] ?? [] }
            return (path, operations.keys.map { $0.uppercased() }.sorted(), declared.compactMap(resolved).filter { $0["in"] as? String == "path" })
        }
    }

    /// Concrete paths for an OpenAPI path: each `{parameter}` takes every value its schema allows when they are few
    /// (an enum, a small integer range), else one valid sample.
    static func samples(_ template: String, parameters: [[String: Any]]) -> [String] {
        var results = [""]
        for segment in template.split(separator: "/") {
            var values = [String(segment)]
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                let schema = parameters.first { $0["name"] as? String == name }?["schema"] as? [String: Any] ?? [:]
                if let allowed = schema["enum"] as? [Any] {
                    values = allowed.map { "\($0)" }
                } else if let low = schema["minimum"] as? Int, let high = schema["maximum"] as? Int, low <= high, high - low < 10 {
                    values = (low...high).map(String.init)
                } else if schema["type"] as? String == "integer" {
                    values = ["\(schema["minimum"] as? Int ?? 1)"]
                } else {
                    values = [schema["format"] as? String == "uuid" ? "4f6c2a9e-0d3b-4c7a-9b1e-5a8d2c7f3e10" : "sample"]
                }
            }
            results = results.flatMap { head in values.map { head + "/" + $0 } }
        }
        return results
    }

    @Test func everyRoutedPathExistsOnTheServiceItIsRoutedTo() throws {
        let gateway = try Self.gateway()
        var documented: [String: [String]] = [:]
        for executable in Self.documents.keys { documented[executable] = try Self.paths(of: executable).map(\.path) }
        let proxied = gateway.locations.filter { $0.proxyPass != nil }
        #expect(proxied.count >= 8)
        for location in proxied {
            // The console's pages have no OpenAPI document: the catch-all is checked by pagesGoToTheConsole.
            if try Self.executables(location, in: gateway) == ["console"] {
                #expect(location.modifier == "" && location.pattern == "/", "only the catch-all reaches the console, not \(location.pattern)")
                continue
            }
            try #require(location.isRegex, "location \(location.pattern): this test reads regex locations only")
            let prefixes = try RouteExpansion.prefixes(location.pattern)
            #expect(!prefixes.isEmpty)
            for executable in try Self.executables(location, in: gateway) {
                for prefix in prefixes.sorted(by: { $0.path < $1.path }) {
                    let exists = documented[executable, default: []].contains(where: prefix.covers)
                    #expect(
                        exists,
                        "the gateway sends \(prefix) (location \(location.pattern)) to \(executable), whose openapi.yaml has no such path")
                }
            }
        }
    }

    @Test func everyPublicPathOfAServiceReachesItThroughTheGateway() throws {
        let gateway = try Self.gateway()
        for executable in Self.documents.keys.sorted() {
            for (path, methods, parameters) in try Self.paths(of: executable) {
                let isPublic = path.hasPrefix("/v1/") && Self.notPublic[path] == nil
                for sample in Self.samples(path, parameters: parameters) {
                    let location = try gateway.location(for: sample)
                    if isPublic {
                        for method in methods {
                            let reached = try location.map { try Self.executables($0, in: gateway, method: method) } ?? []
                            #expect(
                                reached.contains(executable),
                                "\(method) \(sample) (\(executable)'s \(path)) reaches \(reached.sorted()) through location \(location?.pattern ?? "none")")
                        }
                    } else if !path.hasPrefix("/health/") {
                        // /internal/, metrics, the document itself and the allowlisted admin paths stay private.
                        #expect(
                            location?.proxyPass == nil, "\(sample) (\(executable)'s \(path)) is not public, yet location \(location?.pattern ?? "") proxies it")
                    }
                }
            }
        }
    }

    /// The paths the console's router and route groups name (`router.get("health/live")`,
    /// `groups.agent.get("tickets/{id}")` under `/agent`), each `{parameter}` filled in.
    static func consolePages() throws -> [String] {
        let folder = ComposeTests.root.appendingPathComponent("Services/Console/App")
        let files = try #require(FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil))
        // `RouteGroups`' prefixes.
        let prefixes = [
            "open": "", "agent": "agent", "agentOnly": "agent", "reports": "agent", "admin": "admin", "audit": "admin", "vendor": "vendor", "requester": "t",
        ]
        var pages = Set<String>()
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: /(?:router|groups\.(\w+))\.(?:get|post|put|patch|delete)\((?:"([^"]*)")?/) {
                let prefix = try match.1.map { try #require(prefixes[String($0)], "a route group the test knows: \($0)") } ?? ""
                let path = prefix + "/" + (match.2.map(String.init) ?? "")
                let segments = path.split(separator: "/").map { $0.hasPrefix("{") ? "4f6c2a9e-0d3b-4c7a-9b1e-5a8d2c7f3e10" : String($0) }
                pages.insert("/" + segments.joined(separator: "/"))
            }
        }
        return pages.sorted()
    }

    /// The pages are at `/`: every path the console serves reaches it (its health aside: /health/ is intake's), and the
    /// catch-all sends anything else there too, while unknown `/v1/` paths, `/internal/`, and the services' metrics and
    /// documents are answered by the gateway itself with a 404 problem document.
    @Test func pagesGoToTheConsoleAndTheRestStaysPrivate() throws {
        let gateway = try Self.gateway()
        #expect(gateway.sets["console"] == "http://console:8084")
        let pages = try Self.consolePages()
        #expect(pages.contains("/") && pages.contains("/signin") && pages.count >= 10, "the console's routes are found: \(pages)")
        for page in pages.filter({ !$0.hasPrefix("/health/") }) + ["/agent/", "/vendor/", "/favicon.ico", "/a/b/c", "/V1/tickets"] {
            let location = try gateway.location(for: page)
            let reached = try location.map { try Self.executables($0, in: gateway) } ?? []
            #expect(reached == ["console"], "\(page) reaches \(reached.sorted()) through location \(location?.pattern ?? "none")")
        }
        let answeredByTheGateway = [
            "/v1", "/v1/", "/v1/unknown", "/v1/ticketsx", "/v1/queues/4", "/v1/queues/12", "/v1/admin/dead-letters", "/v1/signin",
            "/internal", "/internal/", "/internal/v1/events", "/internal/v1/vendors/match", "/internal/v1/staff-sign-ins",
            "/metrics", "/openapi.yaml",
        ]
        for path in answeredByTheGateway {
            let location = try gateway.location(for: path)
            #expect(location?.isNotFoundProblem == true, "\(path) is answered 404 by the gateway, not by location \(location?.pattern ?? "none")")
        }
        // The gateway's own health path stays intake's, ahead of the catch-all.
        #expect(try gateway.location(for: "/health/live").map { try Self.executables($0, in: gateway) } == ["intake"])
        // Only the catch-all and the regex routes proxy: a prefix `^~` location over /v1/ would shadow every API route.
        let prefixes = gateway.locations.filter { !$0.isRegex && $0.pattern.hasPrefix("/v1") }
        #expect(prefixes.allSatisfy { $0.modifier != "^~" && $0.isNotFoundProblem }, "\(prefixes.map(\.pattern))")
    }

    /// `/v1/queues/N` goes to the instance serving level N alone; everything else of tier-queue to every instance.
    @Test func eachLevelsQueueGoesToItsOwnInstanceAndTheRestToAll() throws {
        let gateway = try Self.gateway()
        let services = try Self.services()
        let queues = services.filter { ($0.value["command"] as? [String])?.first == "./tier-queue" }
        var levels = Set<String>()
        for level in 1...3 {
            for path in ["/v1/queues/\(level)", "/v1/queues/\(level)/claim"] {
                let location = try #require(try gateway.location(for: path), "\(path) is routed")
                let upstreams = try gateway.upstreams(of: try #require(location.proxyPass, "\(path) is proxied"))
                for upstream in upstreams {
                    let host = String(try #require(upstream.wholeMatch(of: /http:\/\/([a-z0-9-]+):\d+/)).1)
                    let answering = try Self.composeServices(answering: host)
                    let tiers = answering.values.map { "\(($0["environment"] as? [String: Any])?["TIERDESK_TIERS"] ?? "")" }
                    #expect(!answering.isEmpty && tiers.allSatisfy { $0 == "\(level)" }, "\(path) goes to \(host), serving levels \(tiers)")
                    levels.formUnion(tiers)
                }
            }
        }
        #expect(levels == ["1", "2", "3"])
        // The routes that are not tied to a level reach every instance, so no level depends on another.
        let shared = ["/v1/agents", "/v1/reports/summary", "/v1/tickets/4f6c2a9e-0d3b-4c7a-9b1e-5a8d2c7f3e10/escalate"]
        for path in shared {
            let location = try #require(try gateway.location(for: path))
            let hosts = try gateway.upstreams(of: try #require(location.proxyPass)).map {
                String(try #require($0.wholeMatch(of: /http:\/\/([a-z0-9-]+):\d+/)).1)
            }
            for host in hosts {
                #expect(Set(try Self.composeServices(answering: host).keys) == Set(queues.keys), "\(path) goes to \(host), not to every tier-queue")
            }
        }
    }

    @Test func theTierQueuesShareAnAliasAndEachServesItsOwnLevels() throws {
        let compose = try ComposeTests.compose()
        let services = try Self.services()
        let queues = services.filter { ($0.value["command"] as? [String])?.first == "./tier-queue" }
        #expect(Set(queues.keys) == ["tier1-queue", "tier2-queue", "tier3-queue"])
        var tiers: [String] = []
        for (name, service) in queues {
            let networks = try #require(service["networks"] as? [String: Any], "\(name) names its network")
            let aliases = (networks["default"] as? [String: Any])?["aliases"] as? [String] ?? []
            #expect(aliases.contains("tier-queue"), "\(name) answers as tier-queue on the default network")
            tiers.append("\((service["environment"] as? [String: Any])?["TIERDESK_TIERS"] ?? "")")
        }
        #expect(Set(tiers).count == tiers.count && Set(tiers) == ["1", "2", "3"], "distinct TIERDESK_TIERS: \(tiers)")
        let shared = try #require(compose["x-tierdesk-env"] as? [String: Any])
        #expect(shared["TIERDESK_TIER_QUEUE_URL"] as? String == "http://tier-queue:8082")
        for level in 1...3 {
            #expect(shared["TIERDESK_TIER\(level)_QUEUE_URL"] as? String == "http://tier\(level)-queue:8082")
        }
    }

    /// Every long-running compose service has a health check; one-shot jobs (restart "no", or awaited to complete)
    /// are exempt. The gateway's runs a command its image has and asks a path the gateway routes.
    @Test func everyLongRunningServiceHasAHealthCheck() throws {
        let services = try Self.services()
        let awaited = services.values.flatMap { service in
            (service["depends_on"] as? [String: Any] ?? [:]).compactMap { name, condition in
                (condition as? [String: Any])?["condition"] as? String == "service_completed_successfully" ? name : nil
            }
        }
        let jobs = Set(awaited).union(services.filter { "\($0.value["restart"] ?? "")" == "no" }.keys)
        #expect(jobs == ["migrate"])
        for (name, service) in services where !jobs.contains(name) {
            let test = (service["healthcheck"] as? [String: Any])?["test"] as? [String] ?? []
            #expect(test.count >= 2 && ["CMD", "CMD-SHELL"].contains(test[0]), "\(name) has a health check")
        }
        let gateway = try #require(services["gateway"])
        let image = try #require(gateway["image"] as? String)
        let test = try #require((gateway["healthcheck"] as? [String: Any])?["test"] as? [String])
        if image.contains("alpine") {
            #expect(["wget", "nc", "sh"].contains(test.dropFirst().first ?? ""), "\(image) has busybox, not bash or curl: \(test)")
        }
        let url = try #require(test.first { $0.hasPrefix("http://127.0.0.1/") }, "the gateway checks itself on its own port")
        let path = String(url.dropFirst("http://127.0.0.1".count))
        #expect(try Self.gateway().location(for: path)?.proxyPass != nil, "the gateway routes its health check's \(path)")
    }

    @Test func regexesExpandToTheirConcretePrefixes() throws {
        func prefixes(_ pattern: String) throws -> [String] { try RouteExpansion.prefixes(pattern).map(\.description).sorted() }
        #expect(try prefixes("^/v1/(rules|problems)(/|$)") == ["/v1/problems[/...]", "/v1/rules[/...]"])
        #expect(try prefixes("^/v1/tickets/[^/]+/?$") == ["/v1/tickets/*"])
        #expect(try prefixes("^/v1/(vendors(/|$)|vendor/)") == ["/v1/vendor[/...]", "/v1/vendors[/...]"])
        #expect(try prefixes("^/v1/queues/1(/|$)") == ["/v1/queues/1[/...]"])
        #expect(throws: RouteExpansion.Unsupported.self) { try RouteExpansion.prefixes("^/v1/.*") }
        #expect(throws: RouteExpansion.Unsupported.self) { try RouteExpansion.prefixes("/v1/tickets") }
        let exact = RouteExpansion.Prefix(path: "/v1/tickets/*", exact: true)
        #expect(exact.covers("/v1/tickets/{id}") && !exact.covers("/v1/tickets/{id}/replies") && !exact.covers("/v1/tickets"))
        let under = RouteExpansion.Prefix(path: "/v1/queues/1", exact: false)
        #expect(under.covers("/v1/queues/{tier}/claim") && !under.covers("/v1/queue"))
    }

    @Test func locationsAreChosenAsNginxChoosesThem() throws {
        let gateway = try NginxGateway(
            """
            http {
                map $request_method $m { default http://a:1; GET "http://b:2"; }
                server {
                    set $a http://a:1;
                    location = /exact { return 404; }
                    location ^~ /internal/ { return 404; }
                    location ~ ^/v1/x(/|$) { proxy_pass $m; }  # a comment; with { braces }
                    location ~* ^/V1/Y { proxy_pass $a; }
                    location @named { return 429; }
                    location /v1/ { default_type application/problem+json; return 404 '{"status":404}'; }
                    location / { proxy_pass $a; }
                }
            }
            """)
        #expect(try gateway.location(for: "/exact")?.modifier == "=")
        #expect(try gateway.location(for: "/internal/v1/x")?.pattern == "/internal/")
        #expect(try gateway.location(for: "/v1/x/1")?.pattern == "^/v1/x(/|$)")
        #expect(try gateway.location(for: "/v1/y")?.pattern == "^/V1/Y")
        #expect(try gateway.location(for: "/v1/xy")?.pattern == "/v1/")
        #expect(try gateway.location(for: "/v1/xy")?.isNotFoundProblem == true)
        #expect(try gateway.location(for: "/v2/x")?.pattern == "/")
        #expect(try gateway.location(for: "/internal/v1/x")?.isNotFoundProblem == false, "a bare return 404 is no problem document")
        #expect(try gateway.upstreams(of: "$m", method: "GET") == ["http://b:2"])
        #expect(try gateway.upstreams(of: "$m", method: "POST") == ["http://a:1"])
        #expect(try gateway.upstreams(of: "$m") == ["http://a:1", "http://b:2"])
    }
}
