"""Browser tests: Debian's Chromium, driven by Playwright, against a real server process.

The server runs `chengguan serve` (gunicorn) on its own database — a SQLite file, or a fresh
PostgreSQL database when the suite runs on PostgreSQL — with the demo city loaded. Tests sign
in as the demo accounts, act through the pages, and save screenshots for the docs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHENGGUAN = ROOT / ".venv" / "bin" / "chengguan"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "chengguan-demo"
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(tmp: Path) -> tuple[str, str | None]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        name = f"chengguan_browser_{os.getpid()}"
        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
        return urlunsplit(parts._replace(path=f"/{name}")), name
    return f"sqlite:///{tmp / 'browser.sqlite3'}", None


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a running server with the demo city (a week of cases)."""
    tmp = tmp_path_factory.mktemp("browser")
    url, pg_name = _database_url(tmp)
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp), "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "LOG_LEVEL": "ERROR", "PUBLIC_RATE_PER_MINUTE": "1000"}
    subprocess.run([str(CHENGGUAN), "migrate", "-v0"], env=env, check=True)
    subprocess.run([str(CHENGGUAN), "load_demo", "--cases-days", "7", "--no-progress"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = _free_port()
    process = subprocess.Popen([str(CHENGGUAN), "serve", "--port", str(port), "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the test server did not start") from None
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=20)
    if pg_name:
        admin = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"], check=False)


@pytest.fixture(scope="session")
def browser():
    # A missing browser is a failure, not a skip: the pages must be tested in one.
    assert Path(CHROMIUM).exists(), "Debian's chromium is required for the browser tests (apt-get install chromium)"
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, server):
    """new_page(username=None, phone=False, language="zh-CN") → a page, signed in when a username is given."""
    contexts = []

    def open_page(username: str | None = None, *, phone: bool = False, language: str = "zh-CN", **options):
        viewport = PHONE if phone else {"width": 1366, "height": 860}
        context = browser.new_context(viewport=viewport, locale=language, base_url=server,
                                      is_mobile=phone, has_touch=phone, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if username:
            sign_in(page, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state("networkidle")
    assert "/login/" not in page.url, f"{username} could not sign in"


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot for the docs under docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def call(server: str, method: str, path: str, *, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(server + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def token(server: str, username: str) -> str:
    return call(server, "POST", "/api/v1/auth/token", body={"username": username, "password": PASSWORD})["token"]


@pytest.fixture(scope="session", autouse=True)
def soon_red(server):
    """A case whose handling deadline passes a minute after the browser tests start.

    Made first (autouse), so that the dashboard test finds it red without waiting: an urgent
    road collapse (an emergency: natural time) dispatched with the shortest deadline there is.
    """
    # Placed in 春江街道: the public portal's tests take their spot from the newest case in 富春街道.
    place = call(server, "GET", "/api/v1/cases?state=open&street=330111002&page_size=1",
                 token=token(server, "leader"))["items"][0]
    case = call(server, "POST", "/api/v1/cases", token=token(server, "inspector"), body={
        "class_code": "E0401", "lon": place["lon"], "lat": place["lat"], "urgency": "urgent",
        "address": "富春路与桂花路口", "description": "路面塌陷约一平方米，需设置围挡并抢修",
    })
    number = case["number"]
    case = call(server, "POST", f"/api/v1/cases/{number}/actions/register", token=token(server, "operator"),
                body={"version": case["version"]})
    deadline = (datetime.now(UTC) + timedelta(seconds=20)).isoformat()
    case = call(server, "POST", f"/api/v1/cases/{number}/actions/dispatch", token=token(server, "dispatcher"),
                body={"version": case["version"], "department": "D0102", "deadline": deadline})
    handle = next(c for c in case["clocks"] if c["stage"] == "handle" and c["ended_at"] is None)
    assert handle["working_time"] is False  # an urgent emergency counts natural time
    return {"number": number, "due_at": datetime.fromisoformat(handle["due_at"])}
