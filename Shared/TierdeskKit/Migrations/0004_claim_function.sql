-- Claiming, race-free per agent in one round trip. Two claims by one agent at once must not both
-- pass its WIP limit: the function takes a transaction-scoped advisory lock on the agent, and each
-- statement of a PL/pgSQL function reads a fresh snapshot, so the count after the lock sees the
-- claim that held it. A full agent raises SQLSTATE 'TDWIP' (the store answers 409 wip-limit-reached).
CREATE FUNCTION claim_next_ticket(
    p_tier smallint, p_agent uuid, p_skills text[], p_wip_limit integer, p_now timestamptz, p_event_id uuid, p_actor text, p_data jsonb
) RETURNS SETOF tickets LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('tierdesk-claim:' || p_agent::text, 0));
    IF (SELECT count(*) FROM tickets WHERE assignee_id = p_agent AND status = 'in_progress') >= p_wip_limit THEN
        RAISE EXCEPTION 'the agent holds its WIP limit of %', p_wip_limit USING ERRCODE = 'TDWIP';
    END IF;
    RETURN QUERY
    WITH next AS (
        SELECT id FROM tickets
        WHERE tier = p_tier AND status = 'queued' AND required_skills <@ p_skills
        ORDER BY priority, resolution_due_at, id
        LIMIT 1 FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE tickets t SET status = 'in_progress', assignee_id = p_agent, updated_at = p_now, version = t.version + 1
        FROM next WHERE t.id = next.id
        RETURNING t.*),
    event AS (
        INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
        SELECT p_event_id, id, 'ticket.claimed', p_actor, true, p_data, p_now FROM claimed)
    SELECT * FROM claimed;
END;
$$;
