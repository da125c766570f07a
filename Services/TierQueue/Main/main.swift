import TierQueueApp
import TierdeskKit

await ServiceMain.run(
    name: TierQueue.serviceName, summary: "Tierdesk tier-queue: the queues of levels 1-3 and the agents' work.",
    extraKeys: [
        "TIERDESK_TIERS\n      the levels this instance serves (default 1,2,3)",
        "TIERDESK_SLA_CHECK_MS\n      how often the SLA watcher and push assignment run (default 1000)",
        "TIERDESK_LEVEL_COSTS\n      cost of a ticket per level for the report (default 0:2,1:25,2:60,3:120,4:300)",
        "TIERDESK_PUSH_ASSIGNMENT\n      levels that push tickets to agents, e.g. 1:least-loaded,2:round-robin (default none)",
    ]
) { reader in
    try await buildApplication(reader: reader)
}
