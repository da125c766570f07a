-- The big history for the scale workload: :history closed tickets over 5,000 requesters, then :queued
-- tickets queued at level 3. INSERT … SELECT from generate_series runs inside the server (no client
-- round trips), faster than COPY from a client.
INSERT INTO requesters (id, email, email_normalized, created_at, updated_at)
SELECT gen_random_uuid(), 'history-' || g || '@bench.example.com', 'history-' || g || '@bench.example.com', now(), now()
FROM generate_series(1, 5000) g ON CONFLICT DO NOTHING;

WITH r AS (SELECT array_agg(id ORDER BY id) AS ids FROM requesters WHERE email_normalized LIKE 'history-%')
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                     resolution_due_at, created_at, updated_at)
SELECT gen_random_uuid(), 'closed', 1 + g % 3, 1 + g % 5, 'medium', 'medium', 'network', 'web', 'History ticket ' || g,
       'Resolved and closed long ago.', r.ids[1 + g % 5000], now() - interval '30 days', now() - (g || ' seconds')::interval, now()
FROM generate_series(1, :history) g, r;

WITH r AS (SELECT array_agg(id ORDER BY id) AS ids FROM requesters WHERE email_normalized LIKE 'history-%')
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                     first_response_due_at, resolution_due_at, created_at, updated_at)
SELECT gen_random_uuid(), 'queued', 3, 1 + g % 5, 'medium', 'medium', 'network', 'web', 'Queued ticket ' || g,
       'Waiting at level 3.', r.ids[1 + g % 5000], now() + (g || ' seconds')::interval, now() + (g || ' minutes')::interval, now(), now()
FROM generate_series(1, :queued) g, r;

ANALYZE tickets;
ANALYZE requesters;
