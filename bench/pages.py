"""The command center with a million cases: the board's first page and the map's visible area.

Builds the demo city (no simulated cases) in a fresh database, bulk-inserts `--cases` cases
spread over three years (most closed, the recent ones open in every stage, coloured lights),
then times each page on the server (Django's handler, session sign-in, every middleware; no
network) against a baseline in the same run: the bare SQL of a 50-row page, newest first.

    .venv/bin/python bench/pages.py                      # SQLite, 1,000,000 cases
    .venv/bin/python bench/pages.py --database postgres  # a fresh PostgreSQL database
    .venv/bin/python bench/pages.py --cases 100000       # a quicker run
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 150.0


def setup_environment(args) -> str | None:
    workdir = Path(tempfile.mkdtemp(prefix="chengguan-pages-"))
    os.environ["VAR_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["LOG_LEVEL"] = "ERROR"
    if args.database == "postgres":
        name = f"bench_pages_{os.getpid()}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        return name
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'pages.sqlite3'}"
    return None


def build(total: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from tqdm import tqdm

    from chengguan.cases.models import Case
    from chengguan.catalog.models import SmallClass
    from chengguan.geo.models import City, Grid
    from chengguan.org.models import Department

    call_command("migrate", verbosity=0)
    call_command("load_demo", cases_days=0, no_progress=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    rng = random.Random(seed)
    city = City.objects.get(code="330100")
    grids = list(Grid.objects.filter(city=city).values_list("id", "code", "community__code", "street_code",
                                                            "district_code", "area_class", "center_lon",
                                                            "center_lat", "min_lon", "min_lat", "max_lon",
                                                            "max_lat"))
    weights = [20 if g[5] == "A" else 8 if g[5] == "B" else 1 for g in grids]
    classes = list(SmallClass.objects.values_list("id", "code"))
    departments = list(Department.objects.filter(city=city).values_list("id", flat=True))
    now = timezone.now()
    span = timedelta(days=3 * 365)
    open_states = ["reported", "verifying", "pending", "registered", "dispatched", "handling", "checking",
                   "closable", "suspended"]
    columns = ["number", "city_id", "version", "state", "state_before_suspension", "source", "small_class_id",
               "class_code", "urgency", "area_class", "filing_condition", "lon", "lat", "grid_id", "grid_code",
               "community_code", "street_code", "district_code", "address", "description", "component_code",
               "self_handled", "reporter_name", "reporter_phone", "supervised", "priority", "end_reason",
               "reported_at", "registered_at", "dispatched_at", "closed_at", "updated_at", "department_id",
               "rework_count", "return_count", "extension_count", "stage", "stage_due_at", "stage_yellow_at",
               "calendar_warning", "rating_comment", "is_open"]
    def adapt(value):
        # Instants stored exactly as the ORM stores them on this database.
        return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value

    sql = (f"INSERT INTO {Case._meta.db_table} ({', '.join(columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    # Newest first in time order so that numbers follow the days, as they would.
    offsets = sorted((rng.random() ** 0.7 for _ in range(total)), reverse=True)
    sequence: dict[str, int] = {}
    batch: list[tuple] = []
    with transaction.atomic():
        for fraction in tqdm(offsets, desc="cases", unit="件", mininterval=2):
            reported = now - span * fraction
            age = now - reported
            grid = rng.choices(grids, weights=weights, k=1)[0]
            lon = rng.uniform(grid[8] or grid[6] - 0.0004, grid[10] or grid[6] + 0.0004)
            lat = rng.uniform(grid[9] or grid[7] - 0.0004, grid[11] or grid[7] + 0.0004)
            class_id, class_code = rng.choice(classes)
            recent = age < timedelta(days=10)
            state = rng.choice(open_states) if recent and rng.random() < 0.6 else (
                "closed" if rng.random() < 0.93 else rng.choice(["cancelled", "rejected", "invalid"]))
            is_open = state in open_states
            due = reported + timedelta(hours=rng.uniform(1, 72)) if is_open and state != "suspended" else None
            yellow = due - (due - reported) * 0.2 if due else None
            day = timezone.localtime(reported).strftime("%Y%m%d")
            sequence[day] = sequence.get(day, 0) + 1
            dispatched = state not in ("reported", "verifying", "pending", "registered", "invalid", "rejected")
            batch.append((
                f"{day}{sequence[day]:05d}", city.pk, 1, state, "", rng.choice(
                    ["inspector"] * 6 + ["volunteer", "hotline", "hotline", "public", "media", "leader"]),
                class_id, class_code, "normal", grid[5], "", lon, lat, grid[0], grid[1], grid[2], grid[3], grid[4],
                "富春路 1 号附近", "基准测试案件", "", False, "", "", rng.random() < 0.01, 0, "",
                reported, reported + timedelta(minutes=20), reported + timedelta(minutes=40) if dispatched else None,
                reported + timedelta(days=2) if state == "closed" else None, reported,
                rng.choice(departments) if dispatched else None, 0, 0, 0,
                {"verifying": "verify", "reported": "register", "pending": "register", "registered": "dispatch",
                 "dispatched": "handle", "handling": "handle", "checking": "check"}.get(state, "") if due else "",
                due, yellow, "", "", True if is_open else None,
            ))
            if len(batch) >= 5000:
                batch = [tuple(adapt(v) for v in row) for row in batch]
                with connection.cursor() as cursor:
                    cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            batch = [tuple(adapt(v) for v in row) for row in batch]
            with connection.cursor() as cursor:
                cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(call, repeat: int) -> list[float]:
    call()  # warm: caches, prepared plans
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    pg_name = setup_environment(args)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from chengguan.geo.models import Grid
    from chengguan.org.models import User

    try:
        started = time.monotonic()
        build(args.cases, args.seed)
        print(f"built {args.cases:,} cases in {time.monotonic() - started:.0f} s", file=sys.stderr)
        client = Client()
        client.force_login(User.objects.get(username="operator"))
        city_id = User.objects.get(username="operator").city_id
        core = Grid.objects.filter(area_class="A").values_list("center_lon", "center_lat")
        lons, lats = zip(*core, strict=True)
        city_box = f"{min(lons) - 0.01},{min(lats) - 0.01},{max(lons) + 0.01},{max(lats) + 0.01}"
        mid_lon, mid_lat = statistics.median(lons), statistics.median(lats)
        street_box = f"{mid_lon - 0.006},{mid_lat - 0.004},{mid_lon + 0.006},{mid_lat + 0.004}"
        # Choosing "all states" on the map page narrows the period to the last 30 days.
        month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()

        def baseline():
            with connection.cursor() as cursor:
                cursor.execute("SELECT id, number, state, reported_at FROM cases_case WHERE city_id = %s "
                               "ORDER BY reported_at DESC, id DESC LIMIT 50", [city_id])
                cursor.fetchall()

        pages = [
            ("baseline: bare SQL, 50 newest rows", None),
            ("board, first page", "/center/"),
            ("board, red lights", "/center/?light=red"),
            ("board, one street", "/center/?street=330111001"),
            ("map, open cases, whole core (zoom 13)", f"/center/map/cases.json?bbox={city_box}&zoom=13&state=open"),
            ("map, open cases, a few streets (zoom 16)",
             f"/center/map/cases.json?bbox={street_box}&zoom=16&state=open"),
            ("map, all states, last 30 days, a few streets (zoom 16)",
             f"/center/map/cases.json?bbox={street_box}&zoom=16&state=&created_after={month_ago}"),
            ("(no goal) map, all states, all three years, a few streets",
             f"/center/map/cases.json?bbox={street_box}&zoom=16&state="),
        ]
        rows = []
        failed = False
        for name, url in pages:
            if url is None:
                times = timed(baseline, args.repeat)
                queries, features = 1, ""
            else:
                def get(url=url):
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code, response.content[:300])
                    return response

                with CaptureQueriesContext(connection) as captured:
                    response = get()
                queries = len(captured.captured_queries)
                features = len(response.json()["features"]) if url.startswith("/center/map/") else ""
                times = timed(get, args.repeat)
            median, p95 = statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1]
            gated = url is not None and not name.startswith("(no goal)")
            ok = not gated or p95 < GOAL_MS
            failed |= not ok
            rows.append((name, median, p95, queries, features, "" if not gated else ("pass" if ok else "FAIL")))
        print(f"\nCommand center pages with {args.cases:,} cases, {connection.vendor}, "
              f"{args.repeat} requests each (server time, ms)\n")
        print("| page | median ms | p95 ms | queries | features | goal < 150 ms |")
        print("|---|---:|---:|---:|---:|:---:|")
        for name, median, p95, queries, features, verdict in rows:
            print(f"| {name} | {median:.1f} | {p95:.1f} | {queries} | {features} | {verdict} |")
        return 1 if failed else 0
    finally:
        connection.close()
        if pg_name:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                            f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    sys.exit(main())
