import Foundation
import TierdeskModels

extension Ticket {
    /// Puts the ticket in the queue of `tier`, unassigned, with due times set if it had none.
    public mutating func requeue(tier: Tier, now: Date) {
        status = .queued
        self.tier = tier
        assigneeId = nil
        let target = SLATarget.standard(for: priority)
        if firstResponseDueAt == nil { firstResponseDueAt = now.addingTimeInterval(TimeInterval(target.firstResponseSeconds)) }
        if resolutionDueAt == nil { resolutionDueAt = now.addingTimeInterval(TimeInterval(target.resolutionSeconds)) }
    }
}
