-- :count tickets queued at level :tier, for the claim workload.
-- Ids as Tierdesk makes them (UUID.timeOrdered, version 7: milliseconds first, then random bits).
CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid
$$;
INSERT INTO requesters (id, email, email_normalized, created_at, updated_at)
VALUES (gen_random_uuid(), 'claims@bench.example.com', 'claims@bench.example.com', now(), now()) ON CONFLICT DO NOTHING;
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                     first_response_due_at, resolution_due_at, created_at, updated_at)
SELECT pg_temp.uuid7(clock_timestamp()), 'queued', :tier, 1 + g % 5, 'medium', 'medium', 'network', 'web', 'Claim me ' || g, 'Preloaded.',
       (SELECT id FROM requesters WHERE email_normalized = 'claims@bench.example.com'),
       now() + (g || ' seconds')::interval, now() + (g || ' minutes')::interval, now(), now()
FROM generate_series(1, :count) g;
ANALYZE tickets;
