-- Triage's own tables: the admin's routing rules, VIPs and per-category defaults, and the trained
-- category model. Every change bumps `triage_policy_version` in the same transaction; each triage
-- replica compares its cached version with it (at most every half second) and reloads on a change.
CREATE TABLE triage_rules (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    position integer NOT NULL,
    match jsonb NOT NULL,
    route jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX triage_rules_order_idx ON triage_rules (position, created_at, id);

CREATE TABLE vip_entries (
    id uuid PRIMARY KEY,
    email text UNIQUE,
    domain text UNIQUE,
    created_at timestamptz NOT NULL,
    CONSTRAINT one_of_email_or_domain CHECK ((email IS NULL) <> (domain IS NULL))
);

CREATE TABLE category_defaults (
    category text PRIMARY KEY,
    impact text NOT NULL CHECK (impact IN ('high', 'medium', 'low')),
    urgency text NOT NULL CHECK (urgency IN ('high', 'medium', 'low')),
    updated_at timestamptz NOT NULL
);

-- One row per training; triage uses the newest.
CREATE TABLE classifier_models (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trained_at timestamptz NOT NULL,
    examples integer NOT NULL,
    vocabulary_size integer NOT NULL,
    accuracy double precision,
    macro_f1 double precision,
    baseline_accuracy double precision,
    baseline_macro_f1 double precision,
    model jsonb NOT NULL
);

CREATE TABLE triage_policy_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL
);
INSERT INTO triage_policy_version VALUES (true, 1);

-- Problems: the cause behind several incidents, opened by triage when incidents recur or storm in,
-- worked by level 3. One open problem per category at a time: recurring incidents and storms join it.
CREATE TABLE problems (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'resolved')),
    category text NOT NULL,
    root_cause text,
    workaround text,
    known_error boolean NOT NULL DEFAULT false,
    storm boolean NOT NULL DEFAULT false,
    resolution text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    resolved_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX problems_one_open_per_category ON problems (category) WHERE status = 'open';
CREATE INDEX problems_list_idx ON problems (created_at DESC, id);

CREATE TABLE problem_incidents (
    problem_id uuid NOT NULL REFERENCES problems (id),
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    reason text NOT NULL,
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (problem_id, ticket_id)
);
CREATE INDEX problem_incidents_ticket_idx ON problem_incidents (ticket_id);

-- "How many tickets of this category in the last hour", asked for every triaged ticket.
CREATE INDEX tickets_category_created_idx ON tickets (category, created_at) WHERE category IS NOT NULL;
