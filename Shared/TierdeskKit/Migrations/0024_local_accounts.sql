-- Local accounts, sessions and tokens (issue 26, items 2 and 4). tier-queue owns `staff_credentials`.
--
-- A staff person (a row of `agents`) may have a password and, once enrolled, a TOTP secret. The
-- password rests only as its bcrypt hash, and that hash and the TOTP secrets rest sealed (AES-GCM
-- under tier-queue's `staff-credentials` key, derived from TIERDESK_SECRET), so a dump of the
-- database holds neither a password hash nor a TOTP secret in plain form.
CREATE TABLE staff_credentials (
    person_id uuid PRIMARY KEY REFERENCES agents (id),
    -- The sealed bcrypt hash; NULL: no password (sign-in by token or single sign-on only).
    password_sealed bytea,
    -- A temporary password an administrator set: it signs in once, together with the new password.
    password_temporary boolean NOT NULL DEFAULT false,
    -- When a temporary password stops working; NULL for the person's own.
    password_expires_at timestamptz,
    password_set_at timestamptz,
    -- The confirmed TOTP secret, sealed; NULL: no second factor.
    totp_sealed bytea,
    -- A secret being enrolled, sealed, until a valid code confirms it.
    totp_pending_sealed bytea,
    -- The last 30 s step whose code was accepted: no code of that step or an earlier one is taken again.
    totp_last_step bigint,
    -- Wrong passwords or codes since the last success or lockout, and lockouts since the last success.
    failures integer NOT NULL DEFAULT 0,
    lockouts integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    updated_at timestamptz NOT NULL,
    CONSTRAINT staff_credentials_counts CHECK (failures >= 0 AND lockouts >= 0),
    CONSTRAINT staff_credentials_temporary_expires CHECK (NOT password_temporary OR password_expires_at IS NOT NULL)
);

-- Vendor keys and integration keys may expire (NULL: never).
ALTER TABLE vendors ADD COLUMN api_key_expires_at timestamptz;
ALTER TABLE integrations ADD COLUMN expires_at timestamptz;
