import Foundation
import Logging
import PostgresNIO
import TierdeskKit
import TierdeskModels

/// The only writer of `kb_articles`, `kb_lexicon` and `kb_votes`. Search is PostgreSQL full text
/// (title weighted over tags over body, ranked with `ts_rank_cd`) with misspelled terms corrected
/// against the articles' own words by trigram similarity, plus title similarity, scaled by votes.
public struct KnowledgeBaseStore: Sendable {
    public init() {}

    static let columns = """
        id, slug, title, body, tags, category, source_ticket_id, author_level, author_agent_id, status, helpful_count, not_helpful_count,
        created_at, updated_at
        """

    /// Publishes a new article and returns its id; 409 when its slug is taken (an article is never
    /// overwritten by another's slug). `sourceTicketID` is the ticket it came from: one article per
    /// source ticket, so publishing from it again (after a reopen) updates that one. `replacingSlug`
    /// (the demo loader only, which owns its slugs) updates the article with the same slug instead.
    /// A `draft` (levels 1-2 writing from a resolution) waits for level 3 (`publishDraft`) and never
    /// replaces a published article: then nothing changes and the answer is nil.
    @discardableResult
    public func publish(
        _ input: CreateArticleRequest, sourceTicketID: UUID? = nil, authorLevel: Tier? = nil, authorAgentID: UUID? = nil, replacingSlug: Bool = false,
        draft: Bool = false, on executor: some DatabaseExecutor, now: Date, logger: Logger
    ) async throws -> UUID? {
        let tags = input.tags ?? []
        let tagText = tags.joined(separator: " ")
        let arbiter = sourceTicketID != nil ? "(source_ticket_id) WHERE source_ticket_id IS NOT NULL" : replacingSlug ? "(slug)" : nil
        let upsert =
            arbiter.map { arbiter in
                """
                ON CONFLICT \(arbiter) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body,
                    tags = EXCLUDED.tags, category = EXCLUDED.category, search_vector = EXCLUDED.search_vector, author_agent_id = EXCLUDED.author_agent_id,
                    status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
                WHERE kb_articles.status <> 'published' OR EXCLUDED.status = 'published'
                """
            } ?? ""
        let id: UUID?
        do {
            id = try await executor.first(
                """
                INSERT INTO kb_articles (id, slug, title, body, tags, category, source_ticket_id, author_level, author_agent_id, search_vector, created_at,
                                         updated_at, status)
                VALUES (\(UUID()), \(input.slug), \(input.title), \(input.body), \(tags), \(input.category), \(sourceTicketID),
                        \(authorLevel.map { Int16($0.rawValue) }), \(authorAgentID),
                        setweight(to_tsvector('english', \(input.title)), 'A') || setweight(to_tsvector('english', \(tagText)), 'B')
                          || setweight(to_tsvector('english', \(input.body)), 'C'),
                        \(now), \(now), \(draft ? "draft" : "published"))
                \(unescaped: upsert)
                RETURNING id
                """, logger: logger
            ) { try $0.get("id", as: UUID.self) }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw IntakeError.duplicateSlug(input.slug ?? "")
        }
        guard let id else {
            if draft { return nil }
            throw IntakeError.concurrentChange("the article could not be stored; retry")
        }
        if !draft { try await learnWords(of: input, on: executor, logger: logger) }
        return id
    }

    /// Drafts waiting for level 3, oldest first, a page at a time (keyset on creation time and id).
    public func drafts(limit: Int, after cursor: (Date, UUID)?, on executor: some DatabaseExecutor, logger: Logger) async throws -> Page<Article> {
        let rows = try await executor.all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns) FROM kb_articles
                    WHERE status = 'draft' AND ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2)) ORDER BY created_at, id LIMIT $3
                    """, binds: try PostgresBindings(cursor?.0, cursor?.1, limit + 1)), logger: logger, Article.init(row:))
        return Page(fetched: rows, limit: limit) { Cursor.encode(at: $0.createdAt, id: $0.id) }
    }

    /// Level 3 publishes a draft as it stands; false when there is no draft with that id.
    public func publishDraft(_ id: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        guard
            let article = try await executor.first(
                "UPDATE kb_articles SET status = 'published', updated_at = \(now) WHERE id = \(id) AND status = 'draft' RETURNING \(unescaped: Self.columns)",
                logger: logger, Article.init(row:))
        else { return false }
        try await learnWords(of: CreateArticleRequest(title: article.title, body: article.body, tags: article.tags), on: executor, logger: logger)
        return true
    }

    /// Replaces a published article's text; false when there is none with that id; 409 when the new slug is another's.
    public func update(_ id: UUID, with input: CreateArticleRequest, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        let updated: UUID?
        do {
            updated = try await executor.first(
                """
                UPDATE kb_articles SET slug = COALESCE(\(input.slug), slug), title = \(input.title), body = \(input.body), tags = \(input.tags ?? []),
                    category = \(input.category), updated_at = \(now),
                    search_vector = setweight(to_tsvector('english', \(input.title)), 'A')
                        || setweight(to_tsvector('english', \((input.tags ?? []).joined(separator: " "))), 'B') || setweight(to_tsvector('english', \(input.body)), 'C')
                WHERE id = \(id) AND status = 'published' RETURNING id
                """, logger: logger
            ) { try $0.get("id", as: UUID.self) }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw IntakeError.duplicateSlug(input.slug ?? "")
        }
        guard updated != nil else { return false }
        try await learnWords(of: input, on: executor, logger: logger)
        return true
    }

    /// Adds an article's words to the lexicon that corrects misspelled search terms.
    func learnWords(of input: CreateArticleRequest, on executor: some DatabaseExecutor, logger: Logger) async throws {
        try await executor.execute(
            """
            INSERT INTO kb_lexicon (word)
            SELECT DISTINCT lower(word) FROM regexp_split_to_table(\(input.title + " " + (input.tags ?? []).joined(separator: " ") + " " + input.body), '[^[:alnum:]]+') AS word
            WHERE length(word) BETWEEN 2 AND 40
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    /// Takes an article out of search and suggestions; false when there is no published article with that id.
    public func retire(_ id: UUID, on executor: some DatabaseExecutor, now: Date, logger: Logger) async throws -> Bool {
        try await executor.first(
            "UPDATE kb_articles SET status = 'retired', updated_at = \(now) WHERE id = \(id) AND status = 'published' RETURNING id", logger: logger
        ) { try $0.get("id", as: UUID.self) } != nil
    }

    /// An article's versions (`kb_article_versions`, kept by the database), newest first, a page at a
    /// time before version `cursor`.
    public func versions(of id: UUID, limit: Int, before cursor: Int?, on executor: some DatabaseExecutor, logger: Logger) async throws
        -> Page<ArticleVersion>
    {
        let rows = try await executor.all(
            """
            SELECT article_id, version, at, slug, title, body, tags, category, status FROM kb_article_versions
            WHERE article_id = \(id) AND (\(cursor.map(Int32.init))::integer IS NULL OR version < \(cursor.map(Int32.init)))
            ORDER BY version DESC LIMIT \(limit + 1)
            """, logger: logger
        ) { row in
            ArticleVersion(
                articleId: try row.get("article_id"), version: Int(try row.get("version", as: Int32.self)), at: try row.get("at"), slug: try row.get("slug"),
                title: try row.get("title"), body: try row.get("body"), tags: try row.get("tags"), category: try row.get("category"),
                status: try row.get("status"))
        }
        return Page(fetched: rows, limit: limit) { "\($0.version)" }
    }

    /// Writes version `version`'s text back as the published article's current text (the trigger
    /// keeps it as the newest version); a retired article is published again. False when there is
    /// no such article (drafts are published, not restored) or version; 409 when its slug is now another article's.
    public func restore(_ id: UUID, version: Int, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> Bool {
        let restored: CreateArticleRequest?
        do {
            restored = try await connection.first(
                """
                UPDATE kb_articles a SET slug = v.slug, title = v.title, body = v.body, tags = v.tags, category = v.category, status = 'published',
                    updated_at = \(now),
                    search_vector = setweight(to_tsvector('english', v.title), 'A') || setweight(to_tsvector('english', array_to_string(v.tags, ' ')), 'B')
                        || setweight(to_tsvector('english', v.body), 'C')
                FROM kb_article_versions v
                WHERE a.id = \(id) AND a.status <> 'draft' AND v.article_id = a.id AND v.version = \(Int32(version))
                RETURNING a.title, a.body, a.tags
                """, logger: logger
            ) { CreateArticleRequest(title: try $0.get("title"), body: try $0.get("body"), tags: try $0.get("tags")) }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw IntakeError.concurrentChange("the version's slug is now another article's; change that one first")
        }
        guard let restored else { return false }
        try await learnWords(of: restored, on: connection, logger: logger)
        return true
    }

    /// A published article, or nil.
    public func find(_ id: UUID, on executor: some DatabaseExecutor, logger: Logger) async throws -> Article? {
        try await executor.first(
            "SELECT \(unescaped: Self.columns) FROM kb_articles WHERE id = \(id) AND status = 'published'", logger: logger, Article.init(row:))
    }

    /// The words of a query worth searching for: lowercase letters and digits, at most `limit` distinct.
    public static func terms(_ text: String, limit: Int = 48) -> [String] {
        var seen = Set<String>()
        var terms: [String] = []
        for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) where (2...40).contains(word.count) {
            let term = String(word)
            if seen.insert(term).inserted { terms.append(term) }
            if terms.count == limit { break }
        }
        return terms
    }

    /// Terms replaced by the closest word the articles use when they use no such word (typos).
    func corrected(_ terms: [String], on executor: some DatabaseExecutor, logger: Logger) async throws -> [String] {
        guard !terms.isEmpty else { return [] }
        return try await executor.all(
            """
            SELECT COALESCE(
                (SELECT word FROM kb_lexicon WHERE word = t.term),
                (SELECT word FROM kb_lexicon WHERE length(t.term) >= 3 AND word % t.term ORDER BY similarity(word, t.term) DESC, word LIMIT 1),
                t.term) AS corrected
            FROM unnest(\(terms)::text[]) WITH ORDINALITY AS t(term, n) ORDER BY t.n
            """, logger: logger
        ) { try $0.get("corrected", as: String.self) }
    }

    /// Published articles ranked for `text`, with the words of `subject` (the draft's subject, or the
    /// query itself) counted a second time and its similarity to titles a little, scaled by votes.
    /// Weights chosen on the suggestion evaluation set (see the README's knowledge-base section).
    /// Snippets are HTML-escaped with matches in `<mark>`.
    public func search(_ text: String, subject: String, limit: Int, on executor: some DatabaseExecutor, logger: Logger) async throws -> [ArticleSummary] {
        let terms = Self.terms(text)
        let fixed = try await corrected(terms, on: executor, logger: logger)
        let subjectTerms = Set(Self.terms(subject))
        let subjectFixed = zip(terms, fixed).filter { subjectTerms.contains($0.0) }.map(\.1)
        let query = Array(Set(terms + fixed)).sorted().joined(separator: " | ")
        let subjectQuery = Array(subjectTerms.union(subjectFixed)).sorted().joined(separator: " | ")
        return try await executor.all(
            """
            WITH q AS (SELECT to_tsquery('english', \(query)) AS query), qs AS (SELECT to_tsquery('english', \(subjectQuery)) AS query)
            SELECT a.id, a.title,
                ts_headline('english', replace(replace(replace(a.body, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), q.query,
                            'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') AS snippet,
                ((ts_rank('{0.1,0.3,0.5,1.0}', a.search_vector, q.query) + ts_rank('{0.1,0.3,0.5,1.0}', a.search_vector, qs.query)
                    + 0.05 * similarity(a.title, \(subject)))
                    * ((a.helpful_count + 10.0) / (a.not_helpful_count + 10.0)))::float8 AS score
            FROM kb_articles a, q, qs
            WHERE a.status = 'published' AND (a.search_vector @@ q.query OR similarity(a.title, \(subject)) > 0.25)
            ORDER BY score DESC, a.id
            LIMIT \(limit)
            """, logger: logger
        ) { row in
            ArticleSummary(id: try row.get("id"), title: try row.get("title"), snippet: try row.get("snippet"), score: try row.get("score", as: Double.self))
        }
    }

    /// Records one vote per voter and article (a second vote replaces the first); returns the counts.
    public func vote(_ articleID: UUID, voter: Data, helpful: Bool, on connection: PostgresConnection, now: Date, logger: Logger) async throws -> (Int, Int) {
        try await connection.execute(
            """
            INSERT INTO kb_votes (article_id, voter_hash, helpful, at) VALUES (\(articleID), \(voter), \(helpful), \(now))
            ON CONFLICT (article_id, voter_hash) DO UPDATE SET helpful = EXCLUDED.helpful, at = EXCLUDED.at
            """, logger: logger)
        let counts = try await connection.first(
            """
            UPDATE kb_articles SET
                helpful_count = (SELECT count(*) FROM kb_votes WHERE article_id = \(articleID) AND helpful),
                not_helpful_count = (SELECT count(*) FROM kb_votes WHERE article_id = \(articleID) AND NOT helpful)
            WHERE id = \(articleID) RETURNING helpful_count, not_helpful_count
            """, logger: logger
        ) { (Int(try $0.get("helpful_count", as: Int32.self)), Int(try $0.get("not_helpful_count", as: Int32.self))) }
        guard let counts else { throw IntakeError.articleNotFound }
        return counts
    }
}

extension Article {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.get("id"), slug: try row.get("slug"), title: try row.get("title"), body: try row.get("body"), tags: try row.get("tags"),
            category: try row.get("category"), sourceTicketId: try row.get("source_ticket_id"),
            authorLevel: try row.get("author_level", as: Int16?.self).flatMap { Tier(rawValue: Int($0)) }, status: try row.get("status"),
            helpful: Int(try row.get("helpful_count", as: Int32.self)), notHelpful: Int(try row.get("not_helpful_count", as: Int32.self)),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"), authorAgentId: try row.get("author_agent_id"))
    }
}
