import Foundation
import Hummingbird
import Logging
import NIOCore

/// The request context of every Tierdesk service: Hummingbird's core plus who is calling.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` from the bearer token; nil for an anonymous caller.
    public var principal: Principal?
    /// The peer of the connection (the gateway, when there is one).
    public let remoteAddress: SocketAddress?
    /// The client's address (`ClientAddress`: through trusted proxies), set by `AuthMiddleware` for a
    /// caller with a token; the audit trail records it.
    public var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        clientAddress = nil
        remoteAddress = source.channel.remoteAddress
    }

    /// 1 MiB: larger bodies answer 413 before any of them is decoded.
    public var maxUploadSize: Int { 1 << 20 }
    public var requestDecoder: JSONDecoder { JSONCoding.decoder }
    public var responseEncoder: APIEncoder { JSONCoding.encoder }
}
