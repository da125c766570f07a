-- Mail in (issue 25): automatic mail and bounces. intake keeps why a message was automatic
-- (`InboundEmail.automatic`: `auto-submitted: auto-replied`, `precedence: bulk`, `bounce`, ...)
-- with its Message-ID, so nothing is ever sent in answer to it; null is a person's mail.
ALTER TABLE email_messages ADD COLUMN automatic text;

-- intake: addresses whose mail bounced (a delivery status notification reported them failed). Only
-- addresses Tierdesk has mailed are marked (`mail_outbox`), so a forged bounce cannot mark anyone
-- else; the next mail a person sends from the address clears the mark. tier-queue reads it for the
-- agent's view of the requester.
CREATE TABLE mail_bounces (
    -- lower-cased and trimmed, as `requesters.email_normalized`.
    address_normalized text PRIMARY KEY,
    address text NOT NULL,
    -- The enhanced status code (`5.1.1`) and the remote server's answer, from the latest bounce.
    status text,
    diagnostic text,
    -- The latest bounce's own Message-ID.
    message_id text NOT NULL,
    first_bounced_at timestamptz NOT NULL,
    last_bounced_at timestamptz NOT NULL,
    bounces int NOT NULL DEFAULT 1,
    CONSTRAINT mail_bounces_address_length CHECK (length(address) BETWEEN 3 AND 320)
);

-- A bounce looks up whether the address was mailed.
CREATE INDEX mail_outbox_recipient_idx ON mail_outbox (lower(recipient));
