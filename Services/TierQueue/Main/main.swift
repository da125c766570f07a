import TierQueueApp
import TierdeskKit

await ServiceMain.run(
    name: TierQueue.serviceName, summary: "Tierdesk tier-queue: the queues of levels 1-3 and the agents' work.",
    extraKeys: ["TIERDESK_TIERS\n      the levels this instance serves (default 1,2,3)"]
) { reader in
    try await buildApplication(reader: reader)
}
