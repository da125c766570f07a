-- Single sign-on with an OpenID provider (issue 26, item 1).
--
-- A staff person signed in through the provider is known by the provider's issuer and subject
-- (`iss`, `sub`: stable, unlike an email). The first sign-in links the person by verified email, or
-- creates one; every later one finds them by these two. tier-queue writes them, like all of `agents`.
ALTER TABLE agents ADD COLUMN oidc_issuer text, ADD COLUMN oidc_subject text;
ALTER TABLE agents ADD CONSTRAINT agents_oidc_identity_whole CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL));
CREATE UNIQUE INDEX agents_oidc_identity_idx ON agents (oidc_issuer, oidc_subject) WHERE oidc_issuer IS NOT NULL;

-- A sign-in under way at the provider, for ten minutes at most, used once: the callback deletes
-- the row it finds by the state's hash. Only hashes rest here (the state, the browser's binding
-- cookie, the nonce), and the PKCE verifier sealed like a session's token (AES-GCM under the
-- console's key, bound to the state's hash). The console is the only writer.
CREATE TABLE console_sign_ins (
    state_hash bytea PRIMARY KEY,
    browser_hash bytea NOT NULL,
    nonce_hash bytea NOT NULL,
    sealed_verifier bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT console_sign_in_hashes_are_sha256 CHECK (
        octet_length(state_hash) = 32 AND octet_length(browser_hash) = 32 AND octet_length(nonce_hash) = 32)
);
CREATE INDEX console_sign_ins_expiry_idx ON console_sign_ins (expires_at);

-- A session begun by single sign-on keeps the provider's ID token, sealed like its API token, as
-- the `id_token_hint` of the provider's sign-out.
ALTER TABLE console_sessions ADD COLUMN sealed_id_token bytea;
