/// Where a request came in.
public enum Channel: String, Sendable, Codable, CaseIterable, Hashable { case web, email, chat, phone, api }
