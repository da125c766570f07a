-- Vendor bridge: contracts, key rotation with overlap, the case's own clock, verification, and
-- the webhook outbox with its delivery log.

-- A vendor's contract ({acknowledgeWithinMinutes?, resolveWithinMinutes?, time: business|wall,
-- calendar?}) and products covered beside its categories. A rotated API key keeps working until
-- previous_api_key_until, so the vendor can switch without an outage.
ALTER TABLE vendors
    ADD COLUMN products text[] NOT NULL DEFAULT '{}',
    ADD COLUMN contract jsonb NOT NULL DEFAULT '{"time": "business"}',
    ADD COLUMN previous_api_key_hash bytea,
    ADD COLUMN previous_api_key_until timestamptz;
CREATE INDEX vendors_previous_api_key_idx ON vendors (previous_api_key_hash) WHERE previous_api_key_hash IS NOT NULL;

-- A case runs: open → acknowledged → in_progress ⇄ needs_info → resolved | rejected → closed.
-- `resolved` waits for the company's verification (the agent resolves the ticket, which closes the
-- case, or reopens it with a reason); `rejected` returns the ticket and closes the case.
-- owner_id is the agent who escalated (who verifies), returns_to_tier the level the ticket goes back to.
-- *_reminded_at record the one overdue reminder per target (set in the statement that claims it).
ALTER TABLE vendor_cases
    DROP CONSTRAINT vendor_case_status_known,
    ADD CONSTRAINT vendor_case_status_known CHECK (status IN ('open', 'acknowledged', 'in_progress', 'needs_info', 'resolved', 'rejected', 'closed')),
    ADD COLUMN owner_id uuid,
    ADD COLUMN returns_to_tier smallint NOT NULL DEFAULT 3 CHECK (returns_to_tier BETWEEN 1 AND 3),
    ADD COLUMN acknowledge_due_at timestamptz,
    ADD COLUMN acknowledged_at timestamptz,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN acknowledge_reminded_at timestamptz,
    ADD COLUMN resolve_reminded_at timestamptz,
    ADD COLUMN reopen_count integer NOT NULL DEFAULT 0,
    ADD COLUMN questions integer NOT NULL DEFAULT 0;
UPDATE vendor_cases SET closed_at = updated_at, status = 'closed' WHERE status IN ('resolved', 'rejected');
DROP INDEX vendor_cases_one_open_per_ticket;
CREATE UNIQUE INDEX vendor_cases_one_open_per_ticket_and_vendor ON vendor_cases (ticket_id, vendor_id) WHERE closed_at IS NULL;
CREATE INDEX vendor_cases_ticket_idx ON vendor_cases (ticket_id) WHERE closed_at IS NULL;
-- The overdue watcher's scan: open cases by their next due time.
CREATE INDEX vendor_cases_acknowledge_due_idx ON vendor_cases (acknowledge_due_at)
    WHERE closed_at IS NULL AND acknowledged_at IS NULL AND acknowledge_reminded_at IS NULL;
CREATE INDEX vendor_cases_resolve_due_idx ON vendor_cases (due_at)
    WHERE closed_at IS NULL AND resolved_at IS NULL AND resolve_reminded_at IS NULL;
CREATE INDEX vendor_cases_opened_idx ON vendor_cases (vendor_id, opened_at);

-- Who wrote an entry on the case: the vendor's updates and the company's messages to it.
ALTER TABLE vendor_case_updates ADD COLUMN author text NOT NULL DEFAULT 'vendor' CHECK (author IN ('vendor', 'company'));
ALTER TABLE vendor_case_updates ALTER COLUMN status DROP NOT NULL;

-- vendor-bridge's webhook outbox: a row is written in the transaction that changed the case, and
-- delivered (signed at each attempt) by any replica. `id` is the webhook-id the vendor sees on every
-- attempt of it, redeliveries included. The schedule's position is `attempts`; `lease` fences a
-- late finisher out once the lease has passed to another replica.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    vendor_id uuid NOT NULL REFERENCES vendors (id),
    case_id uuid REFERENCES vendor_cases (id),
    type text NOT NULL,
    body text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until timestamptz,
    lease uuid,
    last_error text,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz,
    dead_at timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_vendor_idx ON webhook_deliveries (vendor_id, created_at DESC, id);
-- The clean-up's scan: delivered webhooks by age (the log keeps them for TIERDESK_WEBHOOK_LOG_DAYS).
CREATE INDEX webhook_deliveries_delivered_idx ON webhook_deliveries (delivered_at) WHERE status = 'delivered';

-- Every attempt: when, how it ended (HTTP status or the error), how long it took.
CREATE TABLE webhook_delivery_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id),
    started_at timestamptz NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL,
    error text
);
CREATE INDEX webhook_delivery_attempts_delivery_idx ON webhook_delivery_attempts (delivery_id, id);
