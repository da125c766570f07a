import Foundation

/// First-response and resolution targets for one priority, in seconds.
public struct SLATarget: Sendable, Codable, Equatable {
    public var firstResponseSeconds: Int
    public var resolutionSeconds: Int

    public init(firstResponseSeconds: Int, resolutionSeconds: Int) {
        self.firstResponseSeconds = firstResponseSeconds
        self.resolutionSeconds = resolutionSeconds
    }

    /// Targets a fresh installation starts with, counted in wall-clock time.
    public static func standard(for priority: Priority) -> SLATarget {
        switch priority {
        case .p1: SLATarget(firstResponseSeconds: 15 * 60, resolutionSeconds: 4 * 3600)
        case .p2: SLATarget(firstResponseSeconds: 30 * 60, resolutionSeconds: 8 * 3600)
        case .p3: SLATarget(firstResponseSeconds: 2 * 3600, resolutionSeconds: 24 * 3600)
        case .p4: SLATarget(firstResponseSeconds: 8 * 3600, resolutionSeconds: 72 * 3600)
        case .p5: SLATarget(firstResponseSeconds: 24 * 3600, resolutionSeconds: 120 * 3600)
        }
    }
}
