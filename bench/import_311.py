"""Importing 311 exports: `imports.services.import_311` against a plain `executemany` of the
same case rows, already parsed, into the same case table, measured in the same run.

For each export, in a fresh database (migrated, catalog loaded, not timed): the import runs
once, timed from reading the file to its commit (city, departments, mappings, grids,
location, cases, tasks, events, the clocks of open cases and raw records). Then the case rows it wrote
are read back as Python values and inserted again with one `executemany` in one
transaction (datetimes adapted as the ORM adapts them; case numbers suffixed so that they
stay unique): that is the baseline. Rate = cases written per second; goal: ours ≥ 0.5 × the
baseline. `refresh_cases` (evaluation facts) is not part of the timed import; see README.

    .venv/bin/python bench/import_311.py                      # SQLite file
    .venv/bin/python bench/import_311.py --database postgres  # a fresh PostgreSQL database
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FILES = [
    DATA / "baltimore-311-city-r-training" / "311_sample.csv",
    DATA / "la-311-hackforla" / "2018_mini_2018-01.csv",
    DATA / "nyc-311-info654-2018" / "311_sample.csv",
]
GOAL = 0.5


def setup_environment(database: str, workdir: Path) -> str | None:
    os.environ["VAR_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    if database == "postgres":
        name = f"bench_import_{os.getpid()}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        return name
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'import.sqlite3'}"
    return None


def baseline(city_id: int) -> tuple[int, float]:
    """Insert the city's case rows again with one executemany; (rows, seconds)."""
    from django.db import connection, transaction

    from chengguan.cases.models import Case

    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    rows = list(Case.objects.filter(city_id=city_id).values_list(*[f.attname for f in fields]))
    number = [f.attname for f in fields].index("number")
    rows = [(*row[:number], f"{row[number]}-B", *row[number + 1 :]) for row in rows]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(Case._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    adapt = connection.ops.adapt_datetimefield_value
    gc.collect()  # each timed part starts from the same heap, ours too
    start = time.perf_counter()
    with transaction.atomic():
        batch = [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(sql, batch)
    seconds = time.perf_counter() - start
    Case.objects.filter(city_id=city_id, number__endswith="-B").delete()
    return len(rows), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="chengguan-import-"))
    try:
        return run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir: Path) -> int:
    dbname = setup_environment(args.database, workdir)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from chengguan.catalog.services import load_catalog
    from chengguan.geo.models import City
    from chengguan.imports.services import import_311

    call_command("migrate", verbosity=0)
    load_catalog()
    results = []
    try:
        for path in FILES:
            gc.collect()
            start = time.perf_counter()
            result = import_311(path, refresh=False)
            ours = time.perf_counter() - start
            city = City.objects.get(code=result.city_code)
            rows, base = baseline(city.pk)
            results.append((path, result, ours, rows, base))
    finally:
        if dbname:
            from django.db import connections

            connections.close_all()
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {dbname}"],
                           check=False)

    print(f"\ndatabase: {args.database}")
    print("| export | rows read | cases written | baseline cases/s | ours cases/s | ratio | goal | result |")
    print("|---|---:|---:|---:|---:|---:|---:|:---:|")
    failed = False
    for path, result, ours, rows, base in results:
        ours_rate = result.imported / ours
        base_rate = rows / base
        ratio = ours_rate / base_rate
        ok = ratio >= GOAL
        failed |= not ok
        print(f"| {path.parent.name}/{path.name} | {result.rows:,} | {result.imported:,} | {base_rate:,.0f} "
              f"({base:.2f} s) | {ours_rate:,.0f} ({ours:.2f} s) | {ratio:.2f} | ≥{GOAL} | "
              f"{'pass' if ok else 'FAIL'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
