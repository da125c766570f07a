-- The worklist's index no longer answers for the queue. Its predicate (any open status) was implied
-- by a queue read's `status = 'queued'`, so the planner ANDed a scan of the whole index with the
-- queue's own and sorted every waiting ticket to show the first 50: 0.30 ms at 1,000 waiting and
-- growing with the queue, against 0.025 ms for the ordered scan of `tickets_queue_idx` that stops
-- at the page's end. A held ticket has an assignee; a waiting one has none to index.
DROP INDEX tickets_holder_idx;
CREATE INDEX tickets_holder_idx ON tickets (assignee_id) WHERE assignee_id IS NOT NULL AND status NOT IN ('resolved', 'closed');
