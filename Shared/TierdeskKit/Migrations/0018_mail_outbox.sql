-- Mail out (issue 25): mail leaves from an outbox like every hand-off. A service writes a rendered
-- mail here in the same transaction as the change that caused it (`MailOutbox.enqueue`); its own
-- replicas send it over SMTP (`MailDispatcher`: due rows leased with SKIP LOCKED, retried with
-- backoff, dead-lettered after the last attempt, never dropped). `message_id` is the mail's
-- Message-ID, fixed when it is written, so a resend is the same mail and a thread stays one thread.
CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY,
    -- The service whose replicas send it (intake: requesters' mail; tier-queue: agents').
    source text NOT NULL,
    -- What it is: `ticket.filed`, `ticket.commented`, `agent.notification`, `sign_in`, ...
    kind text NOT NULL,
    ticket_id uuid,
    recipient text NOT NULL,
    subject text NOT NULL,
    message_id text NOT NULL UNIQUE,
    -- The rendered mail (`OutgoingMail` as JSON): headers, text and HTML parts.
    mail jsonb NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    sent_at timestamptz,
    dead_at timestamptz,
    created_at timestamptz NOT NULL,
    CONSTRAINT mail_outbox_recipient_length CHECK (length(recipient) BETWEEN 3 AND 320)
);
-- The dispatcher's lease: due, unsent, not dead rows of one source, oldest first.
CREATE INDEX mail_outbox_due_idx ON mail_outbox (source, next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;
-- A ticket's mails (its thread's References, the agent's view of what the requester was sent).
CREATE INDEX mail_outbox_ticket_idx ON mail_outbox (ticket_id, created_at) WHERE ticket_id IS NOT NULL;
-- The admin list, newest first, and the pruning of sent mail after the retention.
CREATE INDEX mail_outbox_created_idx ON mail_outbox (created_at DESC, id DESC);
CREATE INDEX mail_outbox_sent_idx ON mail_outbox (source, sent_at) WHERE sent_at IS NOT NULL;
