"""A month's evaluation of every subject over millions of cases, against a plain GROUP BY.

Builds a synthetic city (20 streets × 10 communities × 10 grids, 40 departments, 500
inspectors, 15 call-takers and 15 dispatchers) in a fresh database and `--cases` cases spread
over three years (1 July 2023 – 30 June 2026) with set-based SQL: the cases themselves, the
final-outcome rollup rows that facts.py would have written for them over the three years, and
the evaluation facts of May and June 2026 (facts of other months are never read when May is
evaluated). The month-end snapshot is then written by the production `facts.close_day`.

Timed (median after a warm-up, not the build): `evaluate()` of departments, regions (street
level), inspectors and operators for May 2026 as of 1 June 00:00 — rollup rows plus the
snapshot — against plain GROUP BY queries over `cases_case` for the same month, using only the
indexes the cases table has. A mid-month as-of (pending facts evaluated one by one) is timed
too, with no goal.

    .venv/bin/python bench/evaluation.py                        # SQLite, 200,000 cases
    .venv/bin/python bench/evaluation.py --cases 10000000       # the goal's size
    .venv/bin/python bench/evaluation.py --database postgres    # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/evaluation.py --cases 20000 --check  # correctness, also through the real loop
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 1000.0
GOAL_RATIO = 20.0
GOAL_CASES = 10_000_000  # the ratio is a goal at this size; smaller runs report it
PG_NAME = "chengguan_bench_eval"
SH = ZoneInfo("Asia/Shanghai")

# The synthetic timeline, in epoch seconds (Asia/Shanghai has no DST: local = UTC + 8 h).
START = int(datetime(2023, 7, 1, tzinfo=SH).timestamp())
DAYS = 1096  # 1 July 2023 .. 30 June 2026
NOW = START + DAYS * 86400  # the database holds what had happened by 1 July 2026 00:00
MONTH = "2026-05"
MONTH_FIRST, MONTH_LAST = date(2026, 5, 1), date(2026, 5, 31)
FACTS_FIRST, FACTS_LAST = date(2026, 5, 1), date(2026, 6, 30)
MONTH_END = datetime(2026, 6, 1, tzinfo=SH)
MID_MONTH = datetime(2026, 5, 16, 12, 0, tzinfo=SH)
STREETS, COMMUNITIES, GRIDS = 20, 10, 10  # communities per street, grids per community
DEPARTMENTS, INSPECTORS, CALL_TAKERS, DISPATCHERS = 40, 500, 15, 15
SUBJECTS = (("departments", "street"), ("regions", "street"), ("inspectors", "street"), ("operators", "street"))


def setup_environment(args) -> Path:
    workdir = ROOT / "var" / f"bench-evaluation-{os.getpid()}"
    workdir.mkdir(parents=True)
    os.environ["VAR_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    if args.database == "postgres":
        psql("DROP DATABASE IF EXISTS", PG_NAME, "WITH (FORCE)")
        psql("CREATE DATABASE", PG_NAME)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'evaluation.sqlite3'}"
    return workdir


def psql(*words: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", " ".join(words)], check=True)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# SQL that differs between the two databases


class Dialect:
    def __init__(self, vendor: str, seed: int):
        self.pg = vendor == "postgresql"
        rng = random.Random(seed)
        self.salts = [(rng.randrange(10**5, 10**6), rng.randrange(10**6), rng.randrange(10**5, 10**6),
                       rng.randrange(10**6)) for _ in range(24)]

    def table(self, name: str) -> str:
        return name if self.pg else f"scratch.{name}"

    def u(self, k: int) -> str:
        """A deterministic pseudo-random integer in [0, 1000003) from the row number i."""
        a, b, c, d = self.salts[k]
        return f"((((i * {a} + {b}) % 1000003) * ((i * {c} + {d}) % 999983)) % 1000003)"

    def ts(self, x: str) -> str:
        return f"to_timestamp({x})" if self.pg else f"datetime({x}, 'unixepoch')"

    def date(self, day_number: str) -> str:
        return f"(DATE '1970-01-01' + ({day_number})::int)" if self.pg else f"date(({day_number}) * 86400, 'unixepoch')"

    def iso(self, x: str) -> str:
        if self.pg:
            return f"""to_char(to_timestamp({x}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""
        return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {x}, 'unixepoch')"

    def ymd(self, x: str) -> str:
        return (f"to_char(to_timestamp({x}) AT TIME ZONE 'UTC', 'YYYYMMDD')" if self.pg
                else f"strftime('%Y%m%d', {x}, 'unixepoch')")

    def pad(self, x: str, width: int) -> str:
        return f"lpad(({x})::text, {width}, '0')" if self.pg else f"printf('%0{width}d', {x})"

    def obj(self, **items: str) -> str:
        body = ", ".join(f"'{key}', {value}" for key, value in items.items())
        return f"jsonb_build_object({body})" if self.pg else f"json_object({body})"

    def arr(self, *items: str) -> str:
        return f"jsonb_build_array({', '.join(items)})" if self.pg else f"json_array({', '.join(items)})"

    def jbool(self, condition: str) -> str:
        return f"({condition})" if self.pg else f"json(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"

    def jcase(self, *branches: tuple[str, str], default: str) -> str:
        """A JSON value chosen by conditions (SQLite keeps it JSON only through json())."""
        text = "CASE " + " ".join(f"WHEN {when} THEN {then}" for when, then in branches) + f" ELSE {default} END"
        return text if self.pg else f"json({text})"

    def literal(self, word: str) -> str:
        return f"'{word}'::text" if self.pg else f"'{word}'"

    def text(self, x: str) -> str:
        return f"CAST({x} AS TEXT)"


# ---------------------------------------------------------------------------------------------
# the synthetic timeline: one row of random draws per case, and macros over it


def cut(x: str) -> str:
    """The instant if it had happened by NOW, else NULL (the case is still on its way)."""
    return f"(CASE WHEN {x} <= {NOW} THEN {x} END)"


def dn(x: str) -> str:
    """The local day number (days since 1970-01-01 in Asia/Shanghai)."""
    return f"(({x} + 28800) / 86400)"


# Instants derived from the draws of one case (alias p); every later step adds to the one before,
# so cutting each at NOW keeps a consistent history. Sources by sp: 0–64 inspector, 65–79
# hotline, 80–91 public, 92–94 media, 95–99 leader (hotline, public and media are verified
# first). Fates: 0 runs to closure, 1 rejected at registration, 2 cancelled after it.
RAW = {}
RAW["r"] = "p.r"
RAW["ve"] = "(CASE WHEN p.dv > 0 THEN p.r + p.dv END)"
RAW["vdue"] = "(p.r + 7200)"
RAW["rs"] = "(p.r + p.dv)"
RAW["rdue"] = "(p.r + p.dv + 1800)"
RAW["rd"] = "(p.r + p.dv + p.dr)"
RAW["void"] = f"(CASE WHEN p.fate = 2 THEN {RAW['rd']} + p.dvoid END)"
RAW["d"] = f"(CASE WHEN p.fate = 0 THEN {RAW['rd']} + p.dd END)"
RAW["ddue"] = f"({RAW['rd']} + 1800)"
RAW["tdue"] = f"({RAW['d']} + p.lim)"
RAW["ext"] = f"(CASE WHEN p.extd = 1 THEN {RAW['d']} + p.lim / 2 END)"
RAW["tdue2"] = f"({RAW['d']} + p.lim + p.lim / 2)"
RAW["f1"] = f"({RAW['d']} + p.h)"
RAW["cdue1"] = f"({RAW['f1']} + 7200)"
RAW["c1"] = f"({RAW['f1']} + p.dc1)"
RAW["f2"] = f"(CASE WHEN p.rw = 1 THEN {RAW['c1']} + p.df2 END)"
RAW["cdue2"] = f"({RAW['f2']} + 7200)"
RAW["c2"] = f"({RAW['f2']} + p.dc2)"
RAW["pa"] = f"(CASE WHEN p.rw = 1 THEN {RAW['c2']} ELSE {RAW['c1']} END)"  # the check that passed
RAW["pf"] = f"(CASE WHEN p.rw = 1 THEN {RAW['f2']} ELSE {RAW['f1']} END)"  # the feedback it passed
RAW["rework_due"] = f"({RAW['c1']} + p.lim)"
RAW["x"] = f"({RAW['pa']} + p.dx)"
RAW["endt"] = f"(CASE p.fate WHEN 0 THEN {RAW['x']} WHEN 1 THEN {RAW['rd']} ELSE {RAW['void']} END)"
EVENTS = ("ve", "rd", "void", "d", "ext", "f1", "c1", "f2", "c2", "pa", "pf", "x", "endt")
# The draw table stores every instant once (events cut at NOW); the statements that follow read columns.
TIMELINE = [name for name in RAW if name != "r"]
E = {name: f"p.{name}" for name in RAW}
VERIFIED = "(p.sp >= 65 AND p.sp < 95)"
PUBLIC = "(p.sp >= 65)"  # facts.PUBLIC_SOURCES: every source but the inspectors
SOURCE = ("(CASE WHEN p.sp < 65 THEN 'inspector' WHEN p.sp < 80 THEN 'hotline' WHEN p.sp < 92 THEN 'public' "
          "WHEN p.sp < 95 THEN 'media' ELSE 'leader' END)")


def create_draws(cursor, dialect: Dialect, total: int, ids: dict) -> None:
    """One row per case: grid, department, people, source, fate, and the instant of each step."""
    u = dialect.u
    base = dialect.table("bench_draw")
    key = "bigint PRIMARY KEY" if dialect.pg else "INTEGER PRIMARY KEY"
    kept = ["g", "k", "sp", "fate", "rw", "extd", "ontime", "lim", "rep", "ins", "opr", "dsp", "r"]
    columns = kept + TIMELINE
    unlogged = "UNLOGGED " if dialect.pg else ""
    cursor.execute(f"CREATE {unlogged}TABLE {base} (i {key}, {', '.join(c + ' bigint' for c in columns)})")
    ins0, opr0, dsp0 = ids["inspector"], ids["operator"], ids["dispatcher"]
    vp = f"({u(4)} % 100)"  # 0–7 rework, 8–22 late, 23–26 extended, 27–28 stalled for weeks
    lim = f"(CASE WHEN {u(13)} % 10 < 3 THEN 259200 ELSE 86400 END)"
    h = (f"(CASE WHEN vp >= 27 AND vp < 29 THEN 864000 + {u(14)} % 4320000 "
         f"WHEN vp >= 8 AND vp < 23 THEN lim * (130 + {u(14)} % 120) / 100 "
         f"WHEN vp >= 23 AND vp < 27 THEN lim * (60 + {u(14)} % 100) / 100 "
         f"ELSE lim * (10 + {u(14)} % 60) / 100 END)")
    inner = f"""
        SELECT i, {u(0)} % {STREETS * COMMUNITIES * GRIDS} AS g, {u(1)} % {DEPARTMENTS} AS k, {u(2)} % 100 AS sp,
               CASE WHEN {u(3)} % 1000 < 30 THEN 1 WHEN {u(3)} % 1000 < 40 THEN 2 ELSE 0 END AS fate,
               {vp} AS vp, {START} + ((i - 1) * {DAYS} / {total}) * 86400 + 21600 + {u(5)} % 57600 AS r,
               {lim} AS lim, {u(6)} AS u6, {u(7)} AS u7, {u(8)} AS u8, {u(9)} AS u9, {u(10)} AS u10,
               {u(11)} AS u11, {u(12)} AS u12, {u(15)} AS u15, {u(16)} AS u16, {u(17)} AS u17, {u(18)} AS u18,
               {u(19)} AS u19, {u(20)} AS u20
        FROM {"generate_series(1::bigint, " + str(total) + ") AS seq(i)" if dialect.pg else "seq"}"""
    middle = f"""
        SELECT i, g, k, sp, fate, vp, r, lim, {h} AS h, u6, u7, u8, u9, u10, u11, u12,
               u15, u16, u17, u18, u19, u20
        FROM rnd q"""
    durations = f"""
        SELECT i, g, k, sp, fate,
               CASE WHEN fate = 0 AND vp < 8 THEN 1 ELSE 0 END AS rw,
               CASE WHEN fate = 0 AND vp >= 23 AND vp < 27 THEN 1 ELSE 0 END AS extd,
               CASE WHEN vp < 8 THEN 1 WHEN vp >= 23 AND vp < 27 THEN
                    (CASE WHEN h <= lim * 3 / 2 THEN 1 ELSE 0 END) WHEN h <= lim THEN 1 ELSE 0 END AS ontime,
               r,
               CASE WHEN sp >= 65 AND sp < 95 THEN 900 + u6 % 9000 ELSE 0 END AS dv,
               180 + u7 % 1320 + CASE WHEN (u7 / 1320) % 100 < 8 THEN 2400 ELSE 0 END AS dr,
               600 + u8 % 2400 AS dvoid,
               180 + u9 % 1320 + CASE WHEN (u9 / 1320) % 100 < 6 THEN 2400 ELSE 0 END AS dd,
               lim, h, 1200 + u10 % 10800 AS dc1, 3600 + u11 % 32400 AS df2, 1200 + u12 % 10800 AS dc2,
               300 + u15 % 3300 AS dx,
               CASE WHEN sp < 65 THEN (CASE WHEN u16 % 10 < 8 THEN {ins0} + g / 4
                                            ELSE {ins0} + (g / 4 + 1 + u16 % 50) % {INSPECTORS} END)
                    WHEN sp < 80 OR (sp >= 92 AND sp < 95) THEN {opr0} + u17 % {CALL_TAKERS} END AS rep,
               {ins0} + g / 4 AS ins, {opr0} + u18 % {CALL_TAKERS} AS opr, {dsp0} + u19 % {DISPATCHERS} AS dsp
        FROM ({middle}) m"""
    seq = "" if dialect.pg else (
        f"RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {total}), ")
    instants = [cut(RAW[name]) if name in EVENTS else RAW[name] for name in TIMELINE]
    # Materialised, so that each draw is computed once and the instants add up stored durations.
    cursor.execute(f"""WITH {seq}rnd AS MATERIALIZED ({inner}), draws AS MATERIALIZED ({durations})
        INSERT INTO {base} (i, {', '.join(columns)})
        SELECT p.i, {', '.join('p.' + c for c in kept)}, {', '.join(instants)} FROM draws p ORDER BY p.i""")


# ---------------------------------------------------------------------------------------------
# the kinds of fact: what exists, when it counts, when it is final, and what it counts as then


def fact_kinds(dialect: Dialect) -> list[dict]:
    """Mirrors facts.derive for the synthetic timeline. `vector` is the outcome at the final
    instant in the family's KEYS order; `counts` says when the final outcome counts at all."""
    iso, obj, arr, jbool, jcase = dialect.iso, dialect.obj, dialect.arr, dialect.jbool, dialect.jcase
    null = "NULL::text" if dialect.pg else "NULL"
    empty = arr()
    kinds = [
        {
            "kind": "task", "ref": 1, "exists": f"{E['d']} IS NOT NULL", "counted": E["d"], "final": E["pa"],
            "counts": "1 = 1", "subjects": {"departments": "p.k"},
            "vector": ["1", "1", "p.ontime", "0", "p.rw", "p.rw", "p.extd", "0", "0", "0"],
            "history": obj(
                dispatched_at=iso(E["d"]),
                deadlines=jcase(
                    (f"{E['ext']} IS NOT NULL", arr(arr(iso(E["d"]), iso(E["tdue"])), arr(iso(E["ext"]),
                                                                                         iso(E["tdue2"])))),
                    (f"p.rw = 1 AND {E['c1']} IS NOT NULL", arr(arr(iso(E["d"]), iso(E["tdue"])),
                                                                  arr(iso(E["c1"]), iso(E["rework_due"])))),
                    default=arr(arr(iso(E["d"]), iso(E["tdue"])))),
                feedbacks=jcase((f"{E['f1']} IS NULL", empty), (f"{E['f2']} IS NULL", arr(iso(E["f1"]))),
                                default=arr(iso(E["f1"]), iso(E["f2"]))),
                checks=jcase((f"{E['c1']} IS NULL", empty), ("p.rw = 0", arr(arr(iso(E["c1"]), jbool("1 = 1")))),
                             (f"{E['c2']} IS NULL", arr(arr(iso(E["c1"]), jbool("1 = 0")))),
                             default=arr(arr(iso(E["c1"]), jbool("1 = 0")), arr(iso(E["c2"]), jbool("1 = 1")))),
                suspensions=empty,
                extensions=jcase((f"{E['ext']} IS NULL", empty), default=arr(iso(E["ext"]))),
                returned_at=null, void_at=null, appealed_at=null),
        },
        {
            "kind": "region", "ref": 0, "exists": f"p.fate <> 1 AND {E['rd']} IS NOT NULL", "counted": E["rd"],
            "final": E["endt"], "counts": "p.fate = 0", "subjects": {"grids": "p.g", "communities": "(p.g / 10)"},
            "community": code(dialect, "communities", "(p.g / 10)"),
            "vector": ["1", "0", "1", "1", "p.ontime", f"CASE WHEN {PUBLIC} THEN 1 ELSE 0 END"],
            "history": obj(
                registered_at=iso(E["rd"]), public_source=jbool(PUBLIC),
                closures=jcase((f"{E['x']} IS NULL", empty), default=arr(arr(iso(E["x"]), null))),
                handled=jcase((f"{E['pa']} IS NULL", empty), default=arr(arr(iso(E["pa"]), jbool("p.ontime = 1")))),
                suspensions=empty, void_at=iso(E["void"])),
        },
        {
            "kind": "report", "ref": 0, "exists": "p.sp < 65", "counted": E["r"], "final": E["endt"],
            "counts": "p.fate <> 2", "subjects": {"inspectors": "p.rep"},
            "vector": ["1", "CASE WHEN p.fate = 0 THEN 1 ELSE 0 END", "0", "0", "0", "0", "0", "0"],
            "history": obj(reported_at=iso(E["r"]),
                           registered_at=iso(f"(CASE WHEN p.fate <> 1 THEN {E['rd']} END)"), void_at=iso(E["void"])),
        },
        {
            "kind": "miss", "ref": 0, "exists": f"p.fate <> 1 AND {E['rd']} IS NOT NULL", "counted": E["rd"],
            "final": E["endt"], "counts": "p.fate = 0", "subjects": {"inspectors": "p.ins"},
            "vector": ["0", "0", f"CASE WHEN {PUBLIC} THEN 1 ELSE 0 END", "1", "0", "0", "0", "0"],
            "history": obj(registered_at=iso(E["rd"]), public_source=jbool(PUBLIC), void_at=iso(E["void"])),
        },
        {
            "kind": "verify", "ref": 1, "exists": VERIFIED, "counted": E["r"], "final": E["endt"],
            "counts": "p.fate <> 2", "subjects": {"inspectors": "p.ins"},
            "vector": ["0", "0", "0", "0", "1", f"CASE WHEN {E['ve']} <= {E['vdue']} THEN 1 ELSE 0 END", "0", "0"],
            "history": obj(stage=dialect.literal("verify"), started_at=iso(E["r"]), due_at=iso(E["vdue"]),
                           ended_at=iso(E["ve"]), void_at=iso(E["void"])),
        },
        {
            "kind": "check", "ref": 1, "exists": f"{E['f1']} IS NOT NULL", "counted": E["f1"], "final": E["endt"],
            "counts": "1 = 1", "subjects": {"inspectors": "p.ins"},
            "vector": ["0", "0", "0", "0", "0", "0", "1", f"CASE WHEN {E['c1']} <= {E['cdue1']} THEN 1 ELSE 0 END"],
            "history": obj(stage=dialect.literal("check"), started_at=iso(E["f1"]), due_at=iso(E["cdue1"]),
                           ended_at=iso(E["c1"]), void_at=null),
        },
        {
            "kind": "check", "ref": 2, "exists": f"{E['f2']} IS NOT NULL", "counted": E["f2"], "final": E["endt"],
            "counts": "1 = 1", "subjects": {"inspectors": "p.ins"},
            "vector": ["0", "0", "0", "0", "0", "0", "1", f"CASE WHEN {E['c2']} <= {E['cdue2']} THEN 1 ELSE 0 END"],
            "history": obj(stage=dialect.literal("check"), started_at=iso(E["f2"]), due_at=iso(E["cdue2"]),
                           ended_at=iso(E["c2"]), void_at=null),
        },
        {
            "kind": "register", "ref": 1, "exists": f"{E['rd']} IS NOT NULL", "counted": E["rs"], "final": E["endt"],
            "counts": "1 = 1", "subjects": {"operators": "p.opr"},
            "vector": ["1", "CASE WHEN p.fate <> 1 THEN 1 ELSE 0 END",
                       f"CASE WHEN p.fate <> 1 AND {E['rd']} <= {E['rdue']} THEN 1 ELSE 0 END",
                       "CASE WHEN p.fate = 0 THEN 1 ELSE 0 END", "0", "0", "0", "0"],
            "history": obj(started_at=iso(E["rs"]), decided_at=iso(E["rd"]), due_at=iso(E["rdue"]),
                           registered=jbool("p.fate <> 1"), cancelled_at=iso(E["void"])),
        },
        {
            "kind": "dispatch", "ref": 1, "exists": f"{E['d']} IS NOT NULL", "counted": E["rd"], "final": E["endt"],
            "counts": "1 = 1", "subjects": {"operators": "p.dsp"},
            "vector": ["0", "0", "0", "0", "1", "1", f"CASE WHEN {E['d']} <= {E['ddue']} THEN 1 ELSE 0 END", "1"],
            "history": obj(started_at=iso(E["rd"]), dispatched_at=iso(E["d"]), due_at=iso(E["ddue"]),
                           returned_at=null, void_at=null),
        },
    ]
    return kinds


FAMILIES = ("departments", "grids", "communities", "inspectors", "operators")


def code(dialect: Dialect, family: str, x: str) -> str:
    """The subject's code from its integer key (department and grid numbers, user ids); the codes
    are those build_city gives."""
    pad = dialect.pad
    if family == "departments":
        return f"('BD' || {pad(f'{x} + 1', 2)})"
    if family == "grids":
        street, community, grid = pad(f"{x} / 100 + 1", 3), pad(f"({x} / 10) % 10 + 1", 3), pad(f"{x} % 10 + 1", 3)
        return f"('339901' || {street} || {community} || {grid})"
    if family == "communities":
        return f"('339901' || {pad(f'{x} / 10 + 1', 3)} || {pad(f'{x} % 10 + 1', 3)})"
    return dialect.text(x)


def joins(dialect: Dialect) -> str:
    return (f"FROM {dialect.table('bench_draw')} p JOIN {dialect.table('bench_grid')} gg ON gg.g = p.g "
            f"JOIN {dialect.table('bench_dept')} dd ON dd.k = p.k")


def i_range(first_day: int, last_day: int, total: int, kind: str) -> tuple[int, int]:
    """Rows reported from a little before `first_day` up to `last_day`: a fact counts on the day
    of its step, hours after the report, or for a check up to ~62 days after (stalled cases)."""
    day0 = (START + 28800) // 86400
    lo = max(1, (first_day - day0 - (70 if kind == "check" else 3)) * total // DAYS)
    hi = min(total, (last_day - day0 + 1) * total // DAYS + 1)
    return lo, hi


def insert_rollups(cursor, dialect: Dialect, city_id: int, total: int) -> None:
    """Final outcomes per (family, subject, counting day, final day), about a month of cases at a
    time, each added onto what is stored as facts.refresh_case does (a fact can count days after
    its case was reported), in the order production writes them (by the day they became final)."""
    from chengguan.evaluation.facts import FAMILY_KEYS
    from chengguan.evaluation.models import Rollup

    table = Rollup._meta.db_table
    kinds = fact_kinds(dialect)
    n = ", ".join(f"n{i}" for i in range(10))
    sums = ", ".join(f"SUM(n{i}) AS n{i}" for i in range(10))
    adds = ", ".join(f"n{i} = {table}.n{i} + excluded.n{i}" for i in range(10))
    family = "CASE fam " + " ".join(f"WHEN {f} THEN '{name}'" for f, name in enumerate(FAMILIES)) + " END"
    subject = "CASE fam " + " ".join(
        f"WHEN {f} THEN {code(dialect, name, 'subj')}" for f, name in enumerate(FAMILIES)) + " END"
    chunks = (DAYS + 29) // 30
    for chunk in range(chunks):
        lo, hi = chunk * total // chunks + 1, (chunk + 1) * total // chunks
        parts = []
        for kind in kinds:
            for name, key in kind["subjects"].items():
                vector = kind["vector"] + ["0"] * (10 - len(FAMILY_KEYS[name]))
                parts.append(
                    f"SELECT {FAMILIES.index(name)} AS fam, {key} AS subj, {dn(kind['counted'])} AS dn, "
                    f"{dn(kind['final'])} AS mn, {', '.join(f'{v} AS n{i}' for i, v in enumerate(vector))} "
                    f"FROM {dialect.table('bench_draw')} p WHERE p.i BETWEEN {lo} AND {hi} AND {kind['exists']} "
                    f"AND {kind['counts']} AND {kind['final']} IS NOT NULL")
        cursor.execute(
            f"INSERT INTO {table} (city_id, family, subject, day, snapshot, mark, {n}) "
            f"SELECT {city_id}, {family}, {subject}, {dialect.date('dn')}, FALSE, {dialect.date('mn')}, {n} FROM ("
            f"SELECT fam, subj, dn, mn, {sums} FROM ({' UNION ALL '.join(parts)}) f "
            f"GROUP BY mn, fam, subj, dn) g WHERE TRUE ORDER BY mn, fam, subj, dn "
            f"ON CONFLICT (city_id, family, snapshot, mark, day, subject) DO UPDATE SET {adds}")


def insert_facts(cursor, dialect: Dialect, city_id: int, total: int, case0: int) -> None:
    from chengguan.evaluation.facts import FAMILY_KEYS
    from chengguan.evaluation.models import Fact

    table = Fact._meta.db_table
    first = (FACTS_FIRST - date(1970, 1, 1)).days
    last = (FACTS_LAST - date(1970, 1, 1)).days
    for kind in fact_kinds(dialect):
        lo, hi = i_range(first, last, total, kind["kind"])
        family, key = next(iter(kind["subjects"].items()))
        subject = code(dialect, family, key)
        keys = FAMILY_KEYS[family]
        # The stored final outcome, with its zero counts spelled out (production leaves them out;
        # readers take a missing key as 0).
        outcome = dialect.obj(**{key: value for key, value in zip(keys, kind["vector"], strict=True)
                                 if value != "0"})
        final = kind["final"]
        community = kind.get("community", "''")
        cursor.execute(
            f"INSERT INTO {table} (city_id, case_id, kind, ref, subject, community, counted_at, day, final_at, "
            f"final_day, history, outcome) "
            f"SELECT {city_id}, {case0} + p.i, '{kind['kind']}', {kind['ref']}, {subject}, "
            f"{community}, {dialect.ts(kind['counted'])}, {dialect.date(dn(kind['counted']))}, "
            f"{dialect.ts(final)}, CASE WHEN {final} IS NOT NULL THEN {dialect.date(dn(final))} END, "
            f"{kind['history']}, CASE WHEN {final} IS NOT NULL AND {kind['counts']} THEN {outcome} END "
            f"FROM {dialect.table('bench_draw')} p WHERE p.i BETWEEN {lo} AND {hi} AND {kind['exists']} "
            f"AND {dn(kind['counted'])} BETWEEN {first} AND {last} ORDER BY p.i")


def insert_cases(cursor, dialect: Dialect, city_id: int, class_id: int, case0: int) -> None:
    from chengguan.cases.models import Case

    ts = dialect.ts
    state = (f"(CASE WHEN {E['endt']} IS NOT NULL THEN (CASE p.fate WHEN 1 THEN 'rejected' "
             f"WHEN 2 THEN 'cancelled' ELSE 'closed' END) WHEN {E['pa']} IS NOT NULL THEN 'closable' "
             f"WHEN {E['f2']} IS NOT NULL THEN 'checking' WHEN {E['c1']} IS NOT NULL THEN 'dispatched' "
             f"WHEN {E['f1']} IS NOT NULL THEN 'checking' "
             f"WHEN {E['d']} IS NOT NULL THEN 'handling' WHEN {E['rd']} IS NOT NULL THEN 'registered' "
             f"WHEN {VERIFIED} AND {E['ve']} IS NULL THEN 'verifying' ELSE 'reported' END)")
    stage = (f"(CASE WHEN {E['endt']} IS NOT NULL OR {E['pa']} IS NOT NULL THEN '' "
             f"WHEN {E['f2']} IS NOT NULL OR ({E['f1']} IS NOT NULL AND {E['c1']} IS NULL) THEN 'check' "
             f"WHEN {E['d']} IS NOT NULL THEN 'handle' WHEN {E['rd']} IS NOT NULL THEN 'dispatch' "
             f"WHEN {VERIFIED} AND {E['ve']} IS NULL THEN 'verify' ELSE 'register' END)")
    due = (f"(CASE WHEN {E['endt']} IS NOT NULL OR {E['pa']} IS NOT NULL THEN NULL "
           f"WHEN {E['f2']} IS NOT NULL THEN {E['cdue2']} WHEN {E['c1']} IS NOT NULL THEN {E['rework_due']} "
           f"WHEN {E['f1']} IS NOT NULL THEN {E['cdue1']} "
           f"WHEN {E['d']} IS NOT NULL THEN (CASE WHEN {E['ext']} IS NOT NULL THEN {E['tdue2']} ELSE {E['tdue']} END) "
           f"WHEN {E['rd']} IS NOT NULL THEN {E['ddue']} WHEN {VERIFIED} AND {E['ve']} IS NULL THEN {E['vdue']} "
           f"ELSE {E['rdue']} END)")
    values = {
        "id": f"{case0} + p.i",
        "number": f"{dialect.ymd('p.r + 28800')} || {dialect.pad('p.i', 8)}",
        "city_id": str(city_id), "version": "1", "state": state, "state_before_suspension": "''",
        "source": SOURCE, "small_class_id": str(class_id), "class_code": "'E9901'", "urgency": "'normal'",
        "area_class": "'B'", "filing_condition": "''",
        "lon": "gg.lon + (p.i % 97) * 0.00002", "lat": "gg.lat + (p.i % 89) * 0.00002",
        "grid_id": "gg.grid_id", "grid_code": "gg.code", "community_code": "gg.community",
        "street_code": "gg.street", "district_code": "'339901'", "address": "'富春路 1 号附近'",
        "description": "'基准测试案件'", "component_code": "''", "self_handled": "FALSE",
        "reporter_id": "p.rep", "reporter_name": "''", "reporter_phone": "''", "supervised": "FALSE",
        "priority": "0", "end_reason": "''",
        "reported_at": ts("p.r"), "verified_at": ts(E["ve"]),
        "registered_at": ts(f"(CASE WHEN p.fate <> 1 THEN {E['rd']} END)"), "dispatched_at": ts(E["d"]),
        "handled_at": ts(E["pf"]), "checked_at": ts(E["pa"]), "closed_at": ts(E["x"]),
        "updated_at": ts(f"COALESCE({E['endt']}, {E['pa']}, {E['d']}, {E['rd']}, p.r)"),
        "department_id": f"(CASE WHEN {E['d']} IS NOT NULL THEN dd.id END)",
        "rework_count": f"(CASE WHEN p.rw = 1 AND {E['c1']} IS NOT NULL THEN 1 ELSE 0 END)",
        "return_count": "0", "extension_count": f"(CASE WHEN {E['ext']} IS NOT NULL THEN 1 ELSE 0 END)",
        "stage": stage, "stage_due_at": ts(due), "stage_yellow_at": ts(f"({due} - 1800)"),
        "is_open": f"(CASE WHEN {E['endt']} IS NULL THEN TRUE END)", "calendar_warning": "''",
        "rating_comment": "''",
    }
    cursor.execute(f"INSERT INTO {Case._meta.db_table} ({', '.join(values)}) "
                   f"SELECT {', '.join(values.values())} {joins(dialect)} ORDER BY p.i")


# ---------------------------------------------------------------------------------------------
# the city and the build


def build_city():
    from chengguan.catalog.models import MajorClass, SmallClass
    from chengguan.geo.models import City, Grid, Region
    from chengguan.org.models import Department, User
    from chengguan.worktime.services import default_calendar

    city = City.objects.create(code="339900", name="基准市", calendar=default_calendar())
    side = 0.002
    district = Region.objects.create(code="339901", name="基准区", level="district", city=city,
                                     area_m2=STREETS * COMMUNITIES * GRIDS * 40_000)
    streets = Region.objects.bulk_create(
        Region(code=f"339901{s + 1:03d}", name=f"第{s + 1}街道", level="street", city=city, parent=district,
               area_m2=COMMUNITIES * GRIDS * 40_000) for s in range(STREETS))
    communities = Region.objects.bulk_create(
        Region(code=f"{street.code}{c + 1:03d}", name=f"{street.name}第{c + 1}社区", level="community", city=city,
               parent=street, area_m2=GRIDS * 40_000) for street in streets for c in range(COMMUNITIES))
    grids = []
    for n, community in enumerate(communities):
        for k in range(GRIDS):
            lon, lat = 119.9 + (n % 20) * 10 * side + k * side, 30.0 + (n // 20) * side
            grids.append(Grid(code=f"{community.code}{k + 1:03d}", city=city, community=community,
                              street_code=community.code[:9], district_code=district.code,
                              geometry={"type": "Polygon", "coordinates": [[[lon, lat], [lon + side, lat],
                                                                            [lon + side, lat + side],
                                                                            [lon, lat + side], [lon, lat]]]},
                              area_m2=40_000, center_lon=lon + side / 2, center_lat=lat + side / 2,
                              min_lon=lon, min_lat=lat, max_lon=lon + side, max_lat=lat + side))
    grids = Grid.objects.bulk_create(grids)
    departments = Department.objects.bulk_create(
        Department(code=f"BD{k + 1:02d}", name=f"基准部门{k + 1}", city=city) for k in range(DEPARTMENTS))
    major = MajorClass.objects.create(kind="event", code="99", name="基准大类")
    small = SmallClass.objects.create(code="E9901", kind="event", major=major, name="基准小类")
    ids = {}
    for role, count, label in (("inspector", INSPECTORS, "监督员"), ("operator", CALL_TAKERS, "受理员"),
                               ("dispatcher", DISPATCHERS, "派遣员")):
        users = User.objects.bulk_create(
            User(username=f"bench-{role}-{n + 1:03d}", role=role, city=city, display_name=f"{label}{n + 1:03d}",
                 password="!") for n in range(count))
        pks = sorted(u.pk for u in users)
        assert pks == list(range(pks[0], pks[0] + count)), "user ids must be consecutive"
        ids[role] = pks[0]
    return city, small, grids, departments, ids


def table_indexes(cursor, vendor: str, tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the plain indexes of these tables (not those behind constraints)."""
    quoted = ", ".join(f"'{t}'" for t in tables)
    if vendor == "postgresql":
        cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({quoted}) AND NOT EXISTS "
                       f"(SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)")
    else:
        cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({quoted}) "
                       f"AND sql IS NOT NULL")
    return list(cursor.fetchall())


def build(total: int, seed: int, workdir: Path) -> dict:
    from django.db import connection

    from chengguan.cases.models import Case
    from chengguan.evaluation.models import Fact, Rollup

    timings = {}
    started = time.monotonic()
    city, small, grids, departments, ids = build_city()
    dialect = Dialect(connection.vendor, seed)
    tables = [Case._meta.db_table, Fact._meta.db_table, Rollup._meta.db_table]
    scratch = workdir / "scratch.sqlite3"
    with connection.cursor() as cursor:
        if dialect.pg:
            for setting in ("synchronous_commit = off", "work_mem = '512MB'", "maintenance_work_mem = '1GB'",
                            "session_replication_role = replica"):  # no per-row foreign key triggers
                cursor.execute(f"SET {setting}")
        else:
            cursor.execute("PRAGMA journal_mode = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA cache_size = -1000000")
            cursor.execute("ATTACH DATABASE %s AS scratch", [str(scratch)])
            cursor.execute("PRAGMA scratch.journal_mode = OFF")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Case._meta.db_table}")
        case0 = cursor.fetchone()[0] + 1000
        unlogged = "UNLOGGED " if dialect.pg else ""
        cursor.execute(f"CREATE {unlogged}TABLE {dialect.table('bench_grid')} (g integer PRIMARY KEY, "
                       f"grid_id integer, code varchar(20), community varchar(40), street varchar(40), lon float, "
                       f"lat float)")
        cursor.executemany(f"INSERT INTO {dialect.table('bench_grid')} VALUES (%s, %s, %s, %s, %s, %s, %s)",
                           [(n, g.pk, g.code, g.code[:12], g.code[:9], g.min_lon, g.min_lat)
                            for n, g in enumerate(grids)])
        cursor.execute(f"CREATE {unlogged}TABLE {dialect.table('bench_dept')} (k integer PRIMARY KEY, "
                       f"id integer, code varchar(40))")
        cursor.executemany(f"INSERT INTO {dialect.table('bench_dept')} VALUES (%s, %s, %s)",
                           [(n, d.pk, d.code) for n, d in enumerate(departments)])
        # The rollup's unique index stays: rows are added onto it as production does.
        indexes = [(name, sql) for name, sql in table_indexes(cursor, connection.vendor, tables)
                   if name != "rollup_unique"]
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        timings["city"] = time.monotonic() - started

        step = time.monotonic()
        create_draws(cursor, dialect, total, ids)
        timings["draws"] = time.monotonic() - step
        say(f"  draws: {timings['draws']:.0f} s")
        step = time.monotonic()
        insert_cases(cursor, dialect, city.pk, small.pk, case0)
        timings["cases"] = time.monotonic() - step
        say(f"  cases: {timings['cases']:.0f} s")
        step = time.monotonic()
        insert_rollups(cursor, dialect, city.pk, total)
        timings["rollups"] = time.monotonic() - step
        say(f"  rollups: {timings['rollups']:.0f} s")
        step = time.monotonic()
        insert_facts(cursor, dialect, city.pk, total, case0)
        timings["facts"] = time.monotonic() - step
        say(f"  facts: {timings['facts']:.0f} s")
        step = time.monotonic()
        for _, sql in indexes:
            cursor.execute(sql)
        timings["indexes"] = time.monotonic() - step
        say(f"  indexes: {timings['indexes']:.0f} s")
        for name in ("bench_draw", "bench_grid", "bench_dept"):
            cursor.execute(f"DROP TABLE {dialect.table(name)}")
        if dialect.pg:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM cases_case))",
                           [Case._meta.db_table])
            cursor.execute("RESET session_replication_role")
        else:
            cursor.execute("DETACH DATABASE scratch")
            scratch.unlink()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
        step = time.monotonic()
        cursor.execute("ANALYZE")
        timings["analyze"] = time.monotonic() - step
    connection.close()  # the timed part runs on a connection configured as in production
    timings["total"] = time.monotonic() - started
    return {"city_id": city.pk, "timings": timings}


# ---------------------------------------------------------------------------------------------
# checks


def rows_of(city, as_of) -> dict:
    from chengguan.evaluation.services import evaluate

    return {subject: evaluate(subject, MONTH, city=city, as_of=as_of, level=level)["rows"]
            for subject, level in SUBJECTS}


def check_rollups_against_facts(city) -> list[str]:
    """The synthetic rollup rows of the fact months equal the final outcomes of the synthetic
    facts, worked out by indicators.outcome and added up as facts.refresh_case does."""
    from chengguan.evaluation import indicators as ind
    from chengguan.evaluation.facts import _contribute
    from chengguan.evaluation.models import Fact, Rollup

    expected: dict = {}
    final = Fact.objects.filter(city=city, final_at__isnull=False, day__gte=FACTS_FIRST, day__lte=FACTS_LAST)
    problems = []
    for fact in final.iterator(chunk_size=5000):
        out = ind.outcome(fact.kind, ind.history_from_json(fact.kind, fact.history), fact.final_at)
        stored = {k: v for k, v in (fact.outcome or {}).items() if v}
        if stored != (out or {}) and len(problems) < 5:
            problems.append(f"fact {fact.kind} of case {fact.case_id}: stored {stored}, outcome {out}")
        _contribute(expected, fact.kind, fact.subject, fact.community, fact.day, fact.final_day, out, +1)
    expected = {key: vector for key, vector in expected.items() if any(vector)}
    got = {}
    stored_rows = Rollup.objects.filter(city=city, snapshot=False, day__gte=FACTS_FIRST, day__lte=FACTS_LAST)
    for row in stored_rows.iterator(chunk_size=5000):
        width = len(expected.get((row.family, row.subject, row.day, False, row.mark), [0] * 10))
        got[(row.family, row.subject, row.day, False, row.mark)] = [getattr(row, f"n{i}") for i in range(width)]
    for key in sorted(set(expected) | set(got), key=str):
        if expected.get(key) != got.get(key) and len(problems) < 10:
            problems.append(f"rollup {key}: from facts {expected.get(key)}, stored {got.get(key)}")
    say(f"  rollup rows of May–June checked against {sum(1 for _ in expected)} sums of final facts")
    return problems


def check_real_loop() -> list[str]:
    """Cases walked through the real services (chengguan.demo.simulate on the test city):
    at several midnights, the snapshot path gives the same tables as the one-by-one path."""
    from chengguan.cases.tests.conftest import World
    from chengguan.demo.simulate import simulate_cases
    from chengguan.evaluation.facts import close_day
    from chengguan.evaluation.services import evaluate

    started = time.monotonic()
    world = World()
    made = simulate_cases(world.city, days=35, per_day=24, seed=5, now=datetime(2026, 6, 12, 15, 0, tzinfo=SH),
                          progress=False)
    say(f"  real loop: {made} cases walked through the services in {time.monotonic() - started:.0f} s")
    problems = []
    checked = 0
    for midnight in (datetime(2026, 5, 18, tzinfo=SH), datetime(2026, 6, 1, tzinfo=SH),
                     datetime(2026, 6, 8, tzinfo=SH), datetime(2026, 6, 12, tzinfo=SH)):
        period = f"{(midnight - timedelta(days=1)):%Y-%m}"
        cases = [("departments", "street"), ("inspectors", "street"), ("operators", "street"),
                 *(("regions", level) for level in ("grid", "community", "street", "district"))]
        one_by_one = {c: evaluate(c[0], period, city=world.city, as_of=midnight, level=c[1])["rows"] for c in cases}
        close_day(world.city, (midnight - timedelta(days=1)).date())
        for c in cases:
            snapshot = evaluate(c[0], period, city=world.city, as_of=midnight, level=c[1])["rows"]
            checked += 1
            if snapshot != one_by_one[c]:
                problems.append(f"real loop {c} as of {midnight:%Y-%m-%d}: snapshot and one-by-one differ")
        counted = sum(r.get("due", 0) + r.get("registered", 0) + r.get("reports", 0) + r.get("accepted", 0)
                      for rows in one_by_one.values() for r in rows)
        if not counted:
            problems.append(f"real loop as of {midnight:%Y-%m-%d}: nothing counted")
    say(f"  real loop: {checked} tables compared (snapshot = one by one)")
    return problems


# ---------------------------------------------------------------------------------------------
# timing


def baseline_queries(city_id: int, t: datetime, *, scan: bool = False):
    """Plain GROUP BYs over the cases table for May: comparable counts per department (by
    dispatched_at), street (by registered_at), inspector (their reports) and operator (the calls
    they took), as of t. With `scan` (SQLite), the two queries whose period column has no index
    read the table in order instead of walking an index that only spares the GROUP BY its sort."""
    from django.db import connection

    table = "cases_case NOT INDEXED" if scan else "cases_case"
    adapt = connection.ops.adapt_datetimefield_value
    start, end, at = adapt(datetime(2026, 5, 1, tzinfo=SH)), adapt(MONTH_END), adapt(t)
    done = "CASE WHEN {} <= %s THEN 1 ELSE 0 END"
    return [
        ("SELECT department_id, COUNT(*), SUM(" + done.format("checked_at") + "), "
         "SUM(CASE WHEN rework_count > 0 THEN 1 ELSE 0 END), SUM(rework_count), "
         "SUM(CASE WHEN extension_count > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN state = 'suspended' THEN 1 ELSE 0 END) "
         f"FROM {table} WHERE city_id = %s AND dispatched_at >= %s AND dispatched_at < %s "
         "AND state NOT IN ('cancelled') GROUP BY department_id", [at, city_id, start, end]),
        ("SELECT street_code, COUNT(*), SUM(" + done.format("closed_at") + "), "
         "SUM(CASE WHEN state = 'suspended' THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN source NOT IN ('inspector', 'volunteer') THEN 1 ELSE 0 END) "
         f"FROM {table} WHERE city_id = %s AND registered_at >= %s AND registered_at < %s "
         "AND state NOT IN ('cancelled') GROUP BY street_code", [at, city_id, start, end]),
        ("SELECT reporter_id, COUNT(*), SUM(CASE WHEN registered_at IS NOT NULL THEN 1 ELSE 0 END) "
         "FROM cases_case WHERE city_id = %s AND reported_at >= %s AND reported_at < %s "
         "AND source IN ('inspector', 'volunteer') GROUP BY reporter_id", [city_id, start, end]),
        ("SELECT reporter_id, COUNT(*), SUM(" + done.format("registered_at") + ") "
         "FROM cases_case WHERE city_id = %s AND reported_at >= %s AND reported_at < %s "
         "AND source IN ('hotline', 'media') GROUP BY reporter_id", [at, city_id, start, end]),
    ]


def run_baseline(queries) -> int:
    from django.db import connection

    rows = 0
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return rows


def explain(queries, city, t) -> None:
    from django.db import connection

    from chengguan.evaluation.models import Rollup

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    rollup = (Rollup.objects.filter(city=city, family="inspectors", day__gte=MONTH_FIRST, day__lte=MONTH_LAST,
                                    snapshot=False, mark__lt=t.date()).values("subject").annotate())
    sql, params = rollup.query.sql_with_params()
    with connection.cursor() as cursor:
        for text, args in [*queries, (sql, list(params))]:
            cursor.execute(prefix + text, args)
            say("\n" + text[:160] + " …")
            for row in cursor.fetchall():
                say("    " + " ".join(str(v) for v in row))


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
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--repeat-mid", type=int, default=3, help="runs of the mid-month (one-by-one) evaluation")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--check", action="store_true",
                        help="also check rollups against facts, and the two paths on cases from the real loop")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    workdir = setup_environment(args)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from chengguan.evaluation.facts import close_day
    from chengguan.evaluation.models import Fact, Rollup
    from chengguan.geo.models import City

    try:
        call_command("migrate", verbosity=0)
        problems: list[str] = []
        if args.check:
            problems += check_real_loop()
        say(f"building {args.cases:,} cases on {connection.vendor} …")
        built = build(args.cases, args.seed, workdir)
        city = City.objects.get(pk=built["city_id"])
        facts, rollups = Fact.objects.filter(city=city).count(), Rollup.objects.filter(city=city).count()
        say(f"built in {built['timings']['total']:.0f} s: {facts:,} facts (May–June), {rollups:,} rollup rows")

        # The month end before its snapshot exists: pending facts one by one; then the snapshot.
        step = time.monotonic()
        one_by_one = rows_of(city, MONTH_END)
        month_end_one_by_one_ms = (time.monotonic() - step) * 1000
        step = time.monotonic()
        pending = close_day(city, MONTH_LAST)
        close_day_s = time.monotonic() - step
        say(f"close_day({MONTH_LAST}): {pending:,} pending facts in {close_day_s:.1f} s")
        from_snapshot = rows_of(city, MONTH_END)
        for subject, _ in SUBJECTS:
            if from_snapshot[subject] != one_by_one[subject]:
                problems.append(f"{subject} as of {MONTH_END:%Y-%m-%d}: snapshot and one-by-one differ")
        if not any(row.get("due") for row in from_snapshot["departments"]):
            problems.append("no department counted anything")
        if args.check:
            problems += check_rollups_against_facts(city)

        queries = baseline_queries(city.pk, MONTH_END)
        if args.explain:
            explain(queries, city, MONTH_END)
        scans = baseline_queries(city.pk, MONTH_END, scan=True) if connection.vendor == "sqlite" else None
        baseline_times, scan_times, ours_times = [], [], []
        run_baseline(queries)
        rows_of(city, MONTH_END)
        for _ in range(args.repeat):  # alternate, so that all see the same load on a shared machine
            baseline_times += timed(lambda: run_baseline(queries), 1)
            if scans:
                scan_times += timed(lambda: run_baseline(scans), 1)
            ours_times += timed(lambda: rows_of(city, MONTH_END), 1)
        mid_times = timed(lambda: rows_of(city, MID_MONTH), args.repeat_mid)
        baseline_ms, ours_ms = statistics.median(baseline_times), statistics.median(ours_times)
        mid_ms = statistics.median(mid_times)
        ratio = baseline_ms / ours_ms
        gated = args.cases >= GOAL_CASES
        ok_time, ok_ratio = ours_ms < GOAL_MS, ratio >= GOAL_RATIO or not gated
        database = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
        print(f"\nEvaluation of {MONTH} (all subjects, regions by street) with {args.cases:,} cases, {database}; "
              f"median of {args.repeat} runs (mid-month: {args.repeat_mid})\n")
        print("| database | path | cases | median ms | ratio | goal | result |")
        print("|---|---|---:|---:|---:|:---:|:---:|")
        print(f"| {database} | baseline: GROUP BY over cases_case | {args.cases:,} | {baseline_ms:,.0f} | 1× | | |")
        if scan_times:
            scan_ms = statistics.median(scan_times)
            print(f"| {database} | (reference) the same, table scan forced | {args.cases:,} | {scan_ms:,.0f} | "
                  f"{baseline_ms / scan_ms:.1f}× | | |")
        print(f"| {database} | evaluate, month end (rollup + snapshot) | {args.cases:,} | {ours_ms:,.0f} | "
              f"{ratio:.{0 if ratio >= 10 else 1}f}× | < 1 s, ≥ 20×{'' if gated else ' (at 10M)'} | "
              f"{'pass' if ok_time and ok_ratio else 'FAIL'} |")
        print(f"| {database} | evaluate, mid-month (pending one by one) | {args.cases:,} | {mid_ms:,.0f} | "
              f"{baseline_ms / mid_ms:.1f}× | — | |")
        print(f"\n- month end before its snapshot (one by one, once): {month_end_one_by_one_ms:,.0f} ms; "
              f"close_day: {close_day_s:.1f} s over {pending:,} pending facts")
        def listed(times):
            return ", ".join(f"{t:.0f}" for t in times)

        print(f"- runs: baseline {listed(baseline_times)} ms; ours {listed(ours_times)} ms; "
              f"mid-month {listed(mid_times)} ms")
        if scan_times:
            print(f"- table scan forced: {listed(scan_times)} ms; ours is "
                  f"{statistics.median(scan_times) / ours_ms:.1f}× faster than that")
        t = built["timings"]
        print(f"- build (not timed): {t['total']:.0f} s — draws {t['draws']:.0f}, cases {t['cases']:.0f}, rollups "
              f"{t['rollups']:.0f}, facts {t['facts']:.0f}, indexes {t['indexes']:.0f}, analyze {t['analyze']:.0f}; "
              f"{rollups:,} rollup rows, {facts:,} facts")
        if problems:
            print("\nCHECK FAILED:\n" + "\n".join(f"- {p}" for p in problems))
        elif args.check:
            print("- checks passed")
        return 1 if problems or not ok_time or not ok_ratio else 0
    finally:
        connection.close()
        if not args.keep:
            if args.database == "postgres":
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                                f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)"], check=False)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
