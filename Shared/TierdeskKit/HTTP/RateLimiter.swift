import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import TierdeskModels

/// Token buckets by key (a client address, a requester): `perMinute` requests a minute with bursts of
/// the same size. Per replica: with N replicas behind a gateway a client gets at most N times the rate.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public let perMinute: Int
    private let buckets = Mutex<[String: Bucket]>([:])
    private static let maxKeys = 100_000

    public init(perMinute: Int) { self.perMinute = perMinute }

    /// Takes one token for `key`, or throws 429 with the seconds until one is free. `perMinute`
    /// overrides the limiter's rate for keys that carry their own (an integration's).
    public func take(_ key: String, perMinute: Int? = nil, now: ContinuousClock.Instant = .now) throws(Problem) {
        if let wait = update(key, perMinute: perMinute, now: now, spend: true) { throw RateLimited(retryAfter: wait).problem }
    }

    /// The seconds until `key` has a token again, or nil when it has one now; takes nothing.
    public func retryAfter(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        update(key, now: now, spend: false)
    }

    /// Spends one token of `key` if it has one (a failure to count, not a request to refuse).
    public func spend(_ key: String, now: ContinuousClock.Instant = .now) {
        _ = update(key, now: now, spend: true)
    }

    /// Refills `key`'s bucket to `now` and, when `spend` and a token is there, takes it; answers
    /// the whole seconds to wait when no token was there.
    func update(_ key: String, perMinute: Int? = nil, now: ContinuousClock.Instant, spend: Bool) -> Int? {
        let capacity = Double(perMinute ?? self.perMinute)
        let rate = capacity / 60
        let wait = buckets.withLock { buckets -> Double? in
            if buckets.count > Self.maxKeys {
                buckets = buckets.filter { (now - $0.value.updated).seconds < 60 }
            }
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated).seconds * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            if spend { bucket.tokens -= 1 }
            return nil
        }
        return wait.map { max(1, Int($0.rounded(.up))) }
    }
}

/// A 429 with `Retry-After`.
public struct RateLimited: Error {
    public var retryAfter: Int
    public var problem: Problem {
        Problem(
            type: Problem.typeBase + "rate-limited", title: "Too many requests", status: 429,
            detail: "slow down; try again in \(retryAfter) s", errors: nil, retryAfter: retryAfter)
    }
}

/// Limits anonymous and requester callers by client address (an IPv6 client by its /64) on the
/// routes it wraps; agents, vendors and integrations are limited per principal
/// (`PrincipalRateLimitMiddleware`), the admin and other services not at all.
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let limiter: RateLimiter
    let clientAddress: ClientAddress

    public init(limiter: RateLimiter, clientAddress: ClientAddress) {
        self.limiter = limiter
        self.clientAddress = clientAddress
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch context.principal {
        case nil, .requester: try limiter.take("address:\(clientAddress.limitKey(request, context))")
        default: break
        }
        return try await next(request, context)
    }
}

/// Limits every authenticated agent, vendor and integration by its own id, on every route of the
/// service (per replica): an agent at `limits.agentPerMinute`, a vendor key at
/// `limits.vendorPerMinute`, an integration key at its own `ratePerMinute`. A stolen or runaway key
/// gets 429 with `Retry-After`, whatever address it comes from; the admin and other Tierdesk services
/// are not limited, anonymous and requester callers are limited by address (`RateLimitMiddleware`).
public struct PrincipalRateLimitMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let limiter: RateLimiter
    let limits: PrincipalRateLimits

    public init(limits: PrincipalRateLimits) {
        self.limits = limits
        limiter = RateLimiter(perMinute: limits.agentPerMinute)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch context.principal {
        case .agent(let agent): try limiter.take("agent:\(agent.id)", perMinute: limits.agentPerMinute)
        case .vendor(let id): try limiter.take("vendor:\(id)", perMinute: limits.vendorPerMinute)
        case .integration(let integration): try limiter.take("integration:\(integration.id)", perMinute: integration.ratePerMinute)
        default: break
        }
        return try await next(request, context)
    }
}
