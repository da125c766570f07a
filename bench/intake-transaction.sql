-- pgbench script: the statements of intake's submission transaction (TicketIntake.open + TicketStore.insert and
-- record), with the same indexes, constraints and NOTIFY, statement for statement. Its outbox rows are tagged
-- source 'pgbench' so no dispatcher delivers them. Run with -M extended: PostgresNIO sends every query through
-- the extended protocol, unnamed. (chr(58) is ':'; pgbench would read ':pgbench' inside a literal as a variable.)
\set n random(1, 1000000000)
\set r random(1, 997)
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended(concat('intake', chr(58), 'pgbench-', (:r)::text, '@bench.example.com'), 0));
SELECT t.id FROM tickets t JOIN requesters r ON r.id = t.requester_id
  WHERE r.email_normalized = 'pgbench-' || (:r)::text || '@bench.example.com' AND t.created_at > now() - interval '60 seconds'
    AND t.channel = 'api' AND t.subject = 'pgbench ticket ' || (:n)::text AND t.description = 'Benchmark ticket.' LIMIT 1;
INSERT INTO requesters (id, email, email_normalized, name, created_at, updated_at)
  VALUES (gen_random_uuid(), 'pgbench-' || (:r)::text || '@bench.example.com', 'pgbench-' || (:r)::text || '@bench.example.com', 'Bench', now(), now())
  ON CONFLICT (email_normalized) DO UPDATE SET name = COALESCE(EXCLUDED.name, requesters.name), updated_at = EXCLUDED.updated_at
  RETURNING id AS requester_id \gset
WITH t AS (
  INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id, metadata,
                       channel_details, created_at, updated_at)
  VALUES (gen_random_uuid(), 'new', NULL, 2, 'medium', 'high', 'network', 'api', 'pgbench ticket ' || (:n)::text, 'Benchmark ticket.',
          (:requester_id)::uuid, '{}'::jsonb, '{}'::jsonb, now(), now())
  RETURNING *)
SELECT t.id AS ticket_id, t.reference_number, r.email FROM t JOIN requesters r ON r.id = t.requester_id \gset
WITH event AS (
  INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
  VALUES ((:ticket_id)::uuid, (:ticket_id)::uuid, 'ticket.created', 'requester-' || (:requester_id)::text, true, '{"channel":"api"}'::jsonb, now())),
handoff AS (
  INSERT INTO outbox (event_id, destination, source, event_type, payload, next_attempt_at, created_at)
  SELECT (:ticket_id)::uuid, destination, 'pgbench', 'ticket.created', '{}'::jsonb, now(), now() FROM unnest(ARRAY['triage']::text[]) AS destination)
SELECT pg_notify('tierdesk_outbox', 'pgbench') WHERE true;
COMMIT;
