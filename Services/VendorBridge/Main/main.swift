import TierdeskKit
import VendorBridgeApp

await ServiceMain.run(name: VendorBridge.serviceName, summary: "Tierdesk vendor-bridge: Level 4 cases with external vendors.") { reader in
    try await buildApplication(reader: reader)
}
