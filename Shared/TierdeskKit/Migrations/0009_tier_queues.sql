-- Tier queues: SLA in business time, the escalation hand-off contract, swarming.

-- The trail records the status and level each event left the ticket in (NULL: unchanged), so a
-- ticket's whole life (who held it when, every pause and its reason) can be read from the trail
-- alone: the SLA clock, breach attribution and reports all do.
ALTER TABLE ticket_events ADD COLUMN status text, ADD COLUMN tier smallint;

-- tier-queue: targets per priority; business_hours false runs around the clock.
CREATE TABLE sla_policies (
    priority smallint PRIMARY KEY CHECK (priority BETWEEN 1 AND 5),
    first_response_seconds integer NOT NULL CHECK (first_response_seconds > 0),
    resolution_seconds integer NOT NULL CHECK (resolution_seconds >= first_response_seconds),
    business_hours boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sla_policies (priority, first_response_seconds, resolution_seconds, business_hours) VALUES
    (1, 900, 14400, false), (2, 1800, 28800, true), (3, 7200, 86400, true), (4, 28800, 259200, true), (5, 86400, 432000, true);

-- tier-queue: the business calendar (one, named 'default').
CREATE TABLE calendars (
    name text PRIMARY KEY,
    time_zone text NOT NULL,
    week jsonb NOT NULL,
    holidays jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO calendars (name, time_zone, week) VALUES ('default', 'UTC',
    '{"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"], "thu": ["09:00", "17:00"], "fri": ["09:00", "17:00"]}');

-- tier-queue: when the SLA watcher looks at a ticket next, and what it has announced in the
-- current cycle (a reopen starts the next). A replica takes due rows FOR UPDATE SKIP LOCKED and
-- writes the announcement in the same transaction: each warning and breach happens exactly once.
CREATE TABLE sla_clocks (
    ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
    check_at timestamptz NOT NULL,
    cycle integer NOT NULL DEFAULT 1,
    warned_cycle integer NOT NULL DEFAULT 0,
    first_response_breached boolean NOT NULL DEFAULT false,
    breached_cycle integer NOT NULL DEFAULT 0
);
CREATE INDEX sla_clocks_check_idx ON sla_clocks (check_at);

-- tier-queue: what an escalation into a level must carry.
CREATE TABLE escalation_contracts (
    tier smallint PRIMARY KEY CHECK (tier BETWEEN 2 AND 4),
    fields jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);

-- tier-queue: escalate or swarm, per category (escalate when absent).
CREATE TABLE work_modes (
    category text PRIMARY KEY,
    mode text NOT NULL CHECK (mode IN ('escalate', 'swarm')),
    updated_at timestamptz NOT NULL
);

-- tier-queue: agents of any level helping a ticket's owner.
CREATE TABLE ticket_collaborators (
    ticket_id uuid NOT NULL REFERENCES tickets (id),
    agent_id uuid NOT NULL REFERENCES agents (id),
    added_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, agent_id)
);
CREATE INDEX ticket_collaborators_agent_idx ON ticket_collaborators (agent_id);

-- tier-queue: when push assignment last gave each agent a ticket (round-robin's order).
CREATE TABLE push_assignments (
    agent_id uuid PRIMARY KEY REFERENCES agents (id),
    last_assigned_at timestamptz NOT NULL
);

-- Reports find the tickets resolved, escalated, bounced, paused or reopened in a period by these events' time
-- (partial: the hot path's other events do not pay for it).
CREATE INDEX ticket_events_report_idx ON ticket_events (at)
    WHERE type IN ('ticket.resolved', 'ticket.escalated', 'ticket.deescalated', 'ticket.closed', 'ticket.pending', 'ticket.reopened');
