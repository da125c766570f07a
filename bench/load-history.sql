-- The big history for the scale workload: :history closed tickets over 5,000 requesters, then :queued
-- tickets queued at level 3. INSERT … SELECT from generate_series runs inside the server (no client
-- round trips), faster than COPY from a client.
-- Ids as Tierdesk makes them (UUID.timeOrdered, version 7: milliseconds first, then random bits).
CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid
$$;
INSERT INTO requesters (id, email, email_normalized, created_at, updated_at)
SELECT gen_random_uuid(), 'history-' || g || '@bench.example.com', 'history-' || g || '@bench.example.com', now(), now()
FROM generate_series(1, 5000) g ON CONFLICT DO NOTHING;

WITH r AS (SELECT array_agg(id ORDER BY id) AS ids FROM requesters WHERE email_normalized LIKE 'history-%')
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                     resolution_due_at, created_at, updated_at)
SELECT pg_temp.uuid7(now() - (g || ' seconds')::interval), 'closed', 1 + g % 3, 1 + g % 5, 'medium', 'medium', 'network', 'web', 'History ticket ' || g,
       'Resolved and closed long ago.', r.ids[1 + g % 5000], now() - interval '30 days', now() - (g || ' seconds')::interval, now()
FROM generate_series(1, :history) g, r;

WITH r AS (SELECT array_agg(id ORDER BY id) AS ids FROM requesters WHERE email_normalized LIKE 'history-%')
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                     first_response_due_at, resolution_due_at, created_at, updated_at)
SELECT pg_temp.uuid7(clock_timestamp()), 'queued', 3, 1 + g % 5, 'medium', 'medium', 'network', 'web', 'Queued ticket ' || g,
       'Waiting at level 3.', r.ids[1 + g % 5000], now() + (g || ' seconds')::interval, now() + (g || ' minutes')::interval, now(), now()
FROM generate_series(1, :queued) g, r;

ANALYZE tickets;
ANALYZE requesters;
