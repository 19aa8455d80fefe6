"""`recurwise ui` as a data engineer meets it: on a real Dagster instance (a temporary
DAGSTER_HOME) the webserver answers on 127.0.0.1 and the daemon runs the sensor and the
schedule, so snapshot folders in the landing folder are published without anyone clicking;
a real browser (headless Chromium) shows the marts group's asset graph and the Automation
page with both running.

The screenshots are kept as test artifacts in tests/artifacts/ (ui.png, automation.png).

`make test` installs Debian's chromium where it can (as root with apt-get). Without a
browser the test is skipped with the reason, except where RECURWISE_REQUIRE_BROWSER=1 or
CI=true (.ci/run): there a missing browser fails it. RECURWISE_CHROMIUM names another
browser executable (default /usr/bin/chromium).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_project.build.run import DEMO_LANDING

# Every test here runs real builds (the job, its daemon or the CLI).
pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("RECURWISE_CHROMIUM") or "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
STARTUP_SECONDS = 300  # dg dev parses the dbt project and loads the code location first
PUBLISH_SECONDS = 600  # a sensor tick (each minute), the run's start, a demo build
DEMO_DAYS = sorted(p.name for p in DEMO_LANDING.iterdir() if p.is_dir())
MART_ASSETS = ("dim_accounts", "fct_opportunities", "fct_mrr_monthly", "fct_mrr_movements")
RECURWISE = Path(sys.executable).parent / "recurwise"


def path_without_venv() -> str:
    venv_bin = str(RECURWISE.parent)
    return os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != venv_bin
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def stop(server: subprocess.Popen) -> None:
    """End the UI and everything it started (dg dev, webserver, daemon, code server)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; its children may still be shutting down.
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


def chromium(*args: str, window: str = "1600,1000") -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                str(CHROMIUM),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={window}",
                "--virtual-time-budget=30000",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )


@dataclass
class Server:
    base: str  # the UI's URL
    landing: Path
    warehouse: Path
    home: Path  # DAGSTER_HOME


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`recurwise ui --landing --warehouse` on a free port, with its own Dagster instance:
    the webserver and the daemon (the sensor and the schedule running). The landing holds
    the first three demo days; the warehouse does not exist yet."""
    tmp = tmp_path_factory.mktemp("ui")
    landing = tmp / "landing"
    for day in DEMO_DAYS[:3]:
        shutil.copytree(DEMO_LANDING / day, landing / day)
    warehouse = tmp / "warehouse.duckdb"
    home = tmp / "dagster_home"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "ui.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(RECURWISE), "ui", "--landing", str(landing), "--warehouse", str(warehouse),
             "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # As a user who runs .venv/bin/recurwise without activating the environment:
            # the UI's code server must still find this environment's dbt.
            env={**os.environ, "DAGSTER_HOME": str(home), "PATH": path_without_venv()},
            start_new_session=True,  # its own process group, so stop() ends all of it
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"recurwise ui exited with {process.returncode}:\n{log_path.read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"recurwise ui did not answer on {base} within {STARTUP_SECONDS}s:\n"
                    + log_path.read_text()[-3000:]
                )
            time.sleep(1)
        yield Server(base, landing, warehouse, home)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def ui(server) -> str:
    """The UI's URL, for the tests that look at it in a browser."""
    if not CHROMIUM.is_file():
        reason = (
            f"no Chromium at {CHROMIUM}, so the UI was not checked in a browser; install it "
            "with `apt-get update && apt-get install -y chromium` as root (make test does "
            "that when run as root)"
        )
        if os.environ.get("RECURWISE_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true":
            pytest.fail(f"{reason}. With RECURWISE_REQUIRE_BROWSER=1 or CI=true it must run")
        pytest.skip(reason)
    return server.base


def published_snapshots(warehouse: Path) -> list[str]:
    if not warehouse.exists():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            str(r[0])
            for r in con.execute("select snapshot_date from raw.snapshots order by 1").fetchall()
        ]


def wait_for_publish(server: Server, snapshots: list[str], runs: int) -> None:
    """Until the published warehouse holds `snapshots` and `runs` runs have finished (the
    report is written after the publish), or fail."""
    deadline = time.monotonic() + PUBLISH_SECONDS
    while published_snapshots(server.warehouse) != snapshots or len(finished_runs(server)) < runs:
        if time.monotonic() > deadline:
            runs = graphql(server.base, RUNS_QUERY)["runsOrError"]["results"]
            pytest.fail(
                f"the daemon did not publish {snapshots} within {PUBLISH_SECONDS}s; "
                f"published {published_snapshots(server.warehouse)}; runs: {runs}"
            )
        time.sleep(5)


RUNS_QUERY = (
    "{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }"
)


def finished_runs(server: Server) -> list[dict]:
    runs = graphql(server.base, RUNS_QUERY)["runsOrError"]["results"]
    return [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]


def test_the_sensor_publishes_the_landing_folders_with_a_report(server):
    """Nobody clicks: the daemon's sensor builds the three folders in one run."""
    wait_for_publish(server, DEMO_DAYS[:3], runs=1)
    report = server.warehouse.with_name("warehouse.report.html")
    assert report.is_file() and "Revenue report as of" in report.read_text(encoding="utf-8")
    with duckdb.connect(str(server.warehouse), read_only=True) as con:
        as_of, currency = con.execute(
            "select as_of_date, corporate_currency from marts.build_info"
        ).fetchone()
    assert (str(as_of), currency) == (DEMO_DAYS[2], "USD")
    [run] = finished_runs(server)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS" and run["jobName"] == "build_warehouse"
    assert tags["dagster/sensor_name"] == "new_snapshot_sensor"
    assert not server.warehouse.with_name("warehouse.duckdb.building").exists()


def test_a_folder_dropped_into_the_landing_is_published_within_minutes(server):
    wait_for_publish(server, DEMO_DAYS[:3], runs=1)
    report = server.warehouse.with_name("warehouse.report.html")
    before = report.stat().st_mtime
    shutil.copytree(DEMO_LANDING / DEMO_DAYS[3], server.landing / DEMO_DAYS[3])
    wait_for_publish(server, DEMO_DAYS, runs=2)
    assert report.stat().st_mtime > before  # a fresh report with the new day
    assert f"as of {int(DEMO_DAYS[3][8:])} Nov 2026" in report.read_text(encoding="utf-8")
    assert [r["status"] for r in finished_runs(server)] == ["SUCCESS", "SUCCESS"]


@pytest.fixture(scope="module")
def location(ui) -> str:
    """The name of the loaded code location; fails with its load error when it has one."""
    entries = graphql(
        ui,
        "{ workspaceOrError { ... on Workspace { locationEntries { name "
        "locationOrLoadError { __typename ... on PythonError { message } } } } } }",
    )["workspaceOrError"]["locationEntries"]
    assert len(entries) == 1, entries
    loaded = entries[0]["locationOrLoadError"]
    assert loaded["__typename"] == "RepositoryLocation", (
        f"the code location does not load in the UI: {loaded.get('message')}"
    )
    return entries[0]["name"]


def test_the_asset_graph_shows_the_marts(ui, location):
    url = f"{ui}/locations/{location}/asset-groups/marts"
    # The UI is a JavaScript app: the DOM lists the assets once its queries answered.
    missing = list(MART_ASSETS)
    for _ in range(3):
        dom = chromium("--dump-dom", f"{url}/list", window="1600,3000").stdout
        missing = [name for name in MART_ASSETS if f"marts / {name}" not in dom]
        if not missing:
            break
    assert not missing, f"the marts group page of {url} does not list {missing}"

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "ui.png"
    screenshot.unlink(missing_ok=True)
    chromium(f"--screenshot={screenshot}", url, window="1920,1200")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000  # a rendered graph, not a blank page
    lineage = chromium("--dump-dom", url).stdout
    assert "fct_opportunities" in lineage and "fct_mrr_monthly" in lineage


def test_the_automation_page_shows_the_sensor_and_the_schedule_running(ui, location):
    repositories = graphql(
        ui,
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { name "
        "sensors { name sensorState { status } } "
        "schedules { name scheduleState { status } } } } } }",
    )["repositoriesOrError"]["nodes"]
    states = {
        item["name"]: (item.get("sensorState") or item.get("scheduleState"))["status"]
        for repository in repositories
        for item in repository["sensors"] + repository["schedules"]
    }
    assert states == {"new_snapshot_sensor": "RUNNING", "daily_build": "RUNNING"}

    url = f"{ui}/automation"
    dom = ""
    for _ in range(3):
        dom = chromium("--dump-dom", url, window="1600,1600").stdout
        if "new_snapshot_sensor" in dom and "daily_build" in dom:
            break
    assert "new_snapshot_sensor" in dom and "daily_build" in dom, f"{url} lists neither"
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "automation.png"
    screenshot.unlink(missing_ok=True)
    chromium(f"--screenshot={screenshot}", url, window="1920,1200")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
