-- Agents are told (issue 25): one row per agent told, written by tier-queue in the same transaction
-- as the change that causes it (an assignment by someone else, a swarm request, an SLA warning or
-- breach, a vendor's answer, a case overdue or back from the vendor, a storm at the agent's level).
-- `seq` orders the stream: it is the Server-Sent Events id, and each replica finds the rows other
-- replicas wrote by polling `seq > last seen` (no LISTEN: PgBouncer in transaction mode).
CREATE TABLE notifications (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    agent_id uuid NOT NULL REFERENCES agents (id),
    -- assigned, swarm, sla.warning, sla.breached, vendor.answered, vendor.overdue, vendor.returned, storm
    kind text NOT NULL,
    ticket_id uuid,
    -- What the agent reads, written once (the ticket's reference and subject as they were).
    text text NOT NULL,
    -- At most one row per agent and key (a storm tells each agent once, however many tickets it links).
    once_key text,
    created_at timestamptz NOT NULL,
    read_at timestamptz,
    -- When it went out by mail (at once, or in the hourly digest); set at once for agents who take
    -- no mail. NULL: waiting for the agent's digest.
    mailed_at timestamptz,
    CONSTRAINT notifications_kind_known CHECK (kind IN ('assigned', 'swarm', 'sla.warning', 'sla.breached', 'vendor.answered',
        'vendor.overdue', 'vendor.returned', 'storm')),
    CONSTRAINT notifications_text_length CHECK (length(text) BETWEEN 1 AND 1000)
);
-- An agent's list, newest first.
CREATE INDEX notifications_agent_idx ON notifications (agent_id, seq DESC);
-- The unread count.
CREATE INDEX notifications_unread_idx ON notifications (agent_id) WHERE read_at IS NULL;
-- The hourly digest: rows not mailed yet.
CREATE INDEX notifications_unmailed_idx ON notifications (agent_id, seq) WHERE mailed_at IS NULL;
CREATE UNIQUE INDEX notifications_once_idx ON notifications (agent_id, once_key) WHERE once_key IS NOT NULL;

-- How each agent wants mail about its notifications: at once (default), an hourly digest, or none.
ALTER TABLE agents ADD COLUMN notification_mail text NOT NULL DEFAULT 'immediate'
    CONSTRAINT agents_notification_mail_known CHECK (notification_mail IN ('immediate', 'hourly', 'off'));
