-- Tierdesk foundation: the ticket (system of record), its audit trail, the hand-off tables,
-- and the tables each service owns. Shipped migrations are never edited: add a new file.

-- intake owns requesters.
CREATE TABLE requesters (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    email_normalized text NOT NULL,
    name text,
    phone text,
    organization text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT requesters_email_unique UNIQUE (email_normalized),
    CONSTRAINT email_normalized_is_lowercase CHECK (email_normalized = lower(btrim(email_normalized)))
);

-- The ticket store in TierdeskKit alone writes tickets and ticket_events.
CREATE SEQUENCE ticket_reference_seq START 1000;

CREATE TABLE tickets (
    id uuid PRIMARY KEY,
    reference_number bigint NOT NULL DEFAULT nextval('ticket_reference_seq'),
    status text NOT NULL,
    tier smallint,
    priority smallint NOT NULL,
    impact text NOT NULL,
    urgency text NOT NULL,
    category text,
    channel text NOT NULL,
    subject text NOT NULL,
    description text NOT NULL,
    requester_id uuid NOT NULL REFERENCES requesters (id),
    assignee_id uuid,
    required_skills text[] NOT NULL DEFAULT '{}',
    vendor_id uuid,
    metadata jsonb NOT NULL DEFAULT '{}',
    first_response_due_at timestamptz,
    resolution_due_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT tickets_reference_unique UNIQUE (reference_number),
    CONSTRAINT status_known CHECK (status IN ('new', 'triaged', 'queued', 'in_progress', 'pending_customer',
        'pending_vendor', 'resolved', 'closed')),
    CONSTRAINT tier_in_range CHECK (tier BETWEEN 0 AND 4),
    CONSTRAINT priority_in_range CHECK (priority BETWEEN 1 AND 5),
    CONSTRAINT impact_known CHECK (impact IN ('high', 'medium', 'low')),
    CONSTRAINT urgency_known CHECK (urgency IN ('high', 'medium', 'low')),
    CONSTRAINT channel_known CHECK (channel IN ('web', 'email', 'chat', 'phone', 'api')),
    CONSTRAINT queued_has_tier CHECK (status NOT IN ('queued', 'in_progress') OR tier IS NOT NULL),
    CONSTRAINT in_progress_has_assignee CHECK (status <> 'in_progress' OR assignee_id IS NOT NULL),
    CONSTRAINT queued_has_due_time CHECK (status <> 'queued' OR resolution_due_at IS NOT NULL),
    CONSTRAINT version_positive CHECK (version > 0)
);

-- The claim query's index: the next queued ticket of a tier, by priority then due time.
CREATE INDEX tickets_queue_idx ON tickets (tier, priority, resolution_due_at, id) WHERE status = 'queued';
CREATE INDEX tickets_requester_idx ON tickets (requester_id, created_at DESC);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id) WHERE status = 'in_progress';

CREATE TABLE ticket_events (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    seq bigint GENERATED ALWAYS AS IDENTITY,
    type text NOT NULL,
    actor text NOT NULL,
    public boolean NOT NULL DEFAULT true,
    data jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, seq);

-- The audit trail is append-only: the database itself refuses to change or remove a line.
CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();

-- Hand-offs: each service writes its own rows (source), delivered by its own dispatcher.
CREATE TABLE outbox (
    event_id uuid NOT NULL,
    destination text NOT NULL,
    source text NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz,
    dead_at timestamptz,
    PRIMARY KEY (event_id, destination)
);
CREATE INDEX outbox_due_idx ON outbox (source, next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_dead_idx ON outbox (source, dead_at) WHERE dead_at IS NOT NULL;

CREATE TABLE inbox (
    consumer text NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- tier-queue owns agents. Tokens rest only as SHA-256 hashes (256-bit random tokens).
CREATE TABLE agents (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    tiers smallint[] NOT NULL,
    skills text[] NOT NULL DEFAULT '{}',
    wip_limit integer NOT NULL DEFAULT 5,
    token_hash bytea NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    CONSTRAINT agents_email_unique UNIQUE (email),
    CONSTRAINT agents_token_unique UNIQUE (token_hash),
    CONSTRAINT agent_tiers_in_range CHECK (tiers <@ ARRAY[1, 2, 3]::smallint[] AND cardinality(tiers) > 0),
    CONSTRAINT wip_limit_positive CHECK (wip_limit > 0)
);

-- vendor-bridge owns vendors and their cases. The signing secret is sealed (AES-GCM) under a key
-- derived from TIERDESK_SECRET; the API key rests only as a hash.
CREATE TABLE vendors (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    webhook_url text NOT NULL,
    categories text[] NOT NULL DEFAULT '{}',
    api_key_hash bytea NOT NULL,
    signing_secret_sealed bytea NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    CONSTRAINT vendors_name_unique UNIQUE (name),
    CONSTRAINT vendors_api_key_unique UNIQUE (api_key_hash)
);

CREATE TABLE vendor_cases (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    vendor_id uuid NOT NULL REFERENCES vendors (id),
    status text NOT NULL,
    reason text NOT NULL,
    opened_at timestamptz NOT NULL,
    due_at timestamptz,
    updated_at timestamptz NOT NULL,
    CONSTRAINT vendor_case_status_known CHECK (status IN ('open', 'acknowledged', 'in_progress', 'needs_info', 'resolved', 'rejected'))
);
CREATE INDEX vendor_cases_vendor_idx ON vendor_cases (vendor_id, opened_at DESC, id);
CREATE UNIQUE INDEX vendor_cases_one_open_per_ticket ON vendor_cases (ticket_id) WHERE status NOT IN ('resolved', 'rejected');

CREATE TABLE vendor_case_updates (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES vendor_cases (id),
    status text NOT NULL,
    message text NOT NULL,
    eta timestamptz,
    at timestamptz NOT NULL
);
CREATE INDEX vendor_case_updates_case_idx ON vendor_case_updates (case_id, at);
