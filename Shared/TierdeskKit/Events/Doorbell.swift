import Synchronization

/// Wakes waiting loops early: a commit that wrote outbox rows rings it, the poll interval is the
/// fallback. A ring wakes every loop waiting at that moment; a ring with nobody waiting is
/// remembered once, for the next loop to wait.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
        /// Waiters whose timer ended before their continuation was stored (a handful at most).
        var expired: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.rung = true
                return []
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns on a ring, after `timeout`, or on cancellation, whichever is first.
    public func wait(timeout: Duration) async {
        let id = state.withLock { state -> Int? in
            if state.rung {
                state.rung = false
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.rung || state.expired.remove(id) != nil {
                            state.rung = false
                            return true
                        }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.release(id)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Resumes waiter `id` if it is still waiting (its timer ended, or the wait was cancelled);
    /// if it has not stored itself yet, it will find itself expired and not wait at all.
    private func release(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.expired.insert(id)
            if state.expired.count > 64 { state.expired = state.expired.filter { $0 > state.nextID - 64 } }
            return nil
        }
        waiter?.resume()
    }
}
