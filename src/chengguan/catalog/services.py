"""The catalog's use cases: load the standard classes, look up limits and owners, search.

Everything here reads editable rows: the standard's classes and the time limits are seed
data loaded by `load_catalog`, which an administrator then edits in the admin.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import F, Q

from chengguan.catalog.models import Kind, MajorClass, Responsibility, SmallClass, StageLimit, TimeLimit, Urgency
from chengguan.errors import Invalid, NotFound
from chengguan.org.models import Department

SEED_DIR = Path(__file__).resolve().parent / "seed"

# Working minutes in a working day with the default hours 08:30–12:00 and 13:30–17:30; the
# city standards state limits in working days, and this is how a day is turned into minutes.
MINUTES_PER_WORKING_DAY = 450

# unit of a limit in the seed files → (minutes per unit, counted in working time)
UNITS: dict[str, tuple[int, bool]] = {
    "working_days": (MINUTES_PER_WORKING_DAY, True),
    "working_hours": (60, True),
    "working_minutes": (1, True),
    "days": (24 * 60, False),
    "hours": (60, False),
    "minutes": (1, False),
}

# Stage limits of a city that has no row of its own (DOMAIN.md: verify 60, register 30,
# dispatch 30, check 120 working minutes).
DEFAULT_STAGE_LIMITS: dict[str, tuple[int, bool]] = {
    StageLimit.Stage.VERIFY: (60, True),
    StageLimit.Stage.REGISTER: (30, True),
    StageLimit.Stage.DISPATCH: (30, True),
    StageLimit.Stage.CHECK: (120, True),
}

KIND_PREFIX = {Kind.EVENT: "E", Kind.COMPONENT: "C"}
STANDARD_FILES = {Kind.COMPONENT: "component_classes.csv", Kind.EVENT: "event_classes.csv"}
EXAMPLES_FILE = "time_limits_examples.csv"


# ---------------------------------------------------------------------------------------------
# names


def pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials of a Chinese name, for the class picker: 暴露垃圾 → "blj"."""
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(ch for part in letters for ch in part.lower() if "a" <= ch <= "z")


def class_code(kind: str, code: str) -> str:
    """The kind-prefixed small class code: ("event", "0102") → "E0102"."""
    return f"{KIND_PREFIX[Kind(kind)]}{code}"


def describe_minutes(minutes: int, working_time: bool) -> str:
    """A limit as people say it: 450 working minutes → "1 个工作日", 90 → "1.5 小时"."""
    if working_time and minutes % MINUTES_PER_WORKING_DAY == 0:
        return f"{minutes // MINUTES_PER_WORKING_DAY} 个工作日"
    if not working_time and minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} 天"
    prefix = "工作" if working_time else ""
    if minutes % 60 == 0:
        return f"{minutes // 60} {prefix}小时"
    if minutes % 30 == 0:
        return f"{minutes / 60:g} {prefix}小时"
    return f"{minutes} {prefix}分钟"


# ---------------------------------------------------------------------------------------------
# loading the standard


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, created: int = 0, updated: int = 0) -> None:
        self.created[what] = self.created.get(what, 0) + created
        self.updated[what] = self.updated.get(what, 0) + updated

    def summary(self) -> str:
        names = {"major": "大类", "small": "小类", "limit": "处置时限"}
        parts = [f"{names[k]} 新增 {self.created.get(k, 0)}、更新 {self.updated.get(k, 0)}" for k in names]
        return "；".join(parts)


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise NotFound(f"找不到数据文件：{path}", f"Data file not found: {path}", field="path")
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@functools.cache
def _wording() -> dict[str, str]:
    """Chinese wording of the English conditions and sources in the examples file."""
    return {row["en"]: row["zh"] for row in _read_csv(SEED_DIR / "example_wording.csv")}


def _zh(text: str) -> str:
    return _wording().get(text, text)


@functools.cache
def _default_rows() -> tuple[dict[str, str], ...]:
    return tuple(_read_csv(SEED_DIR / "default_time_limits.csv"))


def _to_minutes(limit: str, unit: str, where: str) -> tuple[int, bool]:
    if unit not in UNITS:
        raise Invalid(f"{where}：未知的时限单位 {unit}", f"{where}: unknown limit unit '{unit}'", field="unit")
    per, working = UNITS[unit]
    try:
        value = float(limit)
    except ValueError:
        raise Invalid(
            f"{where}：时限 {limit} 不是数字", f"{where}: limit '{limit}' is not a number", field="limit"
        ) from None
    return round(value * per), working


def default_limit(kind: str, code: str, urgency: str) -> tuple[int, bool, str]:
    """The seed default for a small class: (minutes, working_time, source).

    The most specific row of `seed/default_time_limits.csv` wins: the 4-digit small class,
    then its 2-digit class, then the kind alone.
    """
    best: tuple[int, dict[str, str]] | None = None
    for row in _default_rows():
        if row["kind"] != kind or row["urgency"] != urgency:
            continue
        scope = row["class_code"]
        if scope and not code.startswith(scope):
            continue
        if best is None or len(scope) > best[0]:
            best = (len(scope), row)
    if best is None:
        raise Invalid(
            f"没有 {kind}/{urgency} 的默认处置时限", f"No default time limit for {kind}/{urgency}", field="urgency"
        )
    row = best[1]
    minutes, working = _to_minutes(row["limit"], row["unit"], "default_time_limits.csv")
    return minutes, working, f"{row['source']} · {row['source_en']}"


def _standard_classes(standards: Path) -> list[dict[str, str]]:
    rows = []
    for kind, name in STANDARD_FILES.items():
        for row in _read_csv(standards / name):
            code = row["code"]
            if len(code) != 4 or not code.isdigit() or code[:2] != row["class_code"]:
                raise Invalid(
                    f"{name}：小类代码 {code} 无效（应为 4 位数字，前两位为大类代码）",
                    f"{name}: invalid small class code '{code}' (4 digits starting with the class code)",
                    field="code",
                )
            rows.append({**row, "kind": kind})
    return rows


def _desired_limits(classes: list[dict[str, str]], examples: list[dict[str, str]]) -> list[dict]:
    """The time-limit rows the standard and the seed defaults ask for, one dict per row."""
    by_class: dict[str, list[dict]] = {}
    for ex in examples:
        code = class_code(ex["kind"], ex["code"])
        minutes, working = _to_minutes(ex["limit"], ex["unit"], f"{EXAMPLES_FILE} {code}")
        by_class.setdefault(code, []).append(
            {
                "code": code,
                "filing_condition": _zh(ex["filing_condition"]),
                "filing_condition_en": ex["filing_condition"],
                "closing_condition": _zh(ex["closing_condition"]),
                "closing_condition_en": ex["closing_condition"],
                "urgency": Urgency.NORMAL,
                "area_class": "",
                "minutes": minutes,
                "working_time": working,
                "source": f"{_zh(ex['source'])} · {ex['source']}"[:120],
            }
        )
    rows: list[dict] = []
    for cls in classes:
        code = class_code(cls["kind"], cls["code"])
        own = by_class.get(code, [])
        rows.extend(own)
        if own:
            # The general rule of the class is its first listed condition.
            first = own[0]
            normal = {**first, "filing_condition": "", "filing_condition_en": ""}
        else:
            minutes, working, source = default_limit(cls["kind"], cls["code"], Urgency.NORMAL)
            normal = {
                "code": code,
                "filing_condition": "",
                "filing_condition_en": "",
                "closing_condition": "",
                "closing_condition_en": "",
                "urgency": Urgency.NORMAL,
                "area_class": "",
                "minutes": minutes,
                "working_time": working,
                "source": source,
            }
        rows.append(normal)
        minutes, working, source = default_limit(cls["kind"], cls["code"], Urgency.URGENT)
        shortest = min([*own, normal], key=lambda r: r["minutes"])
        if minutes > shortest["minutes"]:
            # Urgent never takes longer than the quickest normal rule of the class.
            minutes, working = shortest["minutes"], shortest["working_time"]
        rows.append(
            {**normal, "urgency": Urgency.URGENT, "minutes": minutes, "working_time": working, "source": source}
        )
    return rows


PACKAGED_STANDARDS = Path(__file__).resolve().parent / "seed" / "standards"


@transaction.atomic
def load_catalog(data_dir: Path | str | None = None, *, overwrite: bool = False) -> LoadReport:
    """Load the standard's classes and time limits; safe to run again.

    Missing rows are created. Rows an administrator may have edited are left alone (only
    blank fields are filled) unless `overwrite` restores the standard's values.
    """
    # The standard's tables ship with the package; a data directory given overrides them.
    standards = Path(data_dir) / "standards" if data_dir else PACKAGED_STANDARDS
    classes = _standard_classes(standards)
    examples = _read_csv(standards / EXAMPLES_FILE)
    report = LoadReport()

    # 大类
    majors = {(m.kind, m.code): m for m in MajorClass.objects.all()}
    for cls in classes:
        key = (cls["kind"], cls["class_code"])
        want = {"name": cls["class_name"], "name_en": cls["class_name_en"]}
        major = majors.get(key)
        if major is None:
            majors[key] = MajorClass.objects.create(kind=key[0], code=key[1], **want)
            report.add("major", created=1)
        elif _apply(major, want, overwrite):
            major.save()
            report.add("major", updated=1)

    # 小类
    first_example: dict[str, dict[str, str]] = {}
    for ex in examples:
        first_example.setdefault(class_code(ex["kind"], ex["code"]), ex)
    smalls = {s.code: s for s in SmallClass.objects.all()}
    to_create, to_update = [], []
    for cls in classes:
        code = class_code(cls["kind"], cls["code"])
        ex = first_example.get(code, {})
        want = {
            "kind": cls["kind"],
            "major": majors[(cls["kind"], cls["class_code"])],
            "name": cls["name"],
            "name_en": cls["name_en"],
            "pinyin_initials": pinyin_initials(cls["name"]),
            "filing_condition": _zh(ex.get("filing_condition", "")),
            "filing_condition_en": ex.get("filing_condition", ""),
            "closing_condition": _zh(ex.get("closing_condition", "")),
            "closing_condition_en": ex.get("closing_condition", ""),
        }
        small = smalls.get(code)
        if small is None:
            smalls[code] = small = SmallClass(code=code, **want)
            to_create.append(small)
        elif _apply(small, want, overwrite):
            to_update.append(small)
    SmallClass.objects.bulk_create(to_create)
    if to_update:
        SmallClass.objects.bulk_update(to_update, list(want))
    report.add("small", created=len(to_create), updated=len(to_update))
    if to_create:
        smalls = {s.code: s for s in SmallClass.objects.all()}

    # 处置时限
    existing = {
        (t.small_class_id, t.filing_condition, t.urgency, t.area_class): t
        for t in TimeLimit.objects.filter(small_class__in=list(smalls.values()))
    }
    fields = ["filing_condition_en", "closing_condition", "closing_condition_en", "minutes", "working_time", "source"]
    new_limits, changed = [], []
    for row in _desired_limits(classes, examples):
        small = smalls[row["code"]]
        key = (small.pk, row["filing_condition"], row["urgency"], row["area_class"])
        want = {f: row[f] for f in fields}
        found = existing.get(key)
        if found is None:
            existing[key] = found = TimeLimit(
                small_class=small, filing_condition=key[1], urgency=key[2], area_class=key[3], **want
            )
            new_limits.append(found)
        elif _apply(found, want, overwrite):
            changed.append(found)
    TimeLimit.objects.bulk_create(new_limits)
    TimeLimit.objects.bulk_update(changed, fields)
    report.add("limit", created=len(new_limits), updated=len(changed))
    return report


def _apply(obj, want: dict, overwrite: bool) -> bool:
    """Set the wanted values (all of them, or only where the field is blank); True if changed."""
    changed = False
    for name, value in want.items():
        current = getattr(obj, name)
        if current == value:
            continue
        if overwrite or current in ("", None):
            setattr(obj, name, value)
            changed = True
    return changed


# ---------------------------------------------------------------------------------------------
# limits


def _small_class(small_class: SmallClass | str) -> SmallClass:
    if isinstance(small_class, SmallClass):
        return small_class
    found = SmallClass.objects.filter(code=str(small_class).strip().upper()).first()
    if found is None:
        raise Invalid(f"未知的小类代码：{small_class}", f"Unknown class code '{small_class}'", field="class_code")
    return found


def handling_limit(
    small_class: SmallClass | str, *, urgency: str, area_class: str, filing_condition: str = ""
) -> tuple[int, bool]:
    """The handling limit (处置时限) of a case: (minutes, counted in working time).

    Among the class's rows of this urgency, an exact filing condition beats a blank one and
    an exact area class beats a blank one. With no row of this urgency the normal rows
    answer; a class with no rows at all gets the seed default of its kind.
    """
    if urgency not in Urgency.values:
        raise Invalid(f"未知的紧急程度：{urgency}", f"Unknown urgency '{urgency}'", field="urgency")
    small = _small_class(small_class)
    filing = (filing_condition or "").strip()
    rows = list(small.time_limits.all())
    for level in dict.fromkeys([urgency, Urgency.NORMAL]):
        candidates = [
            r
            for r in rows
            if r.urgency == level
            and r.area_class in ("", area_class)
            and (r.filing_condition == "" or (filing and filing in (r.filing_condition, r.filing_condition_en)))
        ]
        if candidates:
            best = max(candidates, key=lambda r: (r.filing_condition != "", r.area_class != "", -r.pk))
            return best.minutes, best.working_time
    minutes, working, _ = default_limit(small.kind, small.code[1:], urgency)
    return minutes, working


def stage_limit(city, stage: str) -> tuple[int, bool]:
    """The limit of a non-handling stage (verify, register, dispatch, check) in a city."""
    if stage not in DEFAULT_STAGE_LIMITS:
        raise Invalid(
            f"未知的阶段：{stage}（可选 verify、register、dispatch、check）",
            f"Unknown stage '{stage}' (use verify, register, dispatch or check)",
            field="stage",
        )
    row = StageLimit.objects.filter(city=city, stage=stage).values_list("minutes", "working_time").first()
    return row if row is not None else DEFAULT_STAGE_LIMITS[stage]


def ensure_stage_limits(city) -> int:
    """Give a city explicit rows for the default stage limits it lacks; returns how many were added."""
    have = set(StageLimit.objects.filter(city=city).values_list("stage", flat=True))
    rows = [
        StageLimit(city=city, stage=stage, minutes=minutes, working_time=working)
        for stage, (minutes, working) in DEFAULT_STAGE_LIMITS.items()
        if stage not in have
    ]
    StageLimit.objects.bulk_create(rows)
    return len(rows)


# ---------------------------------------------------------------------------------------------
# responsibility


def suggest_department(
    small_class: SmallClass | None, *, community_code: str = "", street_code: str = "", district_code: str = ""
) -> Department | None:
    """The department the responsibility matrix names for a class at a place, or None.

    Class-specific rows come before the regions' fallback rows; within each, the community
    beats the street, which beats the district.
    """
    codes = [c for c in (community_code, street_code, district_code) if c]
    if not codes:
        return None
    which = Q(small_class__isnull=True)
    if small_class is not None:
        which |= Q(small_class=small_class)
    rows = list(
        Responsibility.objects.filter(which, region__code__in=codes, department__active=True)
        .select_related("department")
        .annotate(region_code=F("region__code"))
    )
    if not rows:
        return None
    rank = {code: i for i, code in enumerate(codes)}
    best = min(rows, key=lambda r: (r.small_class_id is None, rank[r.region_code]))
    return best.department


def set_responsibility(small_class: SmallClass | None, region, department: Department) -> Responsibility:
    """Name the department for a class (or, with None, any class) in a region; replaces the old one."""
    row, _ = Responsibility.objects.update_or_create(
        small_class=small_class, region=region, defaults={"department": department}
    )
    return row


# ---------------------------------------------------------------------------------------------
# search


def _subsequence(needle: str, haystack: str) -> bool:
    letters = iter(haystack)
    return all(ch in letters for ch in needle)


def search_classes(q: str = "", *, kind: str | None = None, active_only: bool = True) -> list[SmallClass]:
    """Small classes whose code, Chinese or English name or pinyin initials match `q`.

    Pinyin initials match in order with letters skipped, as pickers do ("blj" finds 暴露垃圾,
    "bllj"). Best matches first: the exact code, then prefixes of the code, the initials or
    the name, then contiguous matches, then the rest; ties by code.
    """
    text = (q or "").strip()
    rows = SmallClass.objects.select_related("major").order_by("code")
    if active_only:
        rows = rows.filter(active=True)
    if kind:
        rows = rows.filter(kind=kind)
    if not text:
        return list(rows)
    low = text.lower()
    found = []
    for s in rows:
        code = s.code.lower()
        initials = s.pinyin_initials
        if code == low or code[1:] == low:
            rank = 0
        elif code.startswith(low) or code[1:].startswith(low) or initials.startswith(low) or s.name.startswith(text):
            rank = 1
        elif low in code or text in s.name or low in initials or low in s.name_en.lower():
            rank = 2
        elif low.isascii() and low.isalpha() and _subsequence(low, initials):
            rank = 3
        else:
            continue
        found.append((rank, s.code, s))
    return [s for _, _, s in sorted(found, key=lambda t: t[:2])]


def classes_tree(kind: str | None = None, q: str = "") -> list[dict]:
    """Major classes with their (matching) small classes and time limits, for the class picker."""
    if kind not in (None, "", *Kind.values):
        raise Invalid("类型必须是 event 或 component", "Kind must be 'event' or 'component'", field="kind")
    smalls = search_classes(q, kind=kind or None)
    limits: dict[int, list[TimeLimit]] = {}
    for t in TimeLimit.objects.filter(small_class__in=[s.pk for s in smalls]).order_by(
        "small_class_id", "urgency", "filing_condition", "area_class", "pk"
    ):
        limits.setdefault(t.small_class_id, []).append(t)
    tree: dict[int, dict] = {}
    for s in sorted(smalls, key=lambda s: (s.kind, s.code)):
        major = s.major
        node = tree.setdefault(
            major.pk,
            {
                "code": major.code,
                "name": major.name,
                "name_en": major.name_en,
                "parent": None,
                "kind": major.kind,
                "children": [],
            },
        )
        node["children"].append(_small_node(s, limits.get(s.pk, [])))
    return sorted(tree.values(), key=lambda n: (n["kind"] != Kind.EVENT, n["code"]))


def _small_node(s: SmallClass, limits: Iterable[TimeLimit]) -> dict:
    return {
        "code": s.code,
        "name": s.name,
        "name_en": s.name_en,
        "parent": s.major.code,
        "kind": s.kind,
        "pinyin": s.pinyin_initials,
        "filing_condition": s.filing_condition,
        "filing_condition_en": s.filing_condition_en,
        "closing_condition": s.closing_condition,
        "closing_condition_en": s.closing_condition_en,
        "time_limits": [
            {
                "filing_condition": t.filing_condition,
                "filing_condition_en": t.filing_condition_en,
                "closing_condition": t.closing_condition,
                "closing_condition_en": t.closing_condition_en,
                "urgency": t.urgency,
                "area_class": t.area_class,
                "minutes": t.minutes,
                "working_time": t.working_time,
                "text": describe_minutes(t.minutes, t.working_time),
                "source": t.source,
            }
            for t in limits
        ],
    }
