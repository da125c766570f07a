-- pgbench script: intake's submission as PostgresNIO sends it (TicketIntake.open): one statement,
-- `submit_ticket` (the requester found or created, the duplicate check, the ticket, its event and
-- its outbox row), with no transaction around it. Its outbox rows are tagged source 'pgbench' so no
-- dispatcher delivers them. Run with -M prepared: intake prepares the statement once per connection.
\set n random(1, 1000000000)
\set r random(1, 997)
SELECT ticket_id FROM submit_ticket(
  gen_random_uuid(), 'pgbench-' || (:r)::text || '@bench.example.com', 'pgbench-' || (:r)::text || '@bench.example.com', 'Bench', NULL, NULL,
  gen_random_uuid(), 'new', NULL, 2::smallint, 'medium', 'high', 'network', 'api', 'pgbench ticket ' || (:n)::text, 'Benchmark ticket.',
  '{}'::jsonb, '{"contact":{"name":"Bench"}}'::jsonb, now(), now() - interval '60 seconds', gen_random_uuid(), 'ticket.created',
  NULL, '{"channel":"api"}'::jsonb, 'pgbench', '{"type":"ticket.created"}'::jsonb, ARRAY['triage']);
