-- Intake and Level 0: channel details on the ticket, idempotent creation, email threading, and the
-- knowledge base with full-text and trigram search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Written by the ticket store with the ticket: what the channel said (email ids, chat transcript,
-- the agent who took a call).
ALTER TABLE tickets ADD COLUMN channel_details jsonb NOT NULL DEFAULT '{}';

-- Shared by the services' creating POSTs. A key is scoped by endpoint and caller; its row commits
-- in the same transaction as what it created, so a concurrent retry waits and then replays.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    response_status smallint,
    response_body text,
    response_location text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_key_length CHECK (length(key) BETWEEN 1 AND 255)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- intake: Message-IDs of the mail that formed a ticket, so replies thread onto it.
CREATE TABLE email_messages (
    message_id text PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    received_at timestamptz NOT NULL
);
CREATE INDEX email_messages_ticket_idx ON email_messages (ticket_id);

-- intake: the knowledge base. search_vector is written by the store: title (A), tags (B), body (C).
CREATE TABLE kb_articles (
    id uuid PRIMARY KEY,
    slug text,
    title text NOT NULL,
    body text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    category text,
    source_ticket_id uuid REFERENCES tickets (id),
    author_level smallint,
    status text NOT NULL DEFAULT 'published',
    helpful_count integer NOT NULL DEFAULT 0,
    not_helpful_count integer NOT NULL DEFAULT 0,
    search_vector tsvector NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT kb_slug_unique UNIQUE (slug),
    CONSTRAINT kb_status_known CHECK (status IN ('published', 'retired')),
    CONSTRAINT kb_author_level_in_range CHECK (author_level BETWEEN 0 AND 4),
    CONSTRAINT kb_votes_not_negative CHECK (helpful_count >= 0 AND not_helpful_count >= 0)
);
CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (search_vector);
CREATE INDEX kb_articles_title_trgm_idx ON kb_articles USING gin (title gin_trgm_ops);
CREATE INDEX kb_articles_source_ticket_idx ON kb_articles (source_ticket_id) WHERE source_ticket_id IS NOT NULL;

-- Every word of the published articles, for correcting misspelled search terms by trigram similarity.
CREATE TABLE kb_lexicon (word text PRIMARY KEY);
CREATE INDEX kb_lexicon_trgm_idx ON kb_lexicon USING gin (word gin_trgm_ops);

-- One vote per voter and article; the counts on kb_articles follow.
CREATE TABLE kb_votes (
    article_id uuid NOT NULL REFERENCES kb_articles (id),
    voter_hash bytea NOT NULL,
    helpful boolean NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (article_id, voter_hash)
);
