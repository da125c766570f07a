-- Console sessions (issue 23, item 6): who is signed in to the console is kept here, not in the
-- browser. The cookie holds a random id; only its SHA-256 rests here. The API token the session acts
-- with is sealed (AES-GCM under a key derived from the console's secret, bound to the row's id_hash),
-- so neither the browser nor a reader of this table holds a usable token. Forms carry an HMAC of the
-- session's csrf_secret. A request past idle_expires_at or absolute_expires_at finds no session;
-- sign-out deletes the row. The console is the only writer of this table.
CREATE TABLE console_sessions (
    id_hash bytea PRIMARY KEY,
    role text NOT NULL,
    sealed_token bytea NOT NULL,
    csrf_secret bytea NOT NULL,
    -- A requester's session opens one ticket: the one its token was checked against.
    ticket_id uuid,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    CONSTRAINT console_session_id_hash_is_sha256 CHECK (octet_length(id_hash) = 32),
    CONSTRAINT console_session_role_known CHECK (role IN ('agent', 'vendor', 'admin', 'requester')),
    CONSTRAINT console_session_requester_has_ticket CHECK ((role = 'requester') = (ticket_id IS NOT NULL)),
    CONSTRAINT console_session_csrf_secret_length CHECK (octet_length(csrf_secret) = 32),
    CONSTRAINT console_session_idle_within_absolute CHECK (idle_expires_at <= absolute_expires_at)
);
-- The clean-up's scan: sessions past their idle (never later than their absolute) expiry.
CREATE INDEX console_sessions_idle_expiry_idx ON console_sessions (idle_expires_at);
