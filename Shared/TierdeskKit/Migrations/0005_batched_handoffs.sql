-- Batched hand-offs: each outbox row knows its ticket and its place in the order rows were written,
-- so a dispatcher delivers a ticket's events in order and never two of them at once; old inbox ids
-- are pruned by age.
ALTER TABLE outbox ADD COLUMN ticket_id uuid;
ALTER TABLE outbox ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
UPDATE outbox SET ticket_id = (payload->>'ticketId')::uuid WHERE payload ? 'ticketId';
-- "Is an earlier row of this ticket still undelivered?", asked for every row a dispatcher claims.
CREATE INDEX outbox_ticket_order_idx ON outbox (destination, ticket_id, seq) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX inbox_received_idx ON inbox (consumer, received_at);
