#!/usr/bin/env python3
"""Turns the raw outputs of scripts/bench into bench/results.json and BENCHMARKS.md."""
import datetime, json, os, re, subprocess, sys

out, mode = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
load = lambda name: json.load(open(os.path.join(out, name)))
text = lambda name: open(os.path.join(out, name)).read().strip()

def pgbench(clients, name="pgbench"):
    raw = text(f"{name}-{clients}.txt")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", raw).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", raw)
    return {"tps": tps, "latencyAverageMs": float(latency.group(1)) if latency else None}

results = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "mode": mode,
    "machine": {
        "nproc": int(subprocess.check_output(["nproc"]).strip()),
        "memoryKiB": int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)),
        "cpu": re.search(r"model name\s+: (.*)", open("/proc/cpuinfo").read()).group(1),
        "loadAverageStart": text("loadavg-start.txt"),
        "loadAverageEnd": text("loadavg-end.txt"),
        "swift": subprocess.check_output(["swift", "--version"], stderr=subprocess.STDOUT, text=True).splitlines()[0],
    },
    "postgres": json.loads(text("postgres.json")),
    "intake": {str(c): {"service": load(f"intake-{c}.json"), "pgbench": pgbench(c), "plain": pgbench(c, "plain")} for c in (16, 64)},
    "perTicket": {"before": load("counters-before.json"), "after": load("counters-after.json")},
    "routing": {"submit": load("routing-submit.json"), "report": load("routing.json"), "pipelineDrain": load("pipeline-drain.json"),
                "sustained": {"submit": load("sustained-submit.json"), "report": load("sustained.json")}},
    "claims": load("claims.json"),
    "notifications": load("notify.json"),
    "mail": load("mail.json"),
    "scale": {k: {"tickets": int(text(f"scale-{k}-tickets.txt")), "list": load(f"scale-{k}-list.json"), "claim": load(f"scale-{k}-claim.json")} for k in ("10k", "1m")},
    "memoryKiB": {"idle": load("memory-idle.json"), "underRoutingLoad": load("memory-load.json")},
    "console": {"queues": load("console-queues.json"), "ticket": load("console-ticket.json"),
                "queuesPaced": load("console-queues-paced.json"), "ticketPaced": load("console-ticket-paced.json")},
}
cpu_before, cpu_after = load("cpu-before.json"), load("cpu-after.json")
seconds = cpu_after["wall"] - cpu_before["wall"]
parts = {k: (cpu_after[k] - cpu_before[k]) / seconds for k in cpu_after if k != "wall"}
parts["load tool and the rest"] = parts["machine"] - sum(v for k, v in parts.items() if k != "machine")
results["routing"]["cpuCores"] = {"seconds": seconds, **parts}
results["routing"]["topStatements"] = load("statements-routing.json")
for c in ("16", "64"):
    i = results["intake"][c]
    i["ratioToPgbench"] = i["service"]["perSecond"] / i["pgbench"]["tps"] if i["pgbench"]["tps"] else None
    i["ratioToPlain"] = i["service"]["perSecond"] / i["plain"]["tps"] if i["plain"]["tps"] else None
routed = max(results["routing"]["report"]["queued"], 1)
before, after = results["perTicket"]["before"], results["perTicket"]["after"]
results["perTicket"].update({"tickets": routed, "commits": (after["commits"] - before["commits"]) / routed,
                             "walSyncs": (after["walSyncs"] - before["walSyncs"]) / routed, "notifies": 0})
json.dump(results, open(os.path.join(root, "bench", "results.json"), "w"), indent=2, sort_keys=True)

r = results
def ms(s, key): return f"{s[key]:.1f}"
def mb(kib): return f"{kib / 1024:.0f}"
i16, i64 = r["intake"]["16"], r["intake"]["64"]
route, routeSubmit = r["routing"]["report"], r["routing"]["submit"]
sustained, sustainedSubmit = r["routing"]["sustained"]["report"], r["routing"]["sustained"]["submit"]
def segments(report):
    return "\n".join(f"| {name} | {ms(s, 'p50Ms')} ms | {ms(s, 'p90Ms')} ms | {ms(s, 'p99Ms')} ms | {ms(s, 'p999Ms')} ms | {ms(s, 'maxMs')} ms |" for name, s in [
        ("submission → claimable", report["submissionToClaimable"]), ("intake (due → stored)", report["intake"]),
        ("stored → triaged", report["intakeToTriaged"]), ("triaged → queued", report["triagedToQueued"])])
claims = r["claims"]
s10, s1m = r["scale"]["10k"], r["scale"]["1m"]
def verdict(ok): return "met" if ok else "**missed**"
drain = r["routing"]["pipelineDrain"]
targets = [
    ("Intake ≥ 2,000 tickets/s at 16 clients, p99 < 25 ms", f"{i16['service']['perSecond']:.0f}/s, p99 {i16['service']['p99Ms']:.1f} ms ({i16['ratioToPgbench'] * 100:.0f} % of its statements in pgbench, {i16['ratioToPlain'] * 100:.0f} % of the plain limit)", i16["service"]["perSecond"] >= 2000 and i16["service"]["p99Ms"] < 25),
    ("Pipeline drains ≥ 1,500 tickets/s", f"{drain['perSecond']:.0f}/s", drain["perSecond"] >= 1500),
    (f"Routing at {routeSubmit['perSecond']:.0f} tickets/s (target 600/s for 60 s): p99 submission → claimable < 100 ms, 0 lost", f"p99 {route['submissionToClaimable']['p99Ms']:.1f} ms, lost {route['lost']}", route["submissionToClaimable"]["p99Ms"] < 100 and route["lost"] == 0),
    (f"(reported) routing at {sustainedSubmit['perSecond']:.0f} tickets/s (1,000/s asked)", f"p99 {sustained['submissionToClaimable']['p99Ms']:.1f} ms, lost {sustained['lost']}", sustained["lost"] == 0),
    ("Claims ≥ 1,500/s with 32 agents, none twice", f"{claims['claims']['perSecond']:.0f}/s, {claims['claimedTwice']} twice", claims["claims"]["perSecond"] >= 1500 and claims["claimedTwice"] == 0),
    ("1 M history: list p99 within 1.5× of 10 k", f"{s1m['list']['p99Ms']:.1f} vs {s10['list']['p99Ms']:.1f} ms", s1m["list"]["p99Ms"] <= 1.5 * s10["list"]["p99Ms"]),
    ("1 M history: claim p99 within 1.5× of 10 k", f"{s1m['claim']['claims']['p99Ms']:.1f} vs {s10['claim']['claims']['p99Ms']:.1f} ms", s1m["claim"]["claims"]["p99Ms"] <= 1.5 * s10["claim"]["claims"]["p99Ms"]),
    ("Console pages p99 < 100 ms at 50 concurrent agents (queues; a ticket), each agent a page a second",
     f"p99 {r['console']['queuesPaced']['p99Ms']:.1f} ms; {r['console']['ticketPaced']['p99Ms']:.1f} ms (saturated, 50 pages always in flight: {r['console']['queues']['p99Ms']:.0f} ms; {r['console']['ticket']['p99Ms']:.0f} ms)",
     r["console"]["queuesPaced"]["p99Ms"] < 100 and r["console"]["ticketPaced"]["p99Ms"] < 100),
    ("Mail out ≥ 200 mails/s from the outbox to a real SMTP server (STARTTLS, AUTH), none lost",
     f"{r['mail']['perSecond']:.0f} mails/s, {r['mail']['sent']} of {r['mail']['mails']} sent, {r['mail']['dead']} dead",
     r["mail"]["perSecond"] >= 200 and r["mail"]["sent"] == r["mail"]["mails"]),
    (f"(reported) notification latency, assignment → the agent's stream, {r['notifications']['streams']} agents connected",
     f"p50 {r['notifications']['eventToStream']['p50Ms']:.1f} ms, p99 {r['notifications']['eventToStream']['p99Ms']:.1f} ms; {r['notifications']['told']} of {r['notifications']['assigned']} told",
     r["notifications"]["missing"] == 0),
    ("Each service < 60 MB idle", ", ".join(f"{k} {mb(v)}" for k, v in r["memoryKiB"]["idle"].items()) + " MB", all(v < 60 * 1024 for v in r["memoryKiB"]["idle"].values())),
    ("Each service < 200 MB under load", ", ".join(f"{k} {mb(v)}" for k, v in r["memoryKiB"]["underRoutingLoad"].items()) + " MB", all(v < 200 * 1024 for v in r["memoryKiB"]["underRoutingLoad"].values())),
]
pg = r["postgres"]
notes_path = os.path.join(root, "bench", "NOTES.md")
notes = open(notes_path).read().strip() if os.path.exists(notes_path) else ""
md = f"""# Tierdesk benchmarks

Measured by `./scripts/bench` ({'**quick mode: not meaningful figures**' if mode == 'quick' else 'full run'}) on {r['date']}.
Machine: {r['machine']['nproc']} cores ({r['machine']['cpu']}), {r['machine']['memoryKiB'] // 1024 // 1024} GiB; {r['machine']['swift']};
load average {r['machine']['loadAverageStart']} at the start, {r['machine']['loadAverageEnd']} at the end. Everything runs on this one
machine at once: PostgreSQL, the four services (release builds) and the load tool. PostgreSQL {pg['version'].split(' on ')[0]},
shared_buffers {pg['shared_buffers']}, max_connections {pg['max_connections']}, fsync {pg['fsync']}, synchronous_commit {pg['synchronous_commit']}
(durable commits: every accepted ticket is on disk). Raw figures: `bench/results.json`.

## Targets

| target | measured | |
|---|---|---|
""" + "\n".join(f"| {name} | {value} | {verdict(ok)} |" for name, value, ok in targets) + f"""

## Intake: durable submissions

`tierdesk-bench submit` in a closed loop: each client sends `POST /v1/tickets` (a new ticket, 997 requesters), waits for the
201, sends the next. Beside it, `pgbench` runs `bench/intake-transaction.sql`, the statement a submission runs
(`submit_ticket`: the requester found or created, the duplicate check, ticket, event and outbox row; one statement, no
transaction around it, `-M prepared` as intake prepares it), and `bench/plain-ticket.sql`, the plain limit: one ticket
row and one event row per transaction, `-M prepared`.

| clients | intake tickets/s | p50 | p99 | p99.9 | errors | pgbench, intake's statements | plain limit | intake / its statements | intake / plain |
|---|---|---|---|---|---|---|---|---|---|
""" + "\n".join(f"| {c} | {i['service']['perSecond']:.0f} | {ms(i['service'], 'p50Ms')} ms | {ms(i['service'], 'p99Ms')} ms | {ms(i['service'], 'p999Ms')} ms | {i['service']['errors']} | {i['pgbench']['tps']:.0f} | {i['plain']['tps']:.0f} | {i['ratioToPgbench'] * 100:.0f} % | {i['ratioToPlain'] * 100:.0f} % |" for c, i in (("16", i16), ("64", i64))) + f"""

Intake is measured alone: during these runs its hand-offs wait in the outbox (no dispatch), so triage and tier-queue do not
compete for the two cores. Afterwards the normal intake starts and the backlog of {r['routing']['pipelineDrain']['tickets']} tickets drains
through triage and tier-queue at **{r['routing']['pipelineDrain']['perSecond']:.0f} tickets/s** (hand-offs in batches of up to 100: one request
and one transaction in triage per batch, the same in tier-queue): the throughput of the whole routing pipeline.

Per routed ticket during the {routeSubmit['perSecond']:.0f}/s run (pg_stat_database and pg_stat_wal around it, all services and the load):
**{r['perTicket']['commits']:.2f} commits**, **{r['perTicket']['walSyncs']:.2f} WAL flushes (fsyncs)**, **0 NOTIFY** (no code path sends one).

## Routing: submission to claimable

Open loop: `submit --rate` sends tickets on a fixed schedule whatever the answers, and every latency counts from when the
request was due (no coordinated omission). Each ticket goes intake → outbox → triage → outbox → tier-queue. The time to
claimable is from the due time to the `ticket.queued` event (the transaction that makes it claimable), read from the
database afterwards; the shares are intake (due → ticket stored), intake → triaged (outbox hand-off and triage),
triaged → queued (outbox hand-off and tier-queue).

**At {routeSubmit['perSecond']:.0f} tickets/s achieved** (600/s asked, the target's rate) for {routeSubmit['seconds']:.0f} s: sent {routeSubmit['count']}, {routeSubmit['errors']} errors;
{route['queued']} reached the queue, **{route['lost']} lost**. Where the arrival rate is above what the pipeline drains with intake
busy on the same two cores, the hand-offs queue up and latency grows through the run.

| segment | p50 | p90 | p99 | p99.9 | max |
|---|---|---|---|---|---|
""" + segments(route) + f"""

Where the time goes during this run (from the first submission until the last hand-off is delivered, {r['routing']['cpuCores']['seconds']:.0f} s):
the cores each part used (of {r['machine']['nproc']}), from `/proc` (`bench/cpu.py`), and the database's ten most expensive statements
(`pg_stat_statements`).

| part | cores |
|---|---|
""" + "\n".join(f"| {k} | {v:.2f} |" for k, v in r["routing"]["cpuCores"].items() if k != "seconds") + f"""

| calls | total ms | mean ms | rows | statement |
|---|---|---|---|---|
""" + "\n".join(f"| {s['calls']} | {s['totalMs']} | {s['meanMs']} | {s['rows']} | `{s['query'].replace('|', '¦')}` |" for s in r["routing"]["topStatements"]) + f"""

**At {sustainedSubmit['perSecond']:.0f} tickets/s achieved** (1,000/s asked) for {sustainedSubmit['seconds']:.0f} s, started once the previous backlog had drained:
sent {sustainedSubmit['count']}, {sustainedSubmit['errors']} errors; {sustained['queued']} reached the queue, **{sustained['lost']} lost**. The drain rate
above is the pipeline with intake idle; here intake's own work shares the two cores, and where the stored → triaged
figures grow through the run the pipeline is still behind the arrivals.

| segment | p50 | p90 | p99 | p99.9 | max |
|---|---|---|---|---|---|
""" + segments(sustained) + f"""

## Claims

{claims['agents']} agents claim from one level 2 queue of preloaded tickets until it is empty (`tierdesk-bench claim`), each
claim one statement: `claim_next_ticket` (an advisory lock per agent, its WIP limit, `UPDATE … FOR UPDATE SKIP LOCKED` and the event).

{claims['claims']['count']} claims in {claims['claims']['seconds']:.1f} s: **{claims['claims']['perSecond']:.0f} claims/s**, p50 {ms(claims['claims'], 'p50Ms')} ms,
p99 {ms(claims['claims'], 'p99Ms')} ms; {claims['distinctTickets']} distinct tickets, **{claims['claimedTwice']} claimed twice**, {claims['claims']['errors']} errors.

## Scale: cost does not grow with history

Level 3 holds about 1,000 queued tickets; the rest of the database is history. Listing is `GET /v1/queues/3?limit=50` from 8
clients for the run; claiming is 32 agents taking tickets from that queue.

| tickets in the database | list p50 | list p99 | claim p50 | claim p99 | claims/s |
|---|---|---|---|---|---|
""" + "\n".join(f"| {s['tickets']:,} | {ms(s['list'], 'p50Ms')} ms | {ms(s['list'], 'p99Ms')} ms | {ms(s['claim']['claims'], 'p50Ms')} ms | {ms(s['claim']['claims'], 'p99Ms')} ms | {s['claim']['claims']['perSecond']:.0f} |" for s in (s10, s1m)) + f"""

The history is loaded by `bench/load-history.sql` (`INSERT … SELECT` from `generate_series` inside the server).

## Console

50 clients, each an agent of level 3 signed in (`tierdesk-bench get --cookie`), load pages from the console on 18084,
which calls tier-queue (and intake and triage for the ticket page) over HTTP per page. Twice: at a person's pace (each
agent loads the page again 0.5-1.5 s after it answered, `--think-ms 1000`: busier than people are), and saturated (each
loads the next page the moment the last one answered: 50 pages always in flight, the machine's capacity). The target
speaks of 50 concurrent agents; the first is that, the second is what the two cores can serve.

| page | load | pages/s | p50 | p90 | p99 | errors |
|---|---|---|---|---|---|---|
""" + "\n".join(f"| {name} | {load} | {c['perSecond']:.0f} | {ms(c, 'p50Ms')} ms | {ms(c, 'p90Ms')} ms | {ms(c, 'p99Ms')} ms | {c['errors']} |" for name, load, c in (
    ("`/agent/` (the level's queue, my tickets)", "a page a second each", r["console"]["queuesPaced"]),
    ("`/agent/tickets/{id}` (history, requester's tickets, articles, problem, SLA)", "a page a second each", r["console"]["ticketPaced"]),
    ("`/agent/`", "saturated", r["console"]["queues"]), ("`/agent/tickets/{id}`", "saturated", r["console"]["ticket"]))) + f"""

## Mail out and notifications

`tierdesk-bench mail` writes {r['mail']['mails']} mails to intake's outbox at once and times them to the last `sent_at`:
intake's `MailDispatcher` (4 SMTP sessions, batches of 100, PIPELINING) sends them to aiosmtpd on loopback with
STARTTLS (a CA made for the run) and AUTH, which writes each to a file. **{r['mail']['perSecond']:.0f} mails/s**,
{r['mail']['sent']} sent, {r['mail']['dead']} dead, in {r['mail']['seconds']:.1f} s.

`tierdesk-bench notify` opens the live stream (`GET /v1/notifications/stream`) of {r['notifications']['streams']} agents of level 1
and has the admin assign tickets to them ({r['notifications']['assigned']} assignments); each latency is from the assignment request
being sent to its notification arriving on the agent's stream (the writer's replica rings its streams after the commit).

| | count | p50 | p90 | p99 | max |
|---|---|---|---|---|---|
""" + "\n".join(f"| {name} | {s['count']} | {ms(s, 'p50Ms')} ms | {ms(s, 'p90Ms')} ms | {ms(s, 'p99Ms')} ms | {ms(s, 'maxMs')} ms |" for name, s in (
    ("assignment request", r["notifications"]["assignment"]), ("assignment → event on the stream", r["notifications"]["eventToStream"]))) + f"""

## Memory (resident, MB)

| service | idle | peak under the routing load |
|---|---|---|
""" + "\n".join(f"| {k} | {mb(v)} | {mb(r['memoryKiB']['underRoutingLoad'][k])} |" for k, v in r["memoryKiB"]["idle"].items()) + f"""

## Reproduce

```sh
./scripts/bench        # release build, fresh private PostgreSQL on port 54331, services on 18080-18083
```

{notes}
"""
open(os.path.join(root, "BENCHMARKS.md"), "w").write(md)
