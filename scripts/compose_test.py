"""The steps of scripts/compose-test once the images and the project exist: docker-compose up, then
everything only through the gateway (http://127.0.0.1:8000), as an operator and the people using it
would. Standard library only; run by scripts/compose-test, which sets COMPOSE_TEST_*.

Steps: up and healthy; the administrator's token from POST /v1/bootstrap; agents of levels 1 and 2,
the demo vendor (its simulator started with the demo profile) and an integration key, through the
admin API; one ticket from the portal to level 1, level 2, the vendor simulator and back, resolved and
confirmed; a stream of submissions while a tier-queue container is killed and PostgreSQL restarted,
each retried with its Idempotency-Key until answered, then counted in the database (each exactly once,
queued once at level 1); down and up again, and every ticket still there.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

WORK = os.environ["COMPOSE_TEST_WORK"]
PROJECT = os.environ["COMPOSE_TEST_PROJECT"]
FILE = os.environ["COMPOSE_TEST_FILE"]
BREAK = os.environ.get("COMPOSE_TEST_BREAK", "")
GATEWAY = "http://127.0.0.1:8000"
ENV_FILE = f"{WORK}/tierdesk.env"
STREAM = int(os.environ.get("COMPOSE_TEST_SUBMISSIONS", "200"))
START = time.time()


def step(text):
    print(f"==> compose-test [{int(time.time() - START) + int(os.environ.get('SECONDS_BEFORE', '0')):3d} s] {text}", flush=True)


def fail(text):
    print(f"compose-test FAILED: {text}", file=sys.stderr, flush=True)
    sys.exit(1)


def compose(*args, check=True, capture=False, timeout=600):
    command = ["docker-compose", "-p", PROJECT, "--env-file", ENV_FILE, "-f", FILE, "-f", f"{WORK}/override.yml", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout if capture else result


class Pacer:
    """Keeps every request to the gateway under its per-address limit (10 a second, bursts of 20): all
    of this test's requests come from one address, the Docker network's gateway."""

    def __init__(self, per_second=8.0):
        self.interval, self.next, self.lock = 1.0 / per_second, time.time(), threading.Lock()

    def wait(self):
        with self.lock:
            now = time.time()
            at = max(now, self.next)
            self.next = at + self.interval
        time.sleep(max(0.0, at - now))


PACER = Pacer()


def http(method, path, body=None, token=None, headers=None, timeout=15):
    """One request through the gateway: (status, parsed body or text); status None when no answer came."""
    PACER.wait()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(GATEWAY + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except Exception as error:  # refused, reset or timed out: no answer
        return None, repr(error)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(status, answer, wanted, what):
    if status not in wanted:
        fail(f"{what}: answered {status}, expected {wanted}: {str(answer)[:600]}")
    return answer


def eventually(what, probe, timeout=90, every=0.5):
    """probe() until it returns something truthy; fails naming `what` after `timeout` seconds."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        last = probe()
        if last and last[0]:
            return last[0]
        time.sleep(every)
    fail(f"{what} did not happen within {timeout} s (last: {str(last and last[1])[:600]})")


def containers():
    """Each service's containers of the project (`docker ps -a`): {service: [(id, state, health)]}."""
    out = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format",
         '{{.ID}}\t{{.Label "com.docker.compose.service"}}'], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        cid, service = line.split("\t")
        state = json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .State}}", cid],
                                          capture_output=True, text=True, check=True).stdout)
        found.setdefault(service, []).append((cid, state))
    return found


def wait_healthy(services, timeout=240):
    """Every service's container running and healthy (the migration exited 0): the state compose's
    health checks decide, as an operator's `docker compose ps` shows it."""
    def probe():
        found = containers()
        waiting = []
        for service in services:
            states = found.get(service, [])
            if service == "migrate":
                if not states or any(s["Status"] != "exited" or s["ExitCode"] != 0 for _, s in states):
                    waiting.append(f"migrate {[(s['Status'], s['ExitCode']) for _, s in states]}")
                continue
            if not states:
                waiting.append(f"{service} (no container)")
            for _, state in states:
                health = (state.get("Health") or {}).get("Status", "none")
                if state["Status"] != "running" or health != "healthy":
                    waiting.append(f"{service} {state['Status']}/{health}")
        return (not waiting, waiting)
    eventually("every service healthy", probe, timeout=timeout, every=2)


def psql(sql):
    return compose("exec", "-T", "postgres", "psql", "-X", "-qtA", "-U", "tierdesk", "-d", "tierdesk", "-c", sql, capture=True).strip()


def main():
    services = [s for s in compose("config", "--services", capture=True).split() if s != "vendor-sim"]

    step("docker-compose up -d (the real file; the override only names the stand-in images)")
    began = time.time()
    result = compose("up", "-d", "--no-build", check=False)
    if result.returncode != 0:
        fail(f"up exited {result.returncode}:\n{result.stderr[-3000:]}")
    wait_healthy(services)
    up_seconds = time.time() - began
    step(f"healthy: {', '.join(sorted(services))} ({up_seconds:.0f} s from up)")

    status, page = http("GET", "/v1/tickets/00000000-0000-4000-8000-000000000000/nope")
    expect(status, page, [404], "an unknown /v1/ path at the gateway")
    status, page = http("GET", "/internal/v1/events")
    expect(status, page, [404], "/internal/ at the gateway")

    # The administrator: the bootstrap credential (TIERDESK_ADMIN_TOKEN) only creates the first one.
    bootstrap = open(f"{WORK}/secrets/admin_token").read().strip()
    status, answer = http("POST", "/v1/bootstrap", {"name": "Compose Administrator", "email": "admin@compose.test"}, token=bootstrap)
    admin = expect(status, answer, [200, 201], "POST /v1/bootstrap")["token"]
    status, answer = http("GET", "/v1/agents", token=bootstrap)
    expect(status, answer, [401, 403], "the bootstrap token on anything but POST /v1/bootstrap")
    step("the first administrator created through POST /v1/bootstrap; its personal token opens the admin API")

    agents = {}
    for tier in (1, 2):
        status, answer = http("POST", "/v1/agents", {"name": f"Level {tier}", "email": f"level{tier}@compose.test", "tiers": [tier]}, token=admin)
        agents[tier] = expect(status, answer, [201], f"POST /v1/agents (level {tier})")["token"]
    status, vendor = http("POST", "/v1/vendors", {"name": "Acme Network Services", "webhookUrl": "http://vendor-sim:8090/webhooks",
                                                  "categories": ["network"]}, token=admin)
    expect(status, vendor, [201], "POST /v1/vendors")
    with open(ENV_FILE, "a") as env:
        env.write(f"\nTIERDESK_VENDOR_SIM_KEY={vendor['apiKey']}\nTIERDESK_VENDOR_SIM_SECRET={vendor['signingSecret']}\n")
    compose("--profile", "demo", "up", "-d", "--no-build", "vendor-sim")
    wait_healthy(["vendor-sim"], timeout=120)
    step("agents of levels 1 and 2, the vendor, and its simulator (demo profile) running and healthy")

    # --- one ticket, the whole way -----------------------------------------------------------------
    status, ticket = http("POST", "/v1/tickets", {
        "requester": {"email": "dana@compose.test", "name": "Dana"}, "channel": "web", "subject": "VPN drops every hour",
        "description": "Since Monday the VPN disconnects every hour.", "impact": "medium", "urgency": "high", "category": "network"})
    expect(status, ticket, [201], "submitting from the portal (POST /v1/tickets)")
    tid, requester = ticket["id"], ticket["requesterToken"]

    def claim(tier):
        status, answer = http("POST", f"/v1/queues/{tier}/claim", token=agents[tier])
        if status == 200 and answer["id"] == tid:
            return answer, None
        if status in (200, 204):
            return None, f"{status} {answer and answer.get('id')}"
        fail(f"claiming at level {tier}: {status} {answer}")

    eventually("the ticket claimed at level 1", lambda: claim(1))
    status, answer = http("POST", f"/v1/tickets/{tid}/escalate", {"reason": "needs the network team"}, token=agents[1])
    expect(status, answer, [200], "escalating from level 1")
    eventually("the ticket claimed at level 2", lambda: claim(2))
    step(f"{ticket['reference']}: filed at the portal, claimed at level 1, escalated, claimed at level 2")
    status, answer = http("POST", f"/v1/tickets/{tid}/escalate", {"reason": "the line card", "toTier": 4, "vendorId": vendor["id"]}, token=agents[2])
    if expect(status, answer, [200], "escalating to the vendor")["status"] != "pending_vendor":
        fail(f"escalated to the vendor, the ticket is {answer['status']}")

    def back_from_vendor():
        status, answer = http("GET", f"/v1/tickets/{tid}", token=agents[2])
        current = answer if status == 200 else None
        return (current if current and current.get("status") == "in_progress" else None, f"{status} {str(current)[:200]}")

    eventually("the vendor simulator's resolution (the ticket back in progress at level 2)", back_from_vendor, timeout=60, every=1)
    step("the vendor simulator took the signed webhook, acknowledged, worked and resolved its case: back at level 2")
    status, answer = http("POST", f"/v1/tickets/{tid}/resolve", {"resolution": "Acme replaced a line card", "code": "vendor_fixed"}, token=agents[2])
    expect(status, answer, [200], "resolving at level 2")
    status, view = http("GET", f"/v1/tickets/{tid}", token=requester)
    if expect(status, view, [200], "the requester's view")["status"] != "resolved":
        fail(f"the requester sees {view['ticket']['status']}, not resolved")
    status, answer = http("POST", f"/v1/tickets/{tid}/confirm", token=requester)
    expect(status, answer, [200], "the requester confirming")
    status, view = http("GET", f"/v1/tickets/{tid}", token=requester)
    if view["status"] != "closed":
        fail(f"after the confirmation the ticket is {view['ticket']['status']}")
    status, deliveries = http("GET", f"/v1/vendors/{vendor['id']}/deliveries", token=admin)
    kinds = sorted({d["type"] for d in expect(status, deliveries, [200], "the vendor's webhook deliveries")["items"] if d["status"] == "delivered"})
    step(f"resolved at level 2 and confirmed by the requester: closed; webhooks delivered: {', '.join(kinds)}")

    # --- a stream of submissions through a tier-queue crash and a PostgreSQL restart ----------------
    status, integration = http("POST", "/v1/integrations", {"name": "compose-test", "channels": ["api"], "ratePerMinute": 100000}, token=admin)
    key = expect(status, integration, [201], "POST /v1/integrations")["key"]
    results, refused, lock = {}, [], threading.Lock()
    retries = {"count": 0}

    def submit(n):
        body = {"requester": {"email": f"stream{n % 40}@compose.test"}, "channel": "api", "subject": f"compose-stream-{n}",
                "description": "Submitted while the system is being broken."}
        while True:
            status, answer = http("POST", "/v1/tickets", body, token=key, headers={"Idempotency-Key": f"compose-stream-{n}"}, timeout=20)
            if status in (200, 201):
                with lock:
                    results[n] = answer["id"]
                return
            if status is not None and status not in (429, 502, 503, 504):
                with lock:
                    refused.append(f"submission {n}: {status} {answer}")
                return
            with lock:
                retries["count"] += 1
            time.sleep(1)

    def submitter(worker, count=4):
        for n in range(worker, STREAM, count):
            submit(n)

    threads = [threading.Thread(target=submitter, args=(w,)) for w in range(4)]
    step(f"streaming {STREAM} submissions (api channel, each with its Idempotency-Key, retried until answered)")
    for thread in threads:
        thread.start()
    time.sleep(4)
    victim = containers()["tier1-queue"][0]
    subprocess.run(["kill", "-KILL", str(victim[1]["Pid"])], check=True)
    step(f"tier1-queue's process SIGKILLed ({len(results)} submissions answered so far); Docker restarts it (restart: unless-stopped)")
    time.sleep(6)
    step(f"restarting PostgreSQL (docker-compose restart postgres; {len(results)} answered so far)")
    compose("restart", "postgres")
    for thread in threads:
        thread.join()
    if refused:
        fail(f"{len(refused)} submissions refused with other than 429, 502, 503 or 504 (never 500): {refused[:3]}")
    step(f"all {STREAM} submissions answered ({retries['count']} retries of a 502/503/504/429 or no answer)")

    wait_healthy(services, timeout=120)

    def counted():
        row = psql("""SELECT count(*), count(DISTINCT subject),
              count(*) FILTER (WHERE status = 'queued' AND tier = 1),
              count(*) FILTER (WHERE (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.type = 'ticket.queued') = 1)
            FROM tickets t WHERE subject LIKE 'compose-stream-%'""")
        total, distinct, queued, once = map(int, row.split("|"))
        ok = total == STREAM and distinct == STREAM and queued == STREAM and once == STREAM
        return ok, f"{total} tickets, {distinct} distinct, {queued} queued at level 1, {once} queued exactly once"

    summary = eventually("every streamed ticket stored once and queued once at level 1", lambda: (counted()[1] if counted()[0] else None, counted()[1]),
                         timeout=120, every=2)
    if len(set(results.values())) != STREAM:
        fail(f"{len(set(results.values()))} distinct ids answered for {STREAM} submissions")
    dead = psql("SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL")
    if dead != "0":
        fail(f"{dead} hand-offs dead-lettered")
    restarts = containers()["tier1-queue"][0][1]
    step(f"counted in the database: {summary}; no dead letters (tier1-queue restarted by Docker: {restarts['Status']})")

    # --- down, up: the data stays ---------------------------------------------------------------------
    step("docker-compose down, then up -d")
    compose("--profile", "demo", "down")
    compose("up", "-d", "--no-build")
    wait_healthy(services)
    status, view = http("GET", f"/v1/tickets/{tid}", token=requester)
    if expect(status, view, [200], "the first ticket after down and up")["status"] != "closed":
        fail(f"after down and up the ticket is {view['ticket']['status']}")
    status, answer = http("GET", "/v1/queues/1?limit=200", token=agents[1])
    expect(status, answer, [200], "level 1's queue after down and up (the agent's token still works)")
    ok, summary = counted()
    if not ok:
        fail(f"after down and up: {summary}")
    step(f"after down and up: the ticket still closed, the agents' tokens work, {summary}")


if __name__ == "__main__":
    main()
