"""Deadline computation: the cumulative working-time table against the day-by-day reference.

    .venv/bin/python bench/deadline.py [--cases 100000] [--sample 2000] [--repeat 7] [--seed 1]

No database: builds the mainland calendar from the chinese-calendar package directly, the way
worktime.services does (the years the package knows, one year of margin before and five after).
The naive loop is timed on a sample of the batch and scaled to the whole batch. Exits
non-zero if the answers differ or a ratio is below its goal.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np

from chengguan.worktime.arith import (
    DEFAULT_PERIODS,
    WorkingTimeTable,
    naive_add,
    naive_elapsed,
)

SH = ZoneInfo("Asia/Shanghai")
# Stage limits of the time-limit standard, in working minutes: 30 min register/dispatch,
# 60 verify, 120 check, 5 working hours, 1, 3 and 15 working days.
LIMITS = [30, 60, 120, 300, 450, 3 * 450, 15 * 450]


def build_table() -> tuple[WorkingTimeTable, float]:
    years = sorted({d.year for d in chinese_calendar.holidays})
    special = {}
    day = date(years[0], 1, 1)
    while day.year <= years[-1]:
        workday = chinese_calendar.is_workday(day)
        if workday != (day.weekday() < 5):
            special[day] = workday
        day += timedelta(days=1)
    started = time.perf_counter()
    table = WorkingTimeTable("Asia/Shanghai", DEFAULT_PERIODS, special, years, years[0] - 1, years[-1] + 5)
    return table, time.perf_counter() - started


def random_starts(rng: random.Random, n: int) -> list[datetime]:
    """Instants (to the second) spread over 2025 and 2026, nights and holidays included."""
    lo = int(datetime(2025, 1, 1, tzinfo=SH).timestamp())
    hi = int(datetime(2026, 12, 1, tzinfo=SH).timestamp())
    return [datetime.fromtimestamp(rng.randrange(lo, hi), SH) for _ in range(n)]


def per_call(fn, cases, repeat: int) -> float:
    """Seconds per call, best of `repeat` runs over the cases."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for case in cases:
            fn(*case)
        best = min(best, time.perf_counter() - started)
    return best / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="deadlines in the batch")
    parser.add_argument("--sample", type=int, default=2_000, help="cases timed for baselines")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each timing; the best counts")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    table, build_s = build_table()
    print(
        f"table {table.first_year}–{table.last_year}: {len(table.starts)} working intervals, "
        f"built in {build_s * 1000:.0f} ms; Python {platform.python_version()}, "
        f"numpy {np.__version__}, {platform.machine()}"
    )

    sample = [(s, rng.choice(LIMITS)) for s in random_starts(rng, args.sample)]
    # Scalar add, and the reference, on the same cases; check they agree first.
    for start, minutes in sample[:200]:
        assert table.add(start, minutes) == naive_add(table, start, minutes)
    naive_add_s = per_call(lambda s, n: naive_add(table, s, n), sample, args.repeat)
    ours_add_s = per_call(table.add, sample, args.repeat)

    spans = [(s, table.add(s, n)) for s, n in sample]
    for a, b in spans[:200]:
        assert table.elapsed(a, b) == naive_elapsed(table, a, b)
    naive_elapsed_s = per_call(lambda a, b: naive_elapsed(table, a, b), spans, args.repeat)
    ours_elapsed_s = per_call(table.elapsed, spans, args.repeat)

    # A batch of deadlines: add_batch on the whole batch, the naive loop on a sample, scaled.
    batch_starts = random_starts(rng, args.cases)
    starts = np.array([int(s.timestamp()) for s in batch_starts], dtype=np.int64)
    minutes = np.array([rng.choice(LIMITS) for _ in range(args.cases)], dtype=np.int64)
    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        due = table.add_batch(starts, minutes)
        best = min(best, time.perf_counter() - started)
    checked = rng.sample(range(args.cases), min(args.sample, args.cases))
    for k in checked:
        assert int(naive_add(table, batch_starts[k], int(minutes[k])).timestamp()) == due[k]
    naive_one_s = per_call(
        lambda k: naive_add(table, batch_starts[k], int(minutes[k])), [(k,) for k in checked], args.repeat
    )
    naive_batch_s = naive_one_s * args.cases

    rows = [
        ("add, one deadline", naive_add_s, ours_add_s, 20),
        ("elapsed, one span", naive_elapsed_s, ours_elapsed_s, None),
        (f"add_batch, {args.cases:,} deadlines", naive_batch_s, best, 200),
    ]
    print()
    print(f"{'name':32} {'naive':>12} {'ours':>12} {'ratio':>9} {'goal':>6}  result")
    for name, baseline, ours, goal in rows:
        ratio = baseline / ours
        verdict = "—" if goal is None else ("pass" if ratio >= goal else "FAIL")
        goal_text = "—" if goal is None else f"{goal}×"
        print(f"{name:32} {fmt(baseline):>12} {fmt(ours):>12} {ratio:>8.0f}× {goal_text:>6}  {verdict}")
    print(
        f"\nEvery time is the best of {args.repeat} runs, on both sides. Scalar times are per "
        f"call over {len(sample):,} cases. The naive add_batch time is the naive loop over "
        f"{len(checked):,} of the cases, scaled to {args.cases:,}; ours is add_batch on all of "
        "them. Answers are checked equal before timing."
    )
    if any(goal is not None and baseline / ours < goal for _, baseline, ours, goal in rows):
        sys.exit(1)


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()
