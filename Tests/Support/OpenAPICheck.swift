import Hummingbird
import TierdeskKit

/// The (method, path) pairs an OpenAPI document declares and a router serves, to keep the two equal.
public enum OpenAPICheck {
    /// `GET /v1/tickets/{id}` lines read from the document's `paths:` section.
    public static func documented(_ yaml: String) -> Set<String> {
        var operations = Set<String>()
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line.hasPrefix("paths:") }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).prefix(while: { $0 != ":" })
                if ["get", "post", "put", "delete", "patch"].contains(String(key)) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    /// The same pairs from a router's routes (`{name}` parameters kept as written).
    public static func served(_ router: Router<AppRequestContext>) -> Set<String> {
        Set(
            router.routes.map { route in
                let path = route.path.description
                return "\(route.method.rawValue) \(path.hasPrefix("/") ? path : "/" + path)"
            })
    }
}
