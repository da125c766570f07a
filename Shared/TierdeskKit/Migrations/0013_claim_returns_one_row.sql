-- A claim answers one ticket or none, and says so to the planner. A set-returning function is
-- estimated at 1,000 rows unless told otherwise, so the claim's statement (the claimed ticket
-- joined to its requester) hashed the whole requesters table on every claim: 0.9 ms at 5,000
-- requesters, growing with every new requester, and half the claim's cost in the benchmark
-- (pgbench, 8 clients: 1,643 claims/s with the join as planned, 2,945/s without it).
ALTER FUNCTION claim_next_ticket(smallint, uuid, text[], integer, timestamptz, uuid, text, jsonb) ROWS 1;
