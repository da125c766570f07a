-- Named staff with roles, and credentials that end (issue 26). tier-queue owns both tables.
--
-- `agents` is the table of staff people. Each has one role: an agent works its levels, a team lead
-- works them too and leads them, an administrator changes settings, an auditor reads reports and
-- the audit trail. Agents and leads have levels; administrators and auditors have none.
ALTER TABLE agents ADD COLUMN role text NOT NULL DEFAULT 'agent';
ALTER TABLE agents ADD CONSTRAINT agent_role_known CHECK (role IN ('agent', 'lead', 'admin', 'auditor'));
ALTER TABLE agents DROP CONSTRAINT agent_tiers_in_range;
ALTER TABLE agents ADD CONSTRAINT staff_tiers_follow_role CHECK (
    tiers <@ ARRAY[1, 2, 3]::smallint[] AND (cardinality(tiers) > 0) = (role IN ('agent', 'lead')));

-- Every staff credential: the tokens people make for their scripts (`personal`, named, with an
-- expiry) and the ones the console mints at sign-in (`session`, ending with the session). Only the
-- SHA-256 of a token rests here. A token acts with its scope: `read` only reads, `work` is an
-- agent's or lead's work, `admin` an administrator's; never more than the person's role allows.
-- Deactivating a person ends all of their tokens (authentication joins `agents.active`).
CREATE TABLE staff_tokens (
    id uuid PRIMARY KEY,
    person_id uuid NOT NULL REFERENCES agents (id),
    kind text NOT NULL,
    name text NOT NULL,
    scope text NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT staff_token_kind_known CHECK (kind IN ('personal', 'session')),
    CONSTRAINT staff_token_scope_known CHECK (scope IN ('read', 'work', 'admin')),
    CONSTRAINT staff_token_is_sha256 CHECK (octet_length(token_hash) = 32),
    CONSTRAINT staff_token_unique UNIQUE (token_hash),
    CONSTRAINT staff_session_ends CHECK (kind = 'personal' OR expires_at IS NOT NULL)
);
CREATE INDEX staff_tokens_person_idx ON staff_tokens (person_id, created_at);

-- The token each agent was given until now becomes its first personal token, without an expiry.
INSERT INTO staff_tokens (id, person_id, kind, name, scope, token_hash, created_at)
SELECT gen_random_uuid(), id, 'personal', 'first token', 'work', token_hash, created_at FROM agents;
ALTER TABLE agents DROP COLUMN token_hash;

-- The console signs auditors in too.
ALTER TABLE console_sessions DROP CONSTRAINT console_session_role_known;
ALTER TABLE console_sessions ADD CONSTRAINT console_session_role_known CHECK (role IN ('agent', 'vendor', 'admin', 'auditor', 'requester'));
