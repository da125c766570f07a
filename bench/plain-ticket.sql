-- pgbench script: the physical limit for a ticket, PostgreSQL's own rate for the same rows: one ticket
-- row and one event row per transaction, into the same tables (same columns, indexes, constraints,
-- triggers), nothing else. Run with -M prepared.
\set n random(1, 1000000000)
BEGIN;
INSERT INTO tickets (id, status, priority, impact, urgency, category, channel, subject, description, requester_id, created_at, updated_at)
  VALUES (gen_random_uuid(), 'new', 2, 'medium', 'high', 'network', 'api', 'plain ticket ' || (:n)::text, 'Benchmark ticket.',
          (SELECT id FROM requesters WHERE email_normalized = 'pgbench-1@bench.example.com'), now(), now())
  RETURNING id AS ticket_id \gset
INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
  VALUES (gen_random_uuid(), (:ticket_id)::uuid, 'ticket.created', 'pgbench', true, '{"channel":"api"}'::jsonb, now());
COMMIT;
