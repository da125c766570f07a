import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Synchronization
import TierdeskModels

/// Resolves `Authorization: Bearer <token>` into a `Principal`. No header leaves the caller
/// anonymous (routes decide); a token that matches nothing is 401 at once. Failed attempts are
/// counted per client address: past `failures.perMinute` a minute, that address gets 429 with
/// `Retry-After` for any token until its budget refills (per replica).
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
        let address = "auth-failures:\(clientAddress.of(request, context))"
        if let wait = failures.retryAfter(address) { throw RateLimited(retryAfter: wait).problem }
        var context = context
        do {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw Problem.unauthorized }
            context.principal = try await authenticator.principal(for: String(parts[1]), logger: context.logger)
        } catch let problem as Problem where problem.status == 401 {
            failures.spend(address)
            throw problem
        }
        return try await next(request, context)
    }
}
