/// A page of a list: `{"items": [...], "nextCursor": ...}`; `nextCursor` is null on the last page.
public struct Page<Item: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// The page of a keyset query that fetched `limit + 1` rows: the first `limit`, and, when there
    /// was one more, the cursor of the last one shown.
    public init(fetched rows: [Item], limit: Int, cursor: (Item) -> String) {
        items = Array(rows.prefix(limit))
        nextCursor = rows.count > limit ? items.last.map(cursor) : nil
    }

    /// Default and largest page sizes.
    public static var defaultLimit: Int { 50 }
    public static var maxLimit: Int { 200 }

    private enum CodingKeys: String, CodingKey { case items, nextCursor }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null on the last page
    }
}
