import TierdeskKit
import TriageApp

await ServiceMain.run(
    name: Triage.serviceName, summary: "Tierdesk triage: classification, priority, routing and problems (Level 1).",
    extraKeys: [
        "TIERDESK_CLASSIFIER_THRESHOLD_PERCENT\n      the classifier's confidence needed to set a category (default 70)",
        "TIERDESK_RECURRING_COUNT, TIERDESK_RECURRING_DAYS\n      one requester's tickets of a category that open a problem, and within how many days (default 3, 30)",
        "TIERDESK_STORM_COUNT, TIERDESK_STORM_MINUTES\n      tickets of a category from anyone that make a storm, and within how many minutes (default 10, 60)",
    ]
) { reader in
    try await buildApplication(reader: reader)
}
