import Foundation
import Testing

/// Issue 23, items 7 and 8: what the gateway logs and how it treats slow and greedy clients.
@Suite struct GatewayHardeningTests {
    static func http() throws -> NginxDirective {
        try #require(try NginxSyntax.parse(ComposeTests.text("deploy/nginx.conf")).first { $0.name == "http" })
    }

    /// Tokens in links never reach the access log: every log format names the path ($uri), never the
    /// query string, the request line, the Referer, a cookie or the Authorization header.
    @Test func theAccessLogHoldsNoQueryStringsOrTokens() throws {
        let http = try Self.http()
        let formats = http.children("log_format")
        #expect(!formats.isEmpty)
        let forbidden = ["$request_uri", "$args", "$query_string", "$request ", "$request\"", "$http_referer", "$http_cookie", "$http_authorization", "$arg_"]
        for format in formats {
            let text = format.arguments.joined(separator: " ")
            for variable in forbidden {
                #expect(!(text + " ").contains(variable), "log_format \(format.arguments.first ?? "") logs \(variable)")
            }
            #expect(text.contains("$uri"), "the path is still logged")
        }
        // Every access log uses one of these formats (the default `combined` logs the request line).
        let logs = http.children("access_log") + (http.children("server").flatMap { $0.children("access_log") })
        #expect(!logs.isEmpty)
        for log in logs where log.arguments.first != "off" {
            #expect(log.arguments.count >= 2 && formats.contains { $0.arguments.first == log.arguments[1] }, "access_log \(log.arguments) names its format")
        }
    }

    /// A client that trickles its request or does not read the answer is cut off within seconds, and an idle
    /// keep-alive connection does not stay open for a minute.
    @Test func slowClientsAreCutOff() throws {
        let http = try Self.http()
        for name in ["client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"] {
            let directive = try #require(http.children(name).first, "\(name) is set")
            let text = try #require(directive.arguments.first)
            let seconds = try #require(Int(text.hasSuffix("s") ? String(text.dropLast()) : text), "\(name) \(text) in seconds")
            #expect((1...20).contains(seconds), "\(name) \(text)")
        }
        #expect(http.children("reset_timedout_connection").first?.arguments == ["on"])
    }

    /// Each client address holds a bounded number of connections at once (429 past it), on top of its request rate.
    @Test func connectionsPerAddressAreLimited() throws {
        let http = try Self.http()
        let zone = try #require(http.children("limit_conn_zone").first)
        #expect(zone.arguments.first == "$binary_remote_addr")
        let name = try #require(zone.arguments.dropFirst().first { $0.hasPrefix("zone=") }?.dropFirst(5).split(separator: ":").first)
        let server = try #require(http.children("server").first)
        let limit = try #require(server.children("limit_conn").first)
        #expect(limit.arguments.first == String(name))
        #expect((1...100).contains(Int(limit.arguments.last ?? "") ?? 0))
        #expect(server.children("limit_conn_status").first?.arguments == ["429"])
    }
}
