-- :count tickets queued at level :tier, for the claim workload.
INSERT INTO requesters (id, email, email_normalized, created_at, updated_at)
VALUES (gen_random_uuid(), 'claims@bench.example.com', 'claims@bench.example.com', now(), now()) ON CONFLICT DO NOTHING;
INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id,
                     first_response_due_at, resolution_due_at, created_at, updated_at)
SELECT gen_random_uuid(), 'queued', :tier, 1 + g % 5, 'medium', 'medium', 'network', 'web', 'Claim me ' || g, 'Preloaded.',
       (SELECT id FROM requesters WHERE email_normalized = 'claims@bench.example.com'),
       now() + (g || ' seconds')::interval, now() + (g || ' minutes')::interval, now(), now()
FROM generate_series(1, :count) g;
ANALYZE tickets;
