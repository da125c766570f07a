import Metrics
import Prometheus
import Synchronization

/// The process's Prometheus registry; `bootstrap()` installs it as the metrics backend once, however
/// many applications a process builds (tests build many).
public enum TierdeskMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    public static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
            ]
            factory.nameAndLabelSanitizer = { name, labels in (TierdeskMetrics.httpNames[name] ?? name, labels) }
            MetricsSystem.bootstrap(factory)
            done = true
        }
    }

    /// Hummingbird's `MetricsMiddleware` records per route under its own labels; they are exported
    /// under Prometheus names (counters end in `_total`, durations in `_seconds`).
    static let httpNames = [
        "hb.requests": "http_server_requests_total",
        "hb.request.errors": "http_server_request_errors_total",
        "http.server.request.duration": "http_server_request_duration_seconds",
        "http.server.active_requests": "http_server_active_requests",
    ]

    /// Sets a gauge (services without their own swift-metrics import report figures through this).
    public static func gauge(_ label: String, _ dimensions: [(String, String)] = [], _ value: Double) {
        Gauge(label: label, dimensions: dimensions).record(value)
    }

    /// The registry in Prometheus text format.
    public static func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
