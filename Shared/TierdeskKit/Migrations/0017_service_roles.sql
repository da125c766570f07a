-- One PostgreSQL role per service (issue 23, item 7), so "the only writer of X" is a fact the
-- database enforces. Roles belong to the cluster, not to this database: one that exists already
-- (another database of the cluster, or another migrator racing this one) is left as it is. They get
-- LOGIN and no password: a server that checks passwords needs one set (`tierdesk migrate` sets those
-- given as TIERDESK_<SERVICE>_DATABASE_PASSWORD). Their privileges are not granted here: `migrate`
-- applies the declaration in DatabaseGrants (TierdeskKit) after every run, so a table added by a
-- later migration is granted there, in one place. Where the migrating user may not create roles (a
-- managed PostgreSQL), a warning says so and an operator creates them.
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['tierdesk_intake', 'tierdesk_triage', 'tierdesk_tier_queue', 'tierdesk_vendor_bridge', 'tierdesk_console']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', role_name);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN NULL;  -- created meanwhile by another migrator
                WHEN insufficient_privilege THEN
                    RAISE WARNING 'cannot create role %: create it (LOGIN) as a user who may, then run migrate again', role_name;
            END;
        END IF;
    END LOOP;
END
$$;
