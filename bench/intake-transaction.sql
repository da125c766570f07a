-- pgbench script: the statements of intake's submission transaction (TicketIntake.open + TicketStore.insert),
-- with the same indexes, constraints and NOTIFY. Its outbox rows are tagged source 'pgbench' so no dispatcher
-- delivers them. Run with -M prepared, as PostgresNIO prepares nothing either way (extended protocol, unnamed).
\set n random(1, 1000000000)
\set r random(1, 997)
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('intake:pgbench-' || :r || '@bench.example.com', 0));
SELECT t.id FROM tickets t JOIN requesters r ON r.id = t.requester_id
  WHERE r.email_normalized = 'pgbench-' || :r || '@bench.example.com' AND t.created_at > now() - interval '60 seconds'
    AND t.channel = 'api' AND t.subject = 'pgbench ticket ' || :n AND t.description = 'Benchmark ticket.' LIMIT 1;
INSERT INTO requesters (id, email, email_normalized, name, created_at, updated_at)
  VALUES (gen_random_uuid(), 'pgbench-' || :r || '@bench.example.com', 'pgbench-' || :r || '@bench.example.com', 'Bench', now(), now())
  ON CONFLICT (email_normalized) DO UPDATE SET name = COALESCE(EXCLUDED.name, requesters.name), updated_at = EXCLUDED.updated_at
  RETURNING id AS requester_id \gset
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id, metadata,
                     channel_details, created_at, updated_at)
  VALUES (gen_random_uuid(), 'new', NULL, 2, 'medium', 'high', 'network', 'api', 'pgbench ticket ' || :n, 'Benchmark ticket.',
          :'requester_id', '{}'::jsonb, '{}'::jsonb, now(), now())
  RETURNING id AS ticket_id \gset
INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
  VALUES (:'ticket_id', :'ticket_id', 'ticket.created', 'requester:' || :'requester_id', true, '{"channel":"api"}'::jsonb, now());
INSERT INTO outbox (event_id, destination, source, event_type, payload, next_attempt_at, created_at)
  SELECT :'ticket_id', destination, 'pgbench', 'ticket.created', '{}'::jsonb, now(), now() FROM unnest(ARRAY['triage']::text[]) AS destination;
SELECT pg_notify('tierdesk_outbox', 'pgbench');
SELECT t.id, t.reference_number, r.id FROM tickets t JOIN requesters r ON r.id = t.requester_id WHERE t.id = :'ticket_id';
COMMIT;
