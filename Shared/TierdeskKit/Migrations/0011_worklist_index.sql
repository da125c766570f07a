-- An agent's worklist (held and swarmed tickets, `GET /v1/agents/me/tickets`, the console's queue
-- page) by index: the agent's open tickets, whatever their status (pending on a customer or a
-- vendor included). Without it the worklist read every open ticket and probed the swarm for each:
-- the console's queue page took 3.5 s at 50 agents over 50,000 tickets (BENCH_QUICK).
CREATE INDEX tickets_holder_idx ON tickets (assignee_id) WHERE status NOT IN ('resolved', 'closed');
