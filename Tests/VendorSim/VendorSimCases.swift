import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TierdeskKit
import TierdeskModels

/// The simulated vendor's memory and manners. It keeps which webhooks it handled, which cases it
/// has and where each stands, and plays each case's script: acknowledge after a moment; on every
/// Nth new case ask a question and wait for the company's answer (a `vendor.message`); then work
/// and resolve. A reopened case is worked and resolved again; a closed case is forgotten.
actor SimulatedVendor {
    enum Stage {
        case acknowledging, waitingForAnswer, working, resolved
    }

    struct CaseState {
        var stage: Stage
        /// Raised whenever the case starts a new script (answer, reopening): older scripts stop.
        var round: Int
    }

    enum Receipt {
        case accepted, redelivery
    }

    let configuration: VendorSimConfiguration
    let api: VendorAPIClient
    let scripts: AsyncStream<CaseScript>.Continuation
    private var cases: [UUID: CaseState] = [:]
    private var casesSeen = 0
    private var handled = RecentIDs(capacity: 10_000)

    init(configuration: VendorSimConfiguration, api: VendorAPIClient, scripts: AsyncStream<CaseScript>.Continuation) {
        self.configuration = configuration
        self.api = api
        self.scripts = scripts
    }

    /// Takes one verified webhook; what it starts runs in the background. A webhook-id handled
    /// before is a redelivery: acknowledged, not acted on again.
    func receive(_ webhook: SimulatedWebhook, deliveryID: String, logger: Logger) -> Receipt {
        guard handled.insert(deliveryID) else { return .redelivery }
        guard let kind = webhook.kind, let vendorCase = webhook.data?.case else {
            logger.notice("webhook of a type this vendor does not know: nothing to do")
            return .accepted
        }
        switch kind {
        case .caseOpened: opened(vendorCase, logger: logger)
        case .message: message(on: vendorCase, reopened: webhook.data?.reopened == true, logger: logger)
        case .caseClosed:
            cases[vendorCase.id] = nil
            logger.info("case closed: forgotten")
        case .caseOverdue: logger.notice("case overdue: the company reminds us")
        }
        return .accepted
    }

    private func opened(_ vendorCase: VendorCase, logger: Logger) {
        guard cases[vendorCase.id] == nil else {
            logger.info("case already known: nothing to do")
            return
        }
        casesSeen += 1
        let asks = configuration.askEvery > 0 && casesSeen % configuration.askEvery == 0
        cases[vendorCase.id] = CaseState(stage: .acknowledging, round: 0)
        let (reference, settings) = (vendorCase.ticketReference, configuration)
        play(vendorCase, round: 0, logger: logger) { step in
            try await step.wait(settings.acknowledgeAfter)
            try await step.post(.acknowledged, "Acme Network Services here: we have \(reference) and are looking into it.")
            if asks {
                // Waiting from before the question leaves, so an answer that comes back quickly is not missed.
                await step.vendor.advance(step.caseID, round: step.round, to: .waitingForAnswer)
                try await step.post(
                    .needsInfo, "Before we send an engineer for \(reference): which site is affected, since when, and what is the circuit ID?")
                return
            }
            await step.vendor.advance(step.caseID, round: step.round, to: .working)
            try await step.wait(settings.resolveAfter)
            try await step.post(.inProgress, "An engineer is working on \(reference).")
            try await step.post(.resolved, "Fixed on our side: a faulty line card was replaced. \(reference) should work again.")
            await step.vendor.advance(step.caseID, round: step.round, to: .resolved)
        }
    }

    /// The company's message: the answer this vendor waits for, a reopening, or a comment (noted).
    private func message(on vendorCase: VendorCase, reopened: Bool, logger: Logger) {
        let state = cases[vendorCase.id]
        // A case this vendor does not know (it was restarted) is answered when it waits for the vendor's question.
        let answer = state.map { $0.stage == .waitingForAnswer } ?? (vendorCase.status == .needsInfo)
        guard answer || reopened else {
            logger.info("company's message noted")
            return
        }
        let round = (state?.round ?? 0) + 1
        cases[vendorCase.id] = CaseState(stage: .working, round: round)
        let (reference, settings) = (vendorCase.ticketReference, configuration)
        play(vendorCase, round: round, logger: logger) { step in
            try await step.post(
                .inProgress, reopened ? "Reopened: we are looking at \(reference) again." : "Thank you, that helps: an engineer is working on \(reference).")
            try await step.wait(settings.resolveAfter)
            try await step.post(.resolved, "Fixed on our side: the site's router was reconfigured. \(reference) should work again.")
            await step.vendor.advance(step.caseID, round: step.round, to: .resolved)
        }
    }

    private func play(_ vendorCase: VendorCase, round: Int, logger: Logger, _ body: @escaping @Sendable (CaseScript) async throws -> Void) {
        scripts.yield(CaseScript(caseID: vendorCase.id, round: round, vendor: self, api: api, logger: logger, body: body))
    }

    /// Whether a script of `round` still speaks for the case (it was not closed or restarted since).
    func isCurrent(_ caseID: UUID, round: Int) -> Bool { cases[caseID]?.round == round }

    func advance(_ caseID: UUID, round: Int, to stage: Stage) {
        guard cases[caseID]?.round == round else { return }
        cases[caseID]?.stage = stage
    }
}

/// One run of a case's behaviour: waits and updates, stopping quietly once the case moved on, the
/// update was refused, or the simulator shuts down.
struct CaseScript: Sendable {
    /// The script ends here: the case was closed or restarted, or vendor-bridge refused an update.
    struct Stopped: Error {}

    let caseID: UUID
    let round: Int
    let vendor: SimulatedVendor
    let api: VendorAPIClient
    let logger: Logger
    let body: @Sendable (CaseScript) async throws -> Void

    func run() async {
        try? await body(self)
    }

    func wait(_ duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }

    /// Posts one update under its own Idempotency-Key (kept across the retries of this update).
    func post(_ status: VendorCaseStatus, _ message: String) async throws {
        guard await vendor.isCurrent(caseID, round: round) else { throw Stopped() }
        let key = "vendor-sim-" + UUID().uuidString.lowercased()
        guard try await api.postUpdate(VendorUpdateRequest(status: status, message: message), caseID: caseID, idempotencyKey: key, logger: logger) else {
            throw Stopped()
        }
    }
}

/// Runs the case scripts, each in its own task; graceful shutdown cancels those still waiting.
struct ScriptRunner: Service {
    let scripts: AsyncStream<CaseScript>

    func run() async {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await script in scripts {
                    group.addTask { await script.run() }
                }
            }
        }
    }
}

/// vendor-bridge's vendor API as the simulated vendor calls it. Connection errors, 5xx and 429 are
/// retried with backoff under the same Idempotency-Key (vendor-bridge records the update once);
/// any other 4xx is final.
struct VendorAPIClient: Sendable {
    let baseURL: String
    let apiKey: String
    let http: HTTPClient

    /// Waits between attempts: 0.25 s doubling to 8 s, ten attempts over about 40 s (long enough
    /// for vendor-bridge to restart in the demo).
    static let backoff: [Duration] = [
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8), .seconds(8),
    ]

    /// Posts `update` on the case; true once vendor-bridge took it, false when it refused or could
    /// not be reached in time (both logged). Throws only when cancelled.
    func postUpdate(_ update: VendorUpdateRequest, caseID: UUID, idempotencyKey: String, logger: Logger) async throws -> Bool {
        var logger = logger
        logger[metadataKey: "update.status"] = "\(update.status.rawValue)"
        logger[metadataKey: "idempotency.key"] = "\(idempotencyKey)"
        var request = HTTPClientRequest(url: "\(baseURL)/v1/vendor/cases/\(caseID.uuidString.lowercased())/updates")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(try JSONCoding.encode(update))
        for attempt in 0...Self.backoff.count {
            var wait = Self.backoff[min(attempt, Self.backoff.count - 1)]
            do {
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    logger.info("update posted")
                    return true
                }
                guard status == 429 || status >= 500 else {
                    logger.error("update refused: giving up", metadata: ["http.status": "\(status)", "body": "\(body.prefix(500))"])
                    return false
                }
                if let seconds = response.headers.first(name: "Retry-After").flatMap(Int.init), (0...60).contains(seconds) { wait = .seconds(seconds) }
                logger.warning("update not taken: retrying", metadata: ["http.status": "\(status)", "attempt": "\(attempt + 1)"])
            } catch {
                if Task.isCancelled { throw CancellationError() }
                logger.warning("vendor-bridge unreachable: retrying", metadata: ["error": "\(error)", "attempt": "\(attempt + 1)"])
            }
            if attempt < Self.backoff.count { try await Task.sleep(for: wait) }
        }
        logger.error("update not taken after \(Self.backoff.count + 1) attempts: giving up")
        return false
    }
}

/// The newest `capacity` webhook ids handled, oldest forgotten first.
struct RecentIDs {
    let capacity: Int
    private var ids: Set<String> = []
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int) { self.capacity = capacity }

    /// False when `id` is already among them.
    mutating func insert(_ id: String) -> Bool {
        guard ids.insert(id).inserted else { return false }
        if order.count < capacity {
            order.append(id)
        } else {
            ids.remove(order[oldest])
            order[oldest] = id
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}
