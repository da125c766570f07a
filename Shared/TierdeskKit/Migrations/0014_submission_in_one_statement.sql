-- A submission in one statement: the requester (found by email, or created from the submission;
-- an existing one is left exactly as it is) and then `insert_ticket` (the duplicate check, the
-- ticket, its first event and its hand-off), in one round trip and one implicit transaction instead
-- of two of each. Each statement of a PL/pgSQL function reads a fresh snapshot, so a requester that
-- a concurrent submission created after the first look is found by the second. `p_actor` NULL names
-- the requester (`requester:<id>`), which only this statement knows.
CREATE FUNCTION submit_ticket(
    p_requester_id uuid, p_email text, p_email_normalized text, p_name text, p_phone text, p_organization text,
    p_id uuid, p_status text, p_tier smallint, p_priority smallint, p_impact text, p_urgency text, p_category text, p_channel text,
    p_subject text, p_description text, p_metadata jsonb, p_channel_details jsonb, p_now timestamptz,
    p_duplicate_since timestamptz, p_event_id uuid, p_event_type text, p_actor text, p_event_data jsonb, p_source text, p_payload jsonb,
    p_destinations text[]
) RETURNS TABLE (ticket_id uuid, ticket_reference bigint, ticket_status text, duplicate boolean) LANGUAGE plpgsql ROWS 1 AS $$
DECLARE
    v_requester uuid;
BEGIN
    SELECT r.id INTO v_requester FROM requesters r WHERE r.email_normalized = p_email_normalized;
    IF v_requester IS NULL THEN
        INSERT INTO requesters AS r (id, email, email_normalized, name, phone, organization, created_at, updated_at)
        VALUES (p_requester_id, p_email, p_email_normalized, p_name, p_phone, p_organization, p_now, p_now)
        ON CONFLICT (email_normalized) DO NOTHING RETURNING r.id INTO v_requester;
        IF v_requester IS NULL THEN
            SELECT r.id INTO v_requester FROM requesters r WHERE r.email_normalized = p_email_normalized;
        END IF;
    END IF;
    RETURN QUERY SELECT i.ticket_id, i.ticket_reference, i.ticket_status, i.duplicate FROM insert_ticket(
        p_id, p_status, p_tier, p_priority, p_impact, p_urgency, p_category, p_channel, p_subject, p_description, v_requester, p_metadata,
        p_channel_details, p_now, p_duplicate_since, p_event_id, p_event_type, COALESCE(p_actor, 'requester:' || v_requester::text), p_event_data,
        p_source, p_payload, p_destinations) AS i;
END;
$$;
