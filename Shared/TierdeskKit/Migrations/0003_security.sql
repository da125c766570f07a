-- Security: integration keys, requester-token revocation, audited requester profile changes,
-- article authors, and no plaintext requester token left in stored idempotent responses.

-- intake: integration keys (`tdi_`) for monitoring systems and portals. Keys rest as SHA-256.
CREATE TABLE integrations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    key_hash bytea NOT NULL,
    channels text[] NOT NULL,
    rate_per_minute integer NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT integrations_name_unique UNIQUE (name),
    CONSTRAINT integrations_key_unique UNIQUE (key_hash),
    CONSTRAINT integration_channels_known CHECK (channels <@ ARRAY['web', 'email', 'chat', 'api']::text[] AND cardinality(channels) > 0),
    CONSTRAINT integration_rate_positive CHECK (rate_per_minute > 0)
);

-- intake: a requester token is derived from the ticket id and a generation; the admin's revocation
-- raises the generation, so every earlier token stops working. No row: generation 0.
CREATE TABLE requester_token_generations (
    ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
    generation integer NOT NULL,
    revoked_at timestamptz NOT NULL,
    CONSTRAINT requester_token_generation_positive CHECK (generation > 0)
);

-- intake: every edit of a requester's profile, by whom (only agents and the admin edit one).
CREATE TABLE requester_changes (
    id uuid PRIMARY KEY,
    requester_id uuid NOT NULL REFERENCES requesters (id),
    actor text NOT NULL,
    before jsonb NOT NULL,
    after jsonb NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX requester_changes_requester_idx ON requester_changes (requester_id, at);

-- intake: the agent who wrote an article may edit and retire it; one article per source ticket.
ALTER TABLE kb_articles ADD COLUMN author_agent_id uuid;
DROP INDEX kb_articles_source_ticket_idx;
CREATE UNIQUE INDEX kb_articles_one_per_source_ticket ON kb_articles (source_ticket_id) WHERE source_ticket_id IS NOT NULL;

-- Earlier builds kept the whole 201 body, requester token included; the token is derived again on replay.
UPDATE idempotency_keys SET response_body = (response_body::jsonb - 'requesterToken')::text
WHERE response_body LIKE '%requesterToken%';
