"""`concoord dashboard` in a real browser: headless chromium (the Debian package) driven by
Playwright, against a real instance whose leader is SIGKILLed."""

import shutil
import subprocess
import sys

import pytest

from tests.integration.harness import free_port, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("needs chromium (scripts/install-system-deps installs it)")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox"])   # tests run as root
        yield chromium
        chromium.close()


def start_dashboard(harness, bootstrap):
    port = free_port()
    log = open(harness.workdir / "dashboard.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "concoord", "dashboard", "-b", bootstrap, "-p", str(port)],
        cwd=harness.workdir, env=harness.env(), stdout=log, stderr=subprocess.STDOUT)
    harness.clients.append(proc)      # stopped with the rest at teardown
    return f"http://127.0.0.1:{port}/"


def test_the_page_lists_every_node_and_follows_a_failover(counter_harness, browser, tmp_path):
    replicas, acceptors = counter_harness.start_cluster(3, 3)
    counter_harness.start_client("""
        from counterproxy import Counter
        c = Counter(BOOTSTRAP)
        while True:             # load for the chart, through the failover (killed at teardown)
            c.increment()
    """, bootstrap=replicas)
    url = start_dashboard(counter_harness, replicas[0].address)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    wait_until(lambda: page.goto(url), 30, interval=0.5, message="the dashboard to serve")

    rows = "#nodes tbody tr"
    page.wait_for_function(f"document.querySelectorAll('{rows}').length === 6",
                           timeout=20000)
    listed = {row.get_attribute("data-address"): row.get_attribute("data-role")
              for row in page.query_selector_all(rows)}
    assert listed == {**{r.address: "replica" for r in replicas},
                      **{a.address: "acceptor" for a in acceptors}}
    leader = counter_harness.leader(replicas)
    page.wait_for_function(f"document.getElementById('leader').textContent === "
                           f"'{leader.address}'", timeout=20000)
    page.wait_for_function("Number(document.getElementById('rate').textContent) > 0",
                           timeout=20000)
    assert "The counter value is" in page.text_content("#object")
    for chart in ("#chart", "#latency"):       # drawn: a line with at least two points
        page.wait_for_function(f"document.querySelector('{chart} polyline')"
                               f".getAttribute('points').split(' ').length >= 2",
                               timeout=20000)

    leader.kill()
    survivors = [r.address for r in replicas if r is not leader]
    page.wait_for_function(
        "(live) => live.includes(document.getElementById('leader').textContent)",
        arg=survivors, timeout=20000)
    new_leader = page.text_content("#leader")
    page.wait_for_function(
        f"document.querySelector('tr[data-address=\"{leader.address}\"]')"
        f".classList.contains('down')", timeout=20000)
    assert "election" in page.text_content("#events")
    assert new_leader in page.text_content("#events")

    screenshot = tmp_path / "dashboard.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"dashboard screenshot: {screenshot}")
    assert screenshot.stat().st_size > 0
