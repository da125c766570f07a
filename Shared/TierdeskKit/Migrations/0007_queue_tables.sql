-- The outbox and the inbox are queues: rows arrive, are updated once or twice and leave within
-- seconds to a day, thousands a second. PostgreSQL's default autovacuum waits for a fifth of a table
-- to be dead before it cleans, and for a tenth to change before it refreshes the statistics the
-- planner uses. Clean and analyze them after a fixed number of changes instead, so dead index
-- entries do not pile up under the dispatcher's scans and the estimates follow the backlog.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                        autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000,
                        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000);
ALTER TABLE inbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                       autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000);

-- The dispatcher's lease asks, per candidate row, for the earliest undelivered row of its ticket
-- (outbox_ticket_order_idx). Before the statistics know the backlog, PostgreSQL estimates every
-- plan at one row and may answer that with a walk of outbox_due_idx instead, once per candidate:
-- a second per lease at 16,000 rows. A predicate the ticket probe never states keeps this index
-- out of it; the lease's own `next_attempt_at <= now()` implies it.
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (source, next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at IS NOT NULL;
