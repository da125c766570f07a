-- The audit trail of every administrative change (issue 26): who (a staff person, or for a
-- non-person actor such as a vendor's key or the bootstrap token the `actor` text alone), what
-- (`action`, the object's type and id), the object's row before and after (secrets left out by the
-- writer, `AuditTrail`), when, and from which request and client address. Each service appends its
-- rows in the same transaction as the change; no service role may UPDATE or DELETE them (see
-- `DatabaseGrants`), and the triggers below refuse it to everyone else too. Ticket work is not
-- here: `ticket_events` is the ticket's own append-only trail.
CREATE TABLE audit_events (
    id uuid PRIMARY KEY,
    at timestamptz NOT NULL,
    person_id uuid,
    actor text NOT NULL,
    action text NOT NULL,
    object_type text NOT NULL,
    object_id text NOT NULL,
    before jsonb,
    after jsonb,
    request_id text,
    client_address text,
    CONSTRAINT audit_action_is_type_and_verb CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    CONSTRAINT audit_actor_named CHECK (length(actor) BETWEEN 1 AND 200),
    CONSTRAINT audit_has_a_state CHECK (before IS NOT NULL OR after IS NOT NULL)
);
-- Newest first, a page at a time, overall and by each filter.
CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC);
CREATE INDEX audit_events_person_idx ON audit_events (person_id, at DESC, id DESC) WHERE person_id IS NOT NULL;
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, at DESC, id DESC);
CREATE INDEX audit_events_action_idx ON audit_events (action, at DESC, id DESC);

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_never_truncated BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- intake: every version of every knowledge-base article, kept by the database itself whichever
-- path changed the article (the API, a ticket's resolution, the demo loader): each insert, and each
-- update that changes its text or status, appends the article as it now is. A version is restored
-- by writing its text back (`POST /v1/kb/articles/{id}/versions/{n}/restore`), which appends the
-- next version. Votes only move the counts: no version.
CREATE TABLE kb_article_versions (
    article_id uuid NOT NULL REFERENCES kb_articles (id),
    version integer NOT NULL,
    at timestamptz NOT NULL,
    slug text,
    title text NOT NULL,
    body text NOT NULL,
    tags text[] NOT NULL,
    category text,
    status text NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE FUNCTION kb_article_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.slug, NEW.title, NEW.body, NEW.tags, NEW.category, NEW.status)
        IS NOT DISTINCT FROM (OLD.slug, OLD.title, OLD.body, OLD.tags, OLD.category, OLD.status) THEN
        RETURN NULL;
    END IF;
    -- The article's row is locked by this very insert or update: versions of one article are numbered one at a time.
    INSERT INTO kb_article_versions (article_id, version, at, slug, title, body, tags, category, status)
    VALUES (NEW.id, COALESCE((SELECT max(version) FROM kb_article_versions WHERE article_id = NEW.id), 0) + 1, NEW.updated_at,
            NEW.slug, NEW.title, NEW.body, NEW.tags, NEW.category, NEW.status);
    RETURN NULL;
END
$$;
CREATE TRIGGER kb_articles_keep_versions AFTER INSERT OR UPDATE ON kb_articles
    FOR EACH ROW EXECUTE FUNCTION kb_article_keep_version();

-- The articles there are: their text now is their first version.
INSERT INTO kb_article_versions (article_id, version, at, slug, title, body, tags, category, status)
SELECT id, 1, updated_at, slug, title, body, tags, category, status FROM kb_articles;
