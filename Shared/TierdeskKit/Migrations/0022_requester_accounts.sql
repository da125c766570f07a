-- A requester's own tickets and the satisfaction survey (issue 25, items 5 and 6). Intake owns all
-- three tables.
--
-- Passwordless sign-in: a requester gives an email and receives a single-use link. Only the SHA-256
-- of the link's key rests here; it is good for 15 minutes, once. Redeeming it verifies the address
-- and opens a requester session: a random `tdp_` token, again only its hash at rest, that reads
-- every ticket of that requester until it expires or is signed out.
ALTER TABLE requesters ADD COLUMN email_verified_at timestamptz;

CREATE TABLE requester_sign_in_links (
    key_hash bytea PRIMARY KEY,
    requester_id uuid NOT NULL REFERENCES requesters (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CONSTRAINT requester_sign_in_key_is_sha256 CHECK (octet_length(key_hash) = 32)
);
-- Clean-up of expired links.
CREATE INDEX requester_sign_in_links_expiry_idx ON requester_sign_in_links (expires_at);

CREATE TABLE requester_sessions (
    token_hash bytea PRIMARY KEY,
    requester_id uuid NOT NULL REFERENCES requesters (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT requester_session_token_is_sha256 CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX requester_sessions_expiry_idx ON requester_sessions (expires_at);

-- One answer per ticket from its requester: a rating of 1 (bad) to 5 (good) and an optional
-- comment, changeable for 7 days after the first answer.
CREATE TABLE satisfaction_answers (
    ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
    rating smallint NOT NULL,
    comment text,
    answered_at timestamptz NOT NULL,
    changed_at timestamptz NOT NULL,
    CONSTRAINT satisfaction_rating_range CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT satisfaction_comment_length CHECK (length(comment) <= 2000)
);
-- The reports over time.
CREATE INDEX satisfaction_answers_changed_idx ON satisfaction_answers (changed_at);

-- The console keeps a signed-in requester's session like a ticket link's: role `requester`, but
-- with no one ticket (the token reads all of theirs).
ALTER TABLE console_sessions DROP CONSTRAINT console_session_requester_has_ticket;
ALTER TABLE console_sessions ADD CONSTRAINT console_session_only_requesters_have_a_ticket CHECK (role = 'requester' OR ticket_id IS NULL);
