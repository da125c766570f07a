"""Browser tests of the console: headless Chromium against the real running system.

Run by scripts/browser-test, which starts the system and passes its URLs and tokens in the
environment. Each flow walks the pages as a person would; screenshots of the main pages go to
$SCREENSHOTS (docs/screenshots when refreshed).
"""
import email
import email.policy
import json
import os
import re
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CONSOLE = os.environ["CONSOLE_URL"]
INTAKE = os.environ["INTAKE_URL"]
TIER_QUEUE = os.environ["TIER_QUEUE_URL"]
ADMIN = os.environ["TIERDESK_DEMO_ADMIN_TOKEN"]
LEVEL1, LEVEL2, LEVEL3 = (os.environ[f"TIERDESK_DEMO_TIER{n}_TOKEN"] for n in (1, 2, 3))
VENDOR = os.environ["TIERDESK_DEMO_VENDOR_KEY"]
SHOTS = os.environ.get("SCREENSHOTS", "")
failures = []


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100"]:
        options.add_argument(argument)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return webdriver.Chrome(options=options, service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")))


def check(condition, what):
    print(("  ok   " if condition else "  FAIL ") + what)
    if not condition:
        failures.append(what)


def eventually(probe, what, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception:
            pass
        time.sleep(0.5)
    check(False, what + " (gave up after %d s)" % timeout)
    return None


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def submit(driver, element_id):
    """Clicks a form's button and waits for the page it leads to."""
    button = driver.find_element(By.ID, element_id)
    button.click()

    def left(_):
        # The old page's button is gone once the next page loaded (Chromium may say so as a stale
        # element or as a node that no longer belongs to the document).
        try:
            button.is_enabled()
            return False
        except Exception:
            return True
    WebDriverWait(driver, 30).until(left)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def banner(driver, kind):
    """The page's notice or error (kind), or "" when it has none."""
    found = driver.find_elements(By.ID, kind)
    return found[0].text if found else ""


def api(method, url, token=None, body=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        data = response.read()
        return json.loads(data) if data else None


# WCAG 2.1: every text's contrast against its background (the nearest opaque one) at least 4.5:1,
# and every form control named by a label or aria-label.
ACCESSIBILITY = """
function channels(color) { const m = color.match(/[0-9.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; }
function luminance(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function background(el) {
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const c = channels(getComputedStyle(node).backgroundColor);
    if (c.a > 0.5) return c;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
const problems = [];
for (const el of document.querySelectorAll('body *')) {
  if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const fg = luminance(channels(getComputedStyle(el).color)), bg = luminance(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) problems.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
}
for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const labelled = (control.id && document.querySelector('label[for="' + control.id + '"]')) || control.closest('label') || control.getAttribute('aria-label');
  if (!labelled) problems.push('unlabelled ' + control.tagName + ' ' + (control.name || ''));
}
if (!document.documentElement.lang) problems.push('no lang');
if (!document.querySelector('main')) problems.push('no main landmark');
return problems;
"""


def earlier_reference(driver, subject):
    """The reference (TD-n) of the listed ticket with `subject` on the requester's list."""
    for row in driver.find_elements(By.CSS_SELECTOR, "#my-tickets tbody tr"):
        if subject in row.text:
            return row.find_element(By.CSS_SELECTOR, "a").text
    return subject


def mailed_link(recipient, subject):
    """The first link in the text of the newest mail to `recipient` whose subject holds `subject`,
    as the SMTP server received it (MAIL_DIR, one .eml file per mail)."""
    folder = os.environ["MAIL_DIR"]
    for name in sorted(os.listdir(folder), reverse=True) if os.path.isdir(folder) else []:
        with open(os.path.join(folder, name), "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        if recipient in str(message["To"]) and subject in str(message["Subject"]):
            match = re.search(r"https?://\S+", message.get_body(preferencelist=("plain",)).get_content())
            return match.group(0) if match else None
    return None


def accessible(driver, page):
    problems = driver.execute_script(ACCESSIBILITY)
    check(not problems, "%s: contrast and labels (%s)" % (page, "; ".join(problems[:5])))


def sign_in(driver, token):
    driver.get(CONSOLE + "/signin")
    driver.find_element(By.ID, "token").send_keys(token)
    submit(driver, "signin-button")


def file_ticket(driver, email, subject, description):
    driver.get(CONSOLE + "/tickets/new")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "subject").send_keys(subject)
    driver.find_element(By.ID, "description").send_keys(description)
    submit(driver, "submit-ticket")
    return driver.current_url.split("?")[0].rsplit("/", 1)[-1].lower()


def told_live():
    """Issue 25: an agent with the queue page open sees a new ticket arrive in the queue and is told
    when the admin assigns it, both pushed over the page's event stream, with no reload."""
    print("An agent with the queue page open is told live when the admin assigns them a ticket")
    watcher = browser()
    try:
        sign_in(watcher, LEVEL1)
        check(watcher.current_url.endswith("/agent/"), "the level 1 agent has the queue page open")
        watcher.execute_script("window.tierdeskNoReload = true;")
        eventually(lambda: watcher.find_element(By.ID, "unread-count").get_attribute("data-loaded") == "true", "the header's count is loaded")
        before = text(watcher, "unread-count")
        unread = int(before) if before.strip().isdigit() else 0
        created = api("POST", INTAKE + "/v1/tickets", body={
            "requester": {"email": "ivan@example.com", "name": "Ivan"}, "channel": "web",
            "subject": "Keyboard keys stick", "description": "Several keys of my keyboard stick since this morning."})
        ticket = created["id"]

        def queued():
            found = api("GET", TIER_QUEUE + "/v1/tickets/" + ticket, token=ADMIN)
            return found if found["status"] == "queued" and found["tier"] == 1 else None
        check(bool(eventually(queued, "the new ticket is queued at level 1")), "the new ticket waits at level 1")
        row = eventually(lambda: watcher.find_elements(By.CSS_SELECTOR, "#queue-1 tr[data-ticket='%s']" % ticket),
                         "the queue page shows the new ticket without a reload", timeout=20)
        check(bool(row), "the queue refreshed itself from the stream (no polling)")
        me = api("GET", TIER_QUEUE + "/v1/agents/me", token=LEVEL1)
        started = time.time()
        api("POST", TIER_QUEUE + "/v1/tickets/%s/reassign" % ticket, token=ADMIN, body={"agentId": me["id"], "note": "yours, please"})
        reference = created["reference"]
        told = eventually(lambda: [li for li in watcher.find_elements(By.CSS_SELECTOR, "#latest-notifications li") if reference in li.text],
                          "the assignment is shown in the header's list", timeout=20)
        check(bool(told), "the agent is told of the assignment live (%.1f s after the admin's request)" % (time.time() - started))
        check(text(watcher, "unread-count") == str(unread + 1), "the header's unread count went up by one (%r)" % text(watcher, "unread-count"))
        check(watcher.execute_script("return window.tierdeskNoReload === true;"), "the page was not reloaded")
        shot(watcher, "agent-notified")
        accessible(watcher, "agent-notified")
        watcher.find_element(By.ID, "notifications-link").click()
        WebDriverWait(watcher, 30).until(lambda d: d.find_elements(By.ID, "notifications"))
        check(reference in text(watcher, "notifications") and text(watcher, "page-unread") == str(unread + 1),
              "the notifications page lists it as unread")
        submit(watcher, "mark-all-read")
        check(text(watcher, "page-unread") == "0", "mark all read")
        accessible(watcher, "agent-notifications")
    finally:
        watcher.quit()


def single_sign_on():
    """An agent of level 2 by group signs in through the OpenID provider's own login page."""
    provider = os.environ["OIDC_ISSUER"]
    api("PUT", provider + "/users/sso-lena", body={
        "email": "lena.sso@example.com", "email_verified": True, "name": "Lena Single", "groups": ["helpdesk-l2"]})
    driver = browser()
    try:
        driver.get(CONSOLE + "/signin")
        driver.find_element(By.ID, "signin-oidc").click()
        WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(provider) and d.find_elements(By.NAME, "sub"))
        driver.find_element(By.NAME, "sub").send_keys("sso-lena")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]:not([name])").click()
        WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(CONSOLE + "/agent/"))
        check("Level 2" in driver.page_source and driver.find_elements(By.ID, "signout"),
              "an agent of level 2 by group signs in through the provider's login page and sees level 2's queue")
        accessible(driver, "sso-agent-queues")
        submit(driver, "signout")
        WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(provider))
        check("end_session" in driver.current_url, "sign-out goes on to the provider's sign-out")
    finally:
        driver.quit()


def main():
    requester, agent = browser(), browser()
    try:
        print("A requester finds no answer, files a ticket and sees it routed")
        requester.get(CONSOLE + "/?q=" + urllib.request.quote("qwxzy plorbic"))
        check(len(requester.find_elements(By.ID, "no-results")) == 1, "the search says nothing matches")
        shot(requester, "portal-search")
        accessible(requester, "portal-search")
        print("A requester finds an answer instead: a Level 0 resolution")
        requester.get(CONSOLE + "/?q=printer")
        articles = requester.find_elements(By.CSS_SELECTOR, "#results a.article")
        check(bool(articles), "searching 'printer' finds articles")
        articles[0].click()
        WebDriverWait(requester, 30).until(lambda d: d.find_elements(By.ID, "solved-button"))
        requester.find_element(By.ID, "solved-email").send_keys("gina@example.com")
        requester.find_element(By.ID, "solved-subject").send_keys("Cannot find the office printer")
        submit(requester, "solved-button")
        check("Glad it helped" in text(requester, "notice"), "'this solved it' is recorded")
        shot(requester, "portal-article")
        accessible(requester, "portal-article")
        earlier = file_ticket(requester, "erin@example.com", "Monitor flickers", "The second monitor flickers at times.")
        # Worked and resolved already: it is the requester's history the agent will see, not in the queue.
        first = eventually(lambda: api("POST", TIER_QUEUE + "/v1/queues/1/claim", token=LEVEL1), "level 1 takes the earlier ticket")
        api("POST", TIER_QUEUE + "/v1/tickets/%s/resolve" % first["id"], token=LEVEL1, body={"resolution": "Cable replaced", "code": "fixed"})
        requester.get(CONSOLE + "/tickets/new")
        requester.find_element(By.ID, "subject").send_keys("VPN drops every hour")
        suggestions = eventually(lambda: requester.find_elements(By.CSS_SELECTOR, "#draft-suggestions a.article"), "articles are suggested from the draft")
        check(bool(suggestions), "the new-ticket form suggests articles as the subject is typed")
        shot(requester, "portal-new-ticket")
        accessible(requester, "portal-new-ticket")
        ticket = file_ticket(requester, "erin@example.com", "VPN drops every hour", "Since Monday the VPN disconnects every hour on the dot.")
        check("is filed" in text(requester, "notice"), "the ticket page confirms the filing")

        def routed():
            requester.get(CONSOLE + "/t/" + ticket)
            return text(requester, "status") == "queued" and text(requester, "level") == "level 1"
        check(bool(eventually(routed, "the ticket is routed to level 1")), "the requester sees it queued at level 1")
        shot(requester, "portal-ticket")
        accessible(requester, "portal-ticket")

        print("The ticket's link opens it in another browser: the key rides in the fragment, is checked, and leaves the address")
        link = requester.find_element(By.ID, "ticket-link-address").get_attribute("href")
        check("/t/%s#token=tdr_" % ticket in link.lower(), "the ticket page gives the requester its link, the key in the fragment")
        elsewhere = browser()
        try:
            elsewhere.get(link)
            WebDriverWait(elsewhere, 30).until(lambda d: d.find_elements(By.ID, "ticket-ref"))
            check("VPN drops" in text(elsewhere, "ticket-ref"), "the link opens the ticket in a second browser")
            check("token" not in elsewhere.current_url, "the key is gone from the address (%s)" % elsewhere.current_url)
            check(all(not c["value"].startswith("tdr_") for c in elsewhere.get_cookies()), "no cookie holds the key")
        finally:
            elsewhere.quit()

        print("A level 1 agent claims it, sees the history and a suggested article, escalates with the required fields")
        sign_in(agent, LEVEL1)
        check(agent.current_url.endswith("/agent/"), "the agent lands on the queues")
        check(all(LEVEL1 not in c["value"] for c in agent.get_cookies()), "the agent's token is in no cookie")
        agent.get(CONSOLE + "/t/" + ticket + "?token=tdr_xxxxxxxxxxxxxxxxxxxx")
        agent.get(CONSOLE + "/agent/")
        check(agent.current_url.endswith("/agent/"), "a token in a ticket link's query leaves the staff session alone")
        eventually(lambda: agent.find_elements(By.CSS_SELECTOR, "#queue-1 tr[data-ticket='%s']" % ticket) or agent.refresh(), "the ticket is in the level 1 queue")
        shot(agent, "agent-queues")
        accessible(agent, "agent-queues")
        agent.find_element(By.ID, "filter-category").send_keys("printing")
        submit(agent, "apply-filters")
        check(not agent.find_elements(By.CSS_SELECTOR, "#queue-1 tr[data-ticket='%s']" % ticket), "filtering the queue by another category hides the ticket")
        agent.get(CONSOLE + "/agent/?category=network&priority=")
        check(bool(agent.find_elements(By.CSS_SELECTOR, "#queue-1 tr[data-ticket='%s']" % ticket)), "filtering by its category shows it")
        agent.get(CONSOLE + "/agent/")
        submit(agent, "claim-1")
        check(("/agent/tickets/" + ticket) in agent.current_url.lower(), "claim next opens the claimed ticket (%s)" % agent.current_url)
        check("erin" in text(agent, "ticket-ref").lower() or "VPN drops" in text(agent, "ticket-ref"), "the ticket page shows the ticket")
        check(len(agent.find_elements(By.CSS_SELECTOR, "#requester-history li")) >= 1, "the requester's other ticket is listed")
        check(len(agent.find_elements(By.CSS_SELECTOR, "#suggested-articles li")) >= 1, "a knowledge-base article is suggested")
        shot(agent, "agent-ticket")
        accessible(agent, "agent-ticket")
        agent.find_element(By.ID, "escalate-reason").send_keys("Needs the VPN gateway logs")
        for field in agent.find_elements(By.CSS_SELECTOR, "#escalate textarea"):
            field.send_keys("Reconnected, reinstalled the client; one user")
        submit(agent, "escalate-button")
        check("went to level 2" in text(agent, "notice"), "the escalation is confirmed")

        print("A level 2 agent resolves it with a published article")
        sign_in(agent, LEVEL2)
        eventually(lambda: agent.find_elements(By.CSS_SELECTOR, "#queue-2 tr[data-ticket='%s']" % ticket) or agent.refresh(), "the ticket is in the level 2 queue")
        submit(agent, "claim-2")
        check(("/agent/tickets/" + ticket) in agent.current_url.lower(), "level 2 claims it")
        Select(agent.find_element(By.ID, "pending-reason")).select_by_value("awaiting_customer_info")
        submit(agent, "pending-button")
        check("clock is paused" in text(agent, "notice"), "level 2 waits for the requester")
        timeline = text(agent, "sla-timeline")
        check("level 1" in timeline and "level 2" in timeline and "Paused: awaiting customer info" in timeline,
              "the SLA timeline shows both levels and the pause (%s)" % timeline[:300])
        Select(agent.find_element(By.ID, "collaborator-agent")).select_by_visible_text(
            next(o.text for o in Select(agent.find_element(By.ID, "collaborator-agent")).options if o.text.startswith("Carol Specialist")))
        submit(agent, "collaborate-button")
        check("in the swarm" in text(agent, "notice"), "level 2 asks Carol (level 3), picked by name, to swarm")
        check(all("Bob Backoffice" not in o.text for o in Select(agent.find_element(By.ID, "reassign-agent")).options),
              "the reassign list holds the level's other agents, not the agent itself")
        agent.find_element(By.ID, "resolution").send_keys("The gateway dropped idle tunnels after 60 minutes; the timeout is raised.")
        Select(agent.find_element(By.ID, "code")).select_by_value("fixed")
        agent.find_element(By.ID, "publish").click()
        agent.find_element(By.ID, "article-title").send_keys("VPN tunnels drop after an hour of idling")
        agent.find_element(By.ID, "article-body").send_keys("The gateway closed idle tunnels after 60 minutes. It now keeps them for 8 hours.")
        submit(agent, "resolve-button")
        check("article is written" in text(agent, "notice"), "resolved with the article")

        print("The requester sees it resolved, confirms, and finds the new article")
        requester.get(CONSOLE + "/t/" + ticket)
        check(text(requester, "status") == "resolved", "the requester sees it resolved")
        submit(requester, "confirm-button")
        check(text(requester, "status") == "closed", "confirming closes it")
        print("The requester signs in by email in a second browser, sees both tickets and rates the resolved one")
        second = browser()
        try:
            second.get(CONSOLE + "/sign-in")
            second.find_element(By.ID, "sign-in-email").send_keys("erin@example.com")
            submit(second, "request-sign-in-button")
            check("sign-in link is on its way" in text(second, "notice"), "asking for a link says one is on its way")
            link = eventually(lambda: mailed_link("erin@example.com", "sign-in link"), "the sign-in link is mailed")
            check(bool(link) and "/sign-in#token=" in link, "the mailed link carries its key in the fragment")
            second.get(link)
            WebDriverWait(second, 30).until(lambda d: d.find_elements(By.ID, "my-tickets"))
            check("#" not in second.current_url, "the key leaves the address bar")
            listed = second.find_element(By.ID, "my-tickets").text
            check("Monitor flickers" in listed and "VPN drops" in listed, "the signed-in requester sees both tickets")
            shot(second, "portal-my-tickets")
            accessible(second, "portal-my-tickets")
            second.find_element(By.LINK_TEXT, earlier_reference(second, "Monitor flickers")).click()
            WebDriverWait(second, 30).until(lambda d: d.find_elements(By.ID, "satisfaction-form"))
            second.find_element(By.ID, "rating-5").click()
            second.find_element(By.ID, "satisfaction-comment").send_keys("Fixed the same day")
            submit(second, "satisfaction-button")
            check("answer is saved" in text(second, "notice"), "the rating is saved")
            check("5 of 5" in text(second, "satisfaction-given"), "the page shows the rating given")
            accessible(second, "portal-satisfaction")
            second.get(CONSOLE + "/my")
            check("5 of 5" in second.find_element(By.ID, "my-tickets").text, "the list shows the rating")
            # Using the link again does nothing: it worked once.
            third = browser()
            try:
                third.get(link)
                WebDriverWait(third, 30).until(lambda d: d.find_elements(By.ID, "error"))
                check("used, expired" in text(third, "error"), "a used link is refused")
            finally:
                third.quit()
        finally:
            second.quit()
        # Level 2 wrote a draft: level 3 reviews and publishes it (through the API; the console has no review page yet).
        draft = eventually(
            lambda: [a for a in api("GET", INTAKE + "/v1/kb/drafts", token=LEVEL3)["items"] if "idling" in a["title"]],
            "level 2's article waits as a draft for level 3")
        if draft:
            api("POST", INTAKE + "/v1/kb/articles/%s/publish" % draft[0]["id"], token=LEVEL3)
        found = eventually(
            lambda: requester.get(CONSOLE + "/?q=" + urllib.request.quote("VPN tunnels idling"))
            or [a for a in requester.find_elements(By.CSS_SELECTOR, "#results a.article") if "idling" in a.text],
            "the new article is found by search")
        check(bool(found), "the published article is found by search")

        print("Text from users is shown as text; forms need their CSRF token; a link opens only its own ticket")
        hostile = file_ticket(requester, "mallory@example.com", "<script>document.title='owned'</script>", "<img src=x onerror=alert(1)>")
        check("<script>" in text(requester, "ticket-ref") and requester.title != "owned", "a <script> in the subject is shown as text")
        check(len(requester.find_elements(By.CSS_SELECTOR, "#description img")) == 0, "markup in the description is not rendered")
        status = requester.execute_script(
            "const r = new XMLHttpRequest(); r.open('POST', '/t/%s/reply', false);"
            "r.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); r.send('message=forged'); return r.status;" % hostile)
        check(status == 403, "a form posted without the CSRF token is refused (got %s)" % status)
        requester.get(CONSOLE + "/t/" + earlier)  # the cookie now holds the hostile ticket's token
        check("Monitor flickers" not in requester.page_source and len(requester.find_elements(By.ID, "error")) == 1,
              "a requester's link shows nothing of another ticket")

        print("An admin creates a rule, and its dry run explains a draft")
        sign_in(agent, ADMIN)
        check(agent.current_url.endswith("/admin/"), "the admin lands on the administration")
        agent.get(CONSOLE + "/admin/agents")
        agent.find_element(By.ID, "agent-name").send_keys("Hana")
        agent.find_element(By.ID, "agent-email").send_keys("hana@example.com")
        agent.find_element(By.ID, "agent-tiers").send_keys("1")
        submit(agent, "create-agent")
        issued = text(agent, "issued-token")
        check("tda_" in issued and "tda_" not in agent.current_url, "a new agent's token is shown once on the page, never in the address")
        agent.find_element(By.ID, "agent-name").send_keys("Ines")
        agent.find_element(By.ID, "agent-email").send_keys("ines@example.com")
        Select(agent.find_element(By.ID, "agent-role")).select_by_value("auditor")
        submit(agent, "create-agent")
        auditor_token = text(agent, "issued-token").split()[-1]
        check("Ines" in text(agent, "agents") and "auditor" in text(agent, "agents"), "an auditor is created with no level")
        auditor = browser()
        sign_in(auditor, auditor_token)
        check(auditor.current_url.endswith("/agent/reports"), "the auditor lands on the reports")
        auditor.get(CONSOLE + "/admin/agents")
        check("/signin" in auditor.current_url, "the auditor cannot open the administration")
        auditor.quit()
        agent.get(CONSOLE + "/admin/rules")
        agent.find_element(By.ID, "rule-name").send_keys("Toner to level 2")
        agent.find_element(By.ID, "rule-position").send_keys("5")
        agent.find_element(By.ID, "rule-keywords").send_keys("toner cartridge")
        Select(agent.find_element(By.ID, "rule-tier")).select_by_value("2")
        submit(agent, "create-rule")
        check("created" in text(agent, "notice") and "Toner to level 2" in text(agent, "rules"), "the rule is created and listed")
        agent.find_element(By.ID, "draft-subject").send_keys("Toner cartridge empty")
        agent.find_element(By.ID, "draft-description").send_keys("The toner cartridge of the second floor printer is empty.")
        agent.find_element(By.ID, "run-dry-run").click()
        eventually(lambda: agent.find_elements(By.ID, "explanation"), "the dry run answers")
        explanation = text(agent, "explanation")
        check("level 2" in explanation and "Toner to level 2: matched: keyword 'toner cartridge'" in explanation, "the dry run explains where the draft lands and why")
        shot(agent, "admin-rules")
        accessible(agent, "admin-rules")
        agent.get(CONSOLE + "/admin/sla")
        field = agent.find_element(By.ID, "resolution-P5")
        field.clear()
        field.send_keys("7200")
        field.submit()
        WebDriverWait(agent, 30).until(lambda d: d.find_elements(By.ID, "notice") or d.find_elements(By.ID, "error"))
        shot(agent, "admin-sla")
        accessible(agent, "admin-sla")
        check(bool(agent.find_elements(By.ID, "notice")) and "P5 saved" in text(agent, "notice") and agent.find_element(By.ID, "resolution-P5").get_attribute("value") == "7200",
              "the admin changes P5's resolution target (%s)" % agent.find_element(By.ID, "main").text[:200])

        print("The admin edits an escalation contract, a work mode, the VIPs and the vendors")
        # Level 3's fields stay reproduction and logs: level 2 escalates with just those further down.
        agent.get(CONSOLE + "/admin/contracts")
        contract = agent.find_element(By.ID, "contract-3")
        check(contract.get_attribute("value").splitlines() == ["reproduction: Reproduction", "logs: Logs"], "level 3's contract is in its form")
        contract.clear()
        contract.send_keys("reproduction: Reproduction\nbad name: Nope")
        submit(agent, "save-contract-3")
        check("fields[1].name" in banner(agent, "error") and "Nope" not in text(agent, "contract-3-fields"),
              "a contract the API refuses is not saved, and its refusal is shown (%s)" % banner(agent, "error"))
        contract = agent.find_element(By.ID, "contract-3")
        contract.clear()
        contract.send_keys("reproduction: Steps to reproduce\nlogs: Logs")
        submit(agent, "save-contract-3")
        check("Level 3's contract is saved" in banner(agent, "notice") and "Steps to reproduce" in text(agent, "contract-3-fields"),
              "the admin relabels a field of level 3's contract")
        check("Asks for nothing" in text(agent, "contract-4-fields"), "level 4 asks for nothing")
        shot(agent, "admin-contracts")
        accessible(agent, "admin-contracts")
        agent.get(CONSOLE + "/admin/work-modes")
        agent.find_element(By.ID, "mode-category").send_keys("Printing")
        Select(agent.find_element(By.ID, "mode-mode")).select_by_value("swarm")
        submit(agent, "set-work-mode")
        mode = lambda: agent.find_element(By.CSS_SELECTOR, "#work-modes tr[data-category='printing'] td").text
        check("now works in swarm mode" in banner(agent, "notice") and mode() == "swarm", "the admin makes printing swarm")
        Select(agent.find_element(By.ID, "work-mode-printing")).select_by_value("escalate")
        submit(agent, "save-mode-printing")
        check("escalate mode" in banner(agent, "notice") and mode() == "escalate", "and changes it back to escalate in its row")
        accessible(agent, "admin-work-modes")
        submit(agent, "remove-mode-printing")
        check("escalates again" in banner(agent, "notice") and "printing" not in text(agent, "work-modes"), "and removes it")
        agent.find_element(By.ID, "mode-category").send_keys("no/such category")
        submit(agent, "set-work-mode")
        check(bool(banner(agent, "error")), "a category that is not a slug is refused (%s)" % banner(agent, "error"))
        agent.get(CONSOLE + "/admin/vip")
        check("ceo@nordlicht.example" in text(agent, "vips"), "the demo's VIP is listed")
        agent.find_element(By.ID, "vip-entry").send_keys("Board.Example")
        submit(agent, "add-vip")
        check("VIP is added" in banner(agent, "notice") and "board.example" in text(agent, "vips"), "the admin adds a VIP domain")
        accessible(agent, "admin-vip")
        remove = agent.find_element(By.CSS_SELECTOR, "#vips tr[data-entry='board.example'] button")
        submit(agent, remove.get_attribute("id"))
        check("Removed" in banner(agent, "notice") and "board.example" not in text(agent, "vips"), "and removes it")
        agent.find_element(By.ID, "vip-entry").send_keys("not a domain")
        submit(agent, "add-vip")
        check("domain" in banner(agent, "error"), "an entry that is neither an email nor a domain is refused (%s)" % banner(agent, "error"))
        agent.get(CONSOLE + "/admin/vendors")
        agent.find_element(By.LINK_TEXT, "Acme Network Services").click()
        WebDriverWait(agent, 30).until(lambda d: d.find_elements(By.ID, "edit-vendor"))
        webhook = agent.find_element(By.ID, "vendor-webhook").get_attribute("value")
        acknowledge = agent.find_element(By.ID, "vendor-acknowledge")
        acknowledge.clear()
        acknowledge.send_keys("240")
        agent.find_element(By.ID, "vendor-resolve").send_keys("60")
        submit(agent, "save-vendor")
        check("contract.resolveWithinMinutes" in banner(agent, "error"), "a resolve target shorter than the acknowledge target is refused (%s)" % banner(agent, "error"))
        acknowledge = agent.find_element(By.ID, "vendor-acknowledge")
        acknowledge.clear()
        acknowledge.send_keys("240")
        submit(agent, "save-vendor")
        check("Saved" in banner(agent, "notice") and agent.find_element(By.ID, "vendor-acknowledge").get_attribute("value") == "240"
              and agent.find_element(By.ID, "vendor-webhook").get_attribute("value") == webhook, "the admin sets the demo vendor's acknowledge target")
        shot(agent, "admin-vendor")
        accessible(agent, "admin-vendor")
        agent.get(CONSOLE + "/admin/vendors")
        check("240 min / none" in text(agent, "vendors"), "the vendor list shows the new target")
        accessible(agent, "admin-vendors")
        agent.find_element(By.ID, "new-vendor-name").send_keys("Zeta Print Services")
        agent.find_element(By.ID, "new-vendor-webhook").send_keys("http://127.0.0.1:9/webhooks")
        agent.find_element(By.ID, "new-vendor-categories").send_keys("printing")
        agent.find_element(By.ID, "new-vendor-acknowledge").send_keys("60")
        agent.find_element(By.ID, "new-vendor-resolve").send_keys("480")
        Select(agent.find_element(By.ID, "new-vendor-time")).select_by_value("wall")
        submit(agent, "create-vendor")
        first_key = text(agent, "issued-api-key") if agent.find_elements(By.ID, "issued-api-key") else ""
        check(first_key.startswith("tdv_") and text(agent, "issued-secret").startswith("whsec_") and "tdv_" not in agent.current_url,
              "a new vendor's key and signing secret are shown once on the page, never in the address (%s)" % banner(agent, "error"))
        page = agent.find_element(By.ID, "edit-vendor").get_attribute("action")
        submit(agent, "rotate-vendor-key")
        second_key = text(agent, "issued-api-key") if agent.find_elements(By.ID, "issued-api-key") else ""
        check(second_key.startswith("tdv_") and second_key != first_key and "tdv_" not in agent.current_url and "stops working now" in banner(agent, "notice"),
              "the admin rotates its key: the new one is shown once, never in the address")
        agent.get(page)
        check(not agent.find_elements(By.ID, "issued-api-key"), "the key is not shown again on the vendor's page")

        def refused():
            sign_in(requester, first_key)
            return "not accepted" in banner(requester, "error")
        check(bool(eventually(refused, "the replaced key is refused")), "the replaced key no longer signs in")
        sign_in(requester, second_key)
        check(requester.current_url.endswith("/vendor/"), "the new key signs the vendor in")
        submit(agent, "deactivate-vendor")
        check("Deactivated" in banner(agent, "notice") and "deactivated" in text(agent, "standing"), "the admin deactivates the second vendor")
        agent.get(CONSOLE + "/admin/vendors")
        check("Zeta" not in text(agent, "vendors") and "Acme" in text(agent, "vendors"), "a deactivated vendor leaves the list")

        print("An agent escalates to the vendor; the vendor view shows the case and posts an update")
        # The hostile ticket is worked first, so the queues hold only the next one.
        mallory = eventually(lambda: api("POST", TIER_QUEUE + "/v1/queues/1/claim", token=LEVEL1), "level 1 takes the hostile ticket")
        check(mallory["id"].lower() == hostile, "the hostile ticket was the one waiting")
        api("POST", TIER_QUEUE + "/v1/tickets/%s/resolve" % mallory["id"], token=LEVEL1, body={"resolution": "Not a real request", "code": "user_error"})
        case_ticket = api("POST", INTAKE + "/v1/tickets", body={
            "requester": {"email": "frank@example.com"}, "channel": "web", "subject": "Core switch drops packets",
            "description": "The core switch in Hamburg drops one packet in ten since the firmware update.", "category": "network"})["id"].lower()
        for level, token in ((1, LEVEL1), (2, LEVEL2)):
            claimed = eventually(lambda: api("POST", TIER_QUEUE + "/v1/queues/%d/claim" % level, token=token), "level %d claims the network ticket" % level)
            hand_off = {"stepsTried": "Checked the router", "affectedUsers": "Hamburg office"} if level == 1 else {"reproduction": "ping fails", "logs": "attached"}
            api("POST", TIER_QUEUE + "/v1/tickets/%s/escalate" % claimed["id"], token=token, body={"reason": "beyond level %d" % level, "handOff": hand_off})
        sign_in(agent, LEVEL3)
        eventually(lambda: agent.find_elements(By.CSS_SELECTOR, "#queue-3 tr[data-ticket='%s']" % case_ticket) or agent.refresh(), "the ticket reaches level 3")
        submit(agent, "claim-3")
        Select(agent.find_element(By.ID, "escalate-to")).select_by_value("4")
        agent.find_element(By.ID, "escalate-reason").send_keys("Carrier fault on the leased line")
        submit(agent, "escalate-button")
        check("level 4" in text(agent, "notice"), "escalated to the vendor")
        agent.get(CONSOLE + "/agent/reports")
        check(len(agent.find_elements(By.CSS_SELECTOR, "figure svg")) >= 3 and "First-contact resolution" in text(agent, "report-facts"),
              "level 3 reads the report with its charts")
        check("Satisfaction by level" in agent.page_source and "Level 1 (1)" in agent.page_source,
              "the report shows the requester's rating, per level")
        shot(agent, "agent-reports")
        accessible(agent, "agent-reports")
        vendor = browser()
        try:
            sign_in(vendor, VENDOR)
            row = eventually(lambda: vendor.find_elements(By.CSS_SELECTOR, "#cases a") and
                             [a for a in vendor.find_elements(By.CSS_SELECTOR, "#cases a") if "Core switch" in a.text] or vendor.refresh(),
                             "the vendor sees the case")
            shot(vendor, "vendor-cases")
            accessible(vendor, "vendor-cases")
            row[0].click()
            WebDriverWait(vendor, 30).until(lambda d: d.find_elements(By.ID, "post-update"))
            Select(vendor.find_element(By.ID, "status")).select_by_value("in_progress")
            vendor.find_element(By.ID, "message").send_keys("Carrier ticket 4711 opened; engineer on site at 14:00")
            submit(vendor, "post-update")
            check("Update posted" in text(vendor, "notice") and "4711" in text(vendor, "case-history"), "the vendor's update is posted and listed")
            shot(vendor, "vendor-case")
            accessible(vendor, "vendor-case")
        finally:
            vendor.quit()
        told_live()
        single_sign_on()
    finally:
        requester.quit()
        agent.quit()
    if failures:
        print("browser tests FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("browser tests: passed")


if __name__ == "__main__":
    main()
