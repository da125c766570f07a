-- pgbench script: intake's submission as PostgresNIO sends it (TicketIntake.open): the requester
-- (found or created), then `insert_ticket` (duplicate check, ticket, event and outbox row in one
-- statement), each statement on its own with no transaction around them. Its outbox rows are tagged
-- source 'pgbench' so no dispatcher delivers them. Run with -M extended: PostgresNIO sends every
-- query through the extended protocol, unnamed. (chr(58) is ':'; pgbench would read ':x' as a variable.)
\set n random(1, 1000000000)
\set r random(1, 997)
WITH created AS (
  INSERT INTO requesters (id, email, email_normalized, name, created_at, updated_at)
  VALUES (gen_random_uuid(), 'pgbench-' || (:r)::text || '@bench.example.com', 'pgbench-' || (:r)::text || '@bench.example.com', 'Bench', now(), now())
  ON CONFLICT (email_normalized) DO NOTHING RETURNING id)
SELECT id AS requester_id FROM created
UNION ALL SELECT id FROM requesters WHERE email_normalized = 'pgbench-' || (:r)::text || '@bench.example.com' LIMIT 1 \gset
SELECT ticket_id FROM insert_ticket(
  gen_random_uuid(), 'new', NULL, 2::smallint, 'medium', 'high', 'network', 'api', 'pgbench ticket ' || (:n)::text, 'Benchmark ticket.',
  (:requester_id)::uuid, '{}'::jsonb, '{"contact":{"name":"Bench"}}'::jsonb, now(), now() - interval '60 seconds', gen_random_uuid(), 'ticket.created',
  'requester' || chr(58) || (:requester_id)::text, '{"channel":"api"}'::jsonb, 'pgbench', '{"type":"ticket.created"}'::jsonb, ARRAY['triage']);
