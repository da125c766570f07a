import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Synchronization
import TierdeskModels

/// Resolves `Authorization: Bearer <token>` into a `Principal`. No header leaves the caller
/// anonymous (routes decide); a token that matches nothing is 401 at once. Failed attempts are
/// counted per client address (an IPv6 client per /64): past `failures.perMinute` a minute, that
/// address's tokens are still checked, but one that would need a database lookup and was not
/// found valid lately is refused with 429 and `Retry-After` without the lookup (per replica). So a
/// flood of made-up tokens neither reaches the database nor locks out a valid token sent from the
/// same address: an agent behind the attacker's NAT keeps working. A token that only reads (scope
/// `read`, or an auditor's) is refused on anything but GET and HEAD.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let authenticator: Authenticator
    let failures: RateLimiter
    let clientAddress: ClientAddress

    public init(authenticator: Authenticator, failures: RateLimiter, clientAddress: ClientAddress) {
        self.authenticator = authenticator
        self.failures = failures
        self.clientAddress = clientAddress
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let address = "auth-failures:\(clientAddress.limitKey(request, context))"
        let throttled = failures.retryAfter(address)
        var context = context
        do {
            guard let token = Self.bearerToken(header) else { throw Problem.unauthorized }
            context.principal = try await authenticator.principal(for: token, mayLookUp: throttled == nil, logger: context.logger)
        } catch is LookupRefused {
            throw RateLimited(retryAfter: throttled ?? 1).problem
        } catch let problem as Problem where problem.status == 401 {
            failures.spend(address)
            if let throttled { throw RateLimited(retryAfter: throttled).problem }
            throw problem
        }
        if context.principal?.readOnly == true, request.method != .get, request.method != .head {
            throw Problem.forbidden("this token only reads")
        }
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer <token>` header, or nil.
    public static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    /// The bearer token `request` carries, or nil.
    public static func bearerToken(_ request: Request) -> String? {
        request.headers[.authorization].flatMap(bearerToken)
    }
}
