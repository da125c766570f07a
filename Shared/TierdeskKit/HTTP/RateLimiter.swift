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

    /// Takes one token for `key`, or throws 429 with the seconds until one is free.
    public func take(_ key: String, now: ContinuousClock.Instant = .now) throws(Problem) {
        let capacity = Double(perMinute)
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
            bucket.tokens -= 1
            return nil
        }
        if let wait { throw RateLimited(retryAfter: max(1, Int(wait.rounded(.up)))).problem }
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

/// Limits anonymous and requester callers by client address on the routes it wraps; agents, vendors,
/// the admin and other services are not limited here.
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let limiter: RateLimiter
    /// Behind a gateway, the client is the last address it appended to `X-Forwarded-For`.
    let trustForwardedFor: Bool

    public init(limiter: RateLimiter, trustForwardedFor: Bool) {
        self.limiter = limiter
        self.trustForwardedFor = trustForwardedFor
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch context.principal {
        case nil, .requester: try limiter.take("address:\(clientAddress(request, context))")
        default: break
        }
        return try await next(request, context)
    }

    func clientAddress(_ request: Request, _ context: Context) -> String {
        if trustForwardedFor, let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }
}
