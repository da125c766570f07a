-- A ticket submission in one statement: the duplicate check (serialised per requester by an
-- advisory lock; each statement of a PL/pgSQL function reads a fresh snapshot, so the check after
-- the lock sees a submission that held it), the ticket, its first event and its hand-offs. It
-- answers only what the caller needs: id, reference, status and whether it was a duplicate.
CREATE FUNCTION insert_ticket(
    p_id uuid, p_status text, p_tier smallint, p_priority smallint, p_impact text, p_urgency text, p_category text, p_channel text,
    p_subject text, p_description text, p_requester uuid, p_metadata jsonb, p_channel_details jsonb, p_now timestamptz,
    p_duplicate_since timestamptz, p_event_id uuid, p_event_type text, p_actor text, p_event_data jsonb, p_source text, p_payload jsonb,
    p_destinations text[]
) RETURNS TABLE (ticket_id uuid, ticket_reference bigint, ticket_status text, duplicate boolean) LANGUAGE plpgsql AS $$
BEGIN
    IF p_duplicate_since IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('tierdesk-submit:' || p_requester::text, 0));
        RETURN QUERY
        SELECT t.id, t.reference_number, t.status, true FROM tickets t
        WHERE t.requester_id = p_requester AND t.created_at > p_duplicate_since AND t.channel = p_channel
          AND t.subject = p_subject AND t.description = p_description
        ORDER BY t.created_at LIMIT 1;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    WITH created AS (
        INSERT INTO tickets (id, status, tier, priority, impact, urgency, category, channel, subject, description, requester_id, metadata,
                             channel_details, created_at, updated_at)
        VALUES (p_id, p_status, p_tier, p_priority, p_impact, p_urgency, p_category, p_channel, p_subject, p_description, p_requester, p_metadata,
                p_channel_details, p_now, p_now)
        RETURNING tickets.id, tickets.reference_number, tickets.status),
    event AS (
        INSERT INTO ticket_events (id, ticket_id, type, actor, public, data, at)
        VALUES (p_event_id, p_id, p_event_type, p_actor, true, p_event_data, p_now)),
    handoff AS (
        INSERT INTO outbox (event_id, destination, source, event_type, ticket_id, payload, next_attempt_at, created_at)
        SELECT p_event_id, destination, p_source, p_event_type, p_id, p_payload, now(), p_now FROM unnest(p_destinations) AS destination)
    SELECT created.id, created.reference_number, created.status, false FROM created;
END;
$$;
