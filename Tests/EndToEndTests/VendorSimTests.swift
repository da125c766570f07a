import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import TierdeskKit
import TierdeskModels
import TierdeskTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `tierdesk-vendor-sim`, the real process, between signed webhooks sent by the test and a stand-in
/// for vendor-bridge's vendor API that records every update the simulator posts.
@Suite struct VendorSimTests {
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let apiKey = "tdv_" + String(repeating: "k", count: 43)

    /// One update the simulator posted to the stand-in bridge, in the order they arrived.
    struct Call: Sendable {
        var caseID: UUID
        var authorization: String?
        var idempotencyKey: String?
        var update: VendorUpdateRequest
        var at: ContinuousClock.Instant
    }

    /// vendor-bridge's `POST /v1/vendor/cases/{id}/updates`, recording each call; `answers` gives
    /// the HTTP statuses to answer for a status's next calls (200 once they are used up).
    final class Bridge: Sendable {
        let calls = Mutex<[Call]>([])
        let answers: Mutex<[VendorCaseStatus: [Int]]>

        init(answers: [VendorCaseStatus: [Int]] = [:]) { self.answers = Mutex(answers) }

        func calls(for caseID: UUID) -> [Call] { calls.withLock { $0.filter { $0.caseID == caseID } } }
        func statuses(for caseID: UUID) -> [VendorCaseStatus] { calls(for: caseID).map(\.update.status) }

        func router() -> Router<BasicRequestContext> {
            let router = Router(context: BasicRequestContext.self)
            router.post("v1/vendor/cases/{id}/updates") { request, context -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let update = try JSONCoding.decoder.decode(VendorUpdateRequest.self, from: Data(buffer: body))
                let call = Call(
                    caseID: try context.parameters.require("id", as: UUID.self), authorization: request.headers[.authorization],
                    idempotencyKey: request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value, update: update, at: .now)
                self.calls.withLock { $0.append(call) }
                let status = self.answers.withLock { answers in answers[update.status]?.isEmpty == false ? answers[update.status]!.removeFirst() : 200 }
                return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
            }
            return router
        }
    }

    /// The simulator process, started against `bridgePort` on a port of its choosing.
    final class Simulator: @unchecked Sendable {
        let process = Process()
        let log: URL
        private(set) var url = ""

        init(bridgePort: Int, arguments: [String]) throws {
            log = FileManager.default.temporaryDirectory.appendingPathComponent("tierdesk-vendor-sim-\(UUID()).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = URL(fileURLWithPath: try Cluster.binPath()).appendingPathComponent("tierdesk-vendor-sim")
            process.arguments = ["--port", "0", "--ack-after-ms", "20", "--resolve-after-ms", "50"] + arguments
            process.environment = [
                "TIERDESK_VENDOR_SIM_SECRET": VendorSimTests.secret, "TIERDESK_VENDOR_SIM_KEY": VendorSimTests.apiKey,
                "TIERDESK_VENDOR_BRIDGE_URL": "http://127.0.0.1:\(bridgePort)", "TIERDESK_LOG_LEVEL": "info",
            ]
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// Waits for the one line the simulator prints when it serves.
        func waitListening() async throws {
            url = try await HTTP.eventually(timeout: .seconds(30)) {
                output.firstMatch(of: /vendor-sim listening on (http:\/\/127\.0\.0\.1:\d+)\n/).map { String($0.1) }
            }
        }

        /// SIGTERM, and the exit status.
        func stop() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Runs `body` with a recording bridge (answering as `answers` says) and a simulator started with `arguments`.
    func withSimulator(
        _ arguments: [String] = [], answers: [VendorCaseStatus: [Int]] = [:], _ body: @Sendable (Simulator, Bridge) async throws -> Void
    ) async throws {
        let bridge = Bridge(answers: answers)
        let app = Application(router: bridge.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let simulator = try Simulator(bridgePort: try #require(client.port), arguments: arguments)
            do {
                try await simulator.waitListening()
                try await body(simulator, bridge)
            } catch {
                print("--- vendor-sim log\n\(simulator.output.suffix(4000))")
                _ = simulator.stop()
                throw error
            }
            #expect(simulator.stop() == 0, "vendor-sim exits cleanly on SIGTERM")
            try? FileManager.default.removeItem(at: simulator.log)
        }
    }

    /// The body vendor-bridge sends: `{type, timestamp, data: {case, message?}}`.
    struct Webhook: Encodable {
        struct Payload: Encodable {
            var `case`: VendorCase
            var message: String?
        }
        var type: String
        var timestamp: Date
        var data: Payload
    }

    static func vendorCase(status: VendorCaseStatus = .open) -> VendorCase {
        let id = UUID()
        return VendorCase(
            id: id, ticketId: UUID(), ticketReference: "TD-\(Int.random(in: 1000...9999))", vendorId: UUID(), status: status,
            subject: "Branch offline", description: "The Hamburg branch is offline since 09:00.", priority: .p2, reason: "leased line down",
            openedAt: Date(), dueAt: nil, updates: [])
    }

    /// A webhook as vendor-bridge signs it; `signedWith`, `signedAt`, `change` and `headers` spoil it on purpose.
    @discardableResult
    func deliver(
        _ simulator: Simulator, _ type: String, _ vendorCase: VendorCase, message: String? = nil, id: String = "msg_\(UUID().uuidString)",
        signedWith secret: String = VendorSimTests.secret, signedAt: Date = Date(), change: (String) -> String = { $0 },
        headers: (inout [(String, String)]) -> Void = { _ in }, path: String = "/webhooks"
    ) async throws -> (Int, ByteBuffer) {
        let body = try JSONCoding.string(Webhook(type: type, timestamp: signedAt, data: .init(case: vendorCase, message: message)))
        let timestamp = Int64(signedAt.timeIntervalSince1970)
        let signature = try WebhookSignature.sign(id: id, timestamp: timestamp, body: Data(body.utf8), secret: secret)
        var fields = [("webhook-id", id), ("webhook-timestamp", "\(timestamp)"), ("webhook-signature", signature)]
        headers(&fields)
        return try await HTTP.request(.POST, simulator.url + path, raw: change(body), headers: fields)
    }

    func eventually(_ bridge: Bridge, _ caseID: UUID, reach statuses: [VendorCaseStatus]) async throws {
        _ = try await HTTP.eventually(timeout: .seconds(30)) { bridge.statuses(for: caseID).count >= statuses.count ? true : nil }
        #expect(bridge.statuses(for: caseID) == statuses)
    }

    @Test func aSignedNewCaseIsAcknowledgedWorkedAndResolvedThroughTheVendorAPI() async throws {
        try await withSimulator { simulator, bridge in
            let (health, _) = try await HTTP.request(.GET, simulator.url + "/health")
            #expect(health == 200)
            let opened = Self.vendorCase()
            let (status, _) = try await deliver(simulator, "vendor.case_opened", opened)
            #expect(status == 204)

            try await eventually(bridge, opened.id, reach: [.acknowledged, .inProgress, .resolved])
            let calls = bridge.calls(for: opened.id)
            #expect(calls.allSatisfy { $0.authorization == "Bearer \(Self.apiKey)" })
            let keys = calls.compactMap(\.idempotencyKey)
            #expect(keys.count == 3 && Set(keys).count == 3, "one Idempotency-Key per update: \(keys)")
            #expect(calls.allSatisfy { !$0.update.message.isEmpty })
            #expect(simulator.output.contains("webhook accepted"))
        }
    }

    @Test func unsignedExpiredOrChangedWebhooksAre401AndDoNothing() async throws {
        try await withSimulator { simulator, bridge in
            let refused = Self.vendorCase()
            let otherSecret = "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()
            let spoiled: [(String, (Int, ByteBuffer))] = [
                ("wrong secret", try await deliver(simulator, "vendor.case_opened", refused, signedWith: otherSecret)),
                ("10 minutes old", try await deliver(simulator, "vendor.case_opened", refused, signedAt: Date().addingTimeInterval(-600))),
                ("10 minutes ahead", try await deliver(simulator, "vendor.case_opened", refused, signedAt: Date().addingTimeInterval(600))),
                (
                    "body changed after signing",
                    try await deliver(simulator, "vendor.case_opened", refused, change: { $0.replacingOccurrences(of: "Hamburg", with: "Hambürg") })
                ),
                ("no headers", try await deliver(simulator, "vendor.case_opened", refused, headers: { $0 = [] })),
                ("no signature", try await deliver(simulator, "vendor.case_opened", refused, headers: { $0.removeLast() })),
                ("no id", try await deliver(simulator, "vendor.case_opened", refused, headers: { $0.removeFirst() })),
                (
                    "signature of another id",
                    try await deliver(simulator, "vendor.case_opened", refused, headers: { $0[0] = ("webhook-id", "msg_other") })
                ),
                ("wrong secret, deeper path", try await deliver(simulator, "vendor.case_opened", refused, signedWith: otherSecret, path: "/webhooks/acme")),
            ]
            for (what, (status, body)) in spoiled {
                #expect(status == 401, "\(what)")
                let problem = try? JSONCoding.decoder.decode(Problem.self, from: Data(buffer: body))
                #expect(problem?.status == 401 && problem?.type.hasSuffix("invalid-webhook-signature") == true, "\(what): \(String(buffer: body))")
            }

            // A valid webhook that arrives after them is handled; by then none of them did anything.
            let accepted = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", accepted, path: "/webhooks/acme").0 == 204)
            try await eventually(bridge, accepted.id, reach: [.acknowledged, .inProgress, .resolved])
            #expect(bridge.calls(for: refused.id).isEmpty)
            #expect(bridge.calls.withLock { $0.count } == 3)
            #expect(simulator.output.components(separatedBy: "webhook rejected").count - 1 == spoiled.count)
        }
    }

    @Test func aRedeliveryIsAcknowledgedButActedOnOnce() async throws {
        try await withSimulator(["--ask-every", "0"]) { simulator, bridge in
            let once = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", once, id: "msg_once").0 == 204)
            // vendor-bridge's retry: the same webhook-id, signed again at its own time.
            #expect(try await deliver(simulator, "vendor.case_opened", once, id: "msg_once", signedAt: Date().addingTimeInterval(1)).0 == 204)
            // The same case under another id (a second delivery of the same event) is not a new case either.
            #expect(try await deliver(simulator, "vendor.case_opened", once, id: "msg_again").0 == 204)

            let later = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", later).0 == 204)
            try await eventually(bridge, later.id, reach: [.acknowledged, .inProgress, .resolved])
            try await eventually(bridge, once.id, reach: [.acknowledged, .inProgress, .resolved])
            #expect(simulator.output.contains("a redelivery, already handled"))
        }
    }

    @Test func everySecondCaseAsksAndIsWorkedOnlyAfterTheAnswer() async throws {
        try await withSimulator(["--ask-every", "2"]) { simulator, bridge in
            let first = Self.vendorCase()
            let second = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", first).0 == 204)
            try await eventually(bridge, first.id, reach: [.acknowledged, .inProgress, .resolved])
            #expect(try await deliver(simulator, "vendor.case_opened", second).0 == 204)
            try await eventually(bridge, second.id, reach: [.acknowledged, .needsInfo])

            // Neither a comment on the resolved case, a reminder, nor an event type it does not know moves anything.
            #expect(try await deliver(simulator, "vendor.message", first, message: "Thanks!").0 == 204)
            #expect(try await deliver(simulator, "vendor.case_overdue", second).0 == 204)
            #expect(try await deliver(simulator, "vendor.case_escalated", second).0 == 204)
            let answered = ContinuousClock.now
            var waiting = second
            waiting.status = .needsInfo
            #expect(try await deliver(simulator, "vendor.message", waiting, message: "Hamburg, since 09:00, circuit HH-4711").0 == 204)

            try await eventually(bridge, second.id, reach: [.acknowledged, .needsInfo, .inProgress, .resolved])
            #expect(bridge.calls(for: second.id).dropFirst(2).allSatisfy { $0.at > answered }, "the work starts with the answer")
            #expect(bridge.statuses(for: first.id) == [.acknowledged, .inProgress, .resolved])
        }
    }

    @Test func aClosedCaseIsForgotten() async throws {
        try await withSimulator(["--ask-every", "1"]) { simulator, bridge in
            let closed = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", closed).0 == 204)
            try await eventually(bridge, closed.id, reach: [.acknowledged, .needsInfo])
            var gone = closed
            gone.status = .closed
            #expect(try await deliver(simulator, "vendor.case_closed", gone).0 == 204)
            #expect(try await deliver(simulator, "vendor.message", gone, message: "Hamburg, since 09:00").0 == 204)

            let next = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", next).0 == 204)
            try await eventually(bridge, next.id, reach: [.acknowledged, .needsInfo])
            var waiting = next
            waiting.status = .needsInfo
            #expect(try await deliver(simulator, "vendor.message", waiting, message: "Berlin, since noon").0 == 204)
            try await eventually(bridge, next.id, reach: [.acknowledged, .needsInfo, .inProgress, .resolved])
            #expect(bridge.statuses(for: closed.id) == [.acknowledged, .needsInfo])
        }
    }

    /// SIGTERM does not wait for a case's work: the waiting script is cancelled and the process exits 0.
    @Test func stopsGracefullyWhileACaseIsBeingWorked() async throws {
        try await withSimulator(["--resolve-after-ms", "3600000", "--ask-every", "0"]) { simulator, bridge in
            let working = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", working).0 == 204)
            try await eventually(bridge, working.id, reach: [.acknowledged])
        }
    }

    @Test func retriesServerErrorsUnderOneKeyAndGivesUpOnARefusal() async throws {
        try await withSimulator(["--ask-every", "1"], answers: [.acknowledged: [503, 429], .needsInfo: [409]]) { simulator, bridge in
            let refused = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", refused).0 == 204)
            try await eventually(bridge, refused.id, reach: [.acknowledged, .acknowledged, .acknowledged, .needsInfo])
            let keys = bridge.calls(for: refused.id).map(\.idempotencyKey)
            #expect(keys[0] != nil && keys[0] == keys[1] && keys[1] == keys[2], "one update, one key: \(keys)")
            #expect(keys[3] != keys[0])

            let later = Self.vendorCase()
            #expect(try await deliver(simulator, "vendor.case_opened", later).0 == 204)
            try await eventually(bridge, later.id, reach: [.acknowledged, .needsInfo])
            #expect(bridge.statuses(for: refused.id) == [.acknowledged, .acknowledged, .acknowledged, .needsInfo], "a 409 is not retried")
            #expect(simulator.output.contains("update refused: giving up"))
        }
    }
}
