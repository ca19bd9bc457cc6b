"""The demo city: 杭州市富阳区 with its real streets and communities, generated grids,
departments, a responsibility matrix, accounts, duty grids and components.

Deterministic from the seed: the same seed gives the same codes, shapes and people.
"""

from __future__ import annotations

import csv
import importlib.util
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from pypinyin import lazy_pinyin
from tqdm import tqdm

from chengguan.assets.models import Component
from chengguan.catalog.models import Kind, Responsibility, SmallClass
from chengguan.catalog.services import ensure_stage_limits, load_catalog, suggest_department
from chengguan.demo.geography import DISTRICT_CODE, Geography, build_geography
from chengguan.errors import Conflict, Invalid
from chengguan.geo.codes import format_component_code
from chengguan.geo.geometry import to_geojson
from chengguan.geo.models import City, DutyGrid, Grid, Region
from chengguan.org.models import Department, Role, User

SEED_DIR = Path(__file__).resolve().parent / "seed"

CITY_CODE = "330100"
CITY_NAME = "杭州市"
CITY_NAME_EN = "Hangzhou"
DEMO_PASSWORD = "chengguan-demo"  # noqa: S105 - the documented password of the demo accounts

CORE_DUTY_GRID_SIZE = 90  # unit grids per inspector in the core, about
STREETS_PER_RURAL_INSPECTOR = 4

# Staff of the command and supervision centres: username → (role, display name).
STAFF = {
    "inspector": (Role.INSPECTOR, "张建国"),
    "volunteer": (Role.VOLUNTEER, "李红梅"),
    "operator": (Role.OPERATOR, "王丽"),
    "shiftlead": (Role.SHIFTLEAD, "陈志强"),
    "dispatcher": (Role.DISPATCHER, "刘洋"),
    "leader": (Role.LEADER, "周文斌"),
    "evaluator": (Role.EVALUATOR, "吴静"),
    "admin": (Role.ADMIN, "系统管理员"),
}
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦许何吕施孔曹严华金魏陶姜"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚"]


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    display_name: str
    note: str = ""


@dataclass
class DemoReport:
    city: City
    seed: int
    accounts: list[Account] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    cases: int | None = None
    cases_note: str = ""
    seconds: float = 0.0


class DemoDataMissing(Invalid):
    pass


class DemoExists(Conflict):
    code = "demo_exists"


# ---------------------------------------------------------------------------------------------
# the use case


def load_demo(
    *,
    seed: int = 1,
    cases_days: int = 30,
    if_empty: bool = False,
    now: datetime | None = None,
    data_dir: Path | str | None = None,
    progress: bool = True,
) -> DemoReport | None:
    """Build the demo city; then simulate `cases_days` days of cases when the simulator is there.

    With `if_empty`, does nothing (returns None) when any city exists already. Otherwise an
    existing demo city is a conflict: nothing is changed.
    """
    started = time.monotonic()
    if if_empty and City.objects.exists():
        return None
    if City.objects.filter(code=CITY_CODE).exists():
        raise DemoExists(
            f"演示城市（{CITY_CODE} {CITY_NAME}）已存在；用 --if-empty 可跳过",
            f"The demo city ({CITY_CODE} {CITY_NAME}) exists already; --if-empty skips it",
            field="city",
        )
    data_dir = Path(data_dir or settings.SHARED_DATA_DIR)
    needed = [data_dir / "china-admin-codes-nbs2021-hangzhou" / "345-3301.json",
              data_dir / "china-hangzhou-boundaries-datav" / "county_330111.json"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise DemoDataMissing(
            f"找不到演示城市所需的数据：{'、'.join(missing)}；请设置 SHARED_DATA_DIR",
            f"The demo city's data is missing: {', '.join(missing)}; set SHARED_DATA_DIR",
            field="data_dir",
        )
    steps = tqdm(total=9, desc="演示城市 demo city", unit="步", disable=None if progress else True)
    with transaction.atomic():
        report = _build(seed=seed, data_dir=data_dir, steps=steps)
        issue_open311_demo_key()
    steps.close()
    now = now or timezone.now()
    if cases_days > 0:
        report.cases, report.cases_note = _simulate(report.city, days=cases_days, seed=seed, now=now, progress=progress)
        _close_evaluation_days(report.city, now, cases_days)
    report.seconds = time.monotonic() - started
    return report


def _close_evaluation_days(city, now, days: int) -> None:
    """The day-end evaluation snapshots of the simulated days, as the nightly job would have written."""
    from zoneinfo import ZoneInfo

    from chengguan.evaluation.facts import close_day

    today = now.astimezone(ZoneInfo(city.timezone)).date()
    for back in range(days, 0, -1):
        close_day(city, today - timedelta(days=back))


# Open311: the demo city's published key, for trying client systems on /open311/v2/ (docs/open311.md).
OPEN311_DEMO_KEY = "chengguan-demo-key"


def issue_open311_demo_key() -> None:
    from chengguan.open311.models import ApiKey
    from chengguan.open311.services import issue_key

    if not ApiKey.objects.filter(key=OPEN311_DEMO_KEY).exists():
        issue_key("演示客户端 · demo client", key=OPEN311_DEMO_KEY, contact="docs/open311.md")


def _step(steps: tqdm, label: str) -> None:
    steps.set_description(f"演示城市 demo city: {label}")
    steps.update(1)


def _build(*, seed: int, data_dir: Path, steps: tqdm) -> DemoReport:
    from chengguan.geo.services import bump_version, create_city
    from chengguan.worktime.services import default_calendar

    load_catalog()
    _step(steps, "分类 catalog")

    city = create_city(CITY_CODE, name=CITY_NAME, name_en=CITY_NAME_EN, calendar=default_calendar())
    ensure_stage_limits(city)
    geography = build_geography(data_dir, seed=seed)
    _step(steps, "地理 geography")

    regions = _write_regions(city, geography)
    _step(steps, "区域 regions")
    grids = _write_grids(city, geography, regions)
    _step(steps, "网格 grids")

    departments = _write_departments(city, geography, regions)
    _step(steps, "部门 departments")
    responsibilities = _write_responsibility(geography, regions, departments)
    _step(steps, "责任矩阵 responsibility")

    report = DemoReport(city=city, seed=seed)
    names = _names(np.random.default_rng(seed + 7))
    users = _write_accounts(city, departments, report, names)
    duty = _write_duty_grids(city, geography, grids, users, report, names)
    _step(steps, "账号与责任网格 accounts and duty grids")

    components = _write_components(city, geography, grids, seed=seed)
    _step(steps, "部件 components")

    bump_version(city, f"演示城市（种子 {seed}）· demo city (seed {seed})")
    _step(steps, "完成 done")
    report.counts = {
        "streets": len(geography.streets),
        "communities": len(geography.communities),
        "grids": len(geography.grids),
        "core_grids": sum(1 for g in geography.grids if g.core),
        "departments": len(departments),
        "responsibilities": responsibilities,
        "accounts": len(users),
        "duty_grids": duty,
        "components": components,
    }
    return report


def _simulate(city: City, *, days: int, seed: int, now: datetime, progress: bool) -> tuple[int | None, str]:
    if importlib.util.find_spec("chengguan.demo.simulate") is None:
        return None, "未找到案件模拟模块 chengguan.demo.simulate，跳过案件 · no case simulator, cases skipped"
    from chengguan.demo.simulate import simulate_cases

    made = simulate_cases(city, days=days, seed=seed, now=now, progress=progress)
    return made, f"模拟了最近 {days} 天的 {made} 件案件 · {made} cases over the last {days} days"


# ---------------------------------------------------------------------------------------------
# geography


def _saved(model, rows: list, city: City, key: str = "code") -> dict:
    """bulk_create, then the rows by code (re-read where the database returns no keys)."""
    model.objects.bulk_create(rows, batch_size=500)
    if any(r.pk is None for r in rows):
        stored = model.objects.filter(city=city, **{f"{key}__in": [getattr(r, key) for r in rows]})
        return {getattr(r, key): r for r in stored}
    return {getattr(r, key): r for r in rows}


def _write_regions(city: City, geo: Geography) -> dict[str, Region]:
    d = geo.district
    district = Region.objects.create(
        city=city,
        code=d.code,
        name=d.name,
        level=Region.Level.DISTRICT,
        geometry=to_geojson(d.geometry),
        area_m2=d.area_m2,
    )
    regions = {district.code: district}
    for level, areas in ((Region.Level.STREET, geo.streets), (Region.Level.COMMUNITY, geo.communities)):
        rows = [
            Region(
                city=city,
                code=a.code,
                name=a.name,
                level=level,
                parent=regions[a.parent],
                geometry=to_geojson(a.geometry),
                area_m2=a.area_m2,
            )
            for a in areas
        ]
        regions.update(_saved(Region, rows, city))
    return regions


def _write_grids(city: City, geo: Geography, regions: dict[str, Region]) -> dict[str, Grid]:
    rows = []
    for g in geo.grids:
        community = regions[g.community]
        min_lon, min_lat, max_lon, max_lat = g.geometry.bounds
        name = f"{community.name}{int(g.code[12:])}号网格" if g.core else f"{community.name}网格"
        rows.append(
            Grid(
                city=city,
                code=g.code,
                name=name,
                community=community,
                street_code=g.street,
                district_code=g.district,
                geometry=to_geojson(g.geometry),
                area_m2=g.area_m2,
                area_class=g.area_class,
                center_lon=g.center_lon,
                center_lat=g.center_lat,
                min_lon=min_lon,
                min_lat=min_lat,
                max_lon=max_lon,
                max_lat=max_lat,
            )
        )
    return _saved(Grid, rows, city)


# ---------------------------------------------------------------------------------------------
# organisation


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def street_office_code(street_code: str) -> str:
    """The department code of a street's (or town's) office: 330111001 → J001."""
    return f"J{street_code[-3:]}"


def _office_name(street_name: str) -> tuple[str, str]:
    stem = street_name[:-2] if street_name.endswith("街道") else street_name[:-1]
    english = "".join(lazy_pinyin(stem)).capitalize()
    if street_name.endswith("街道"):
        return f"{street_name}办事处", f"{english} Subdistrict Office"
    if street_name.endswith("镇"):
        return f"{street_name}人民政府", f"{english} Town Government"
    return f"{street_name}人民政府", f"{english} Township Government"


def _write_departments(city: City, geo: Geography, regions: dict[str, Region]) -> dict[str, Department]:
    district = regions[DISTRICT_CODE]
    rows = _read_seed("departments.csv")
    departments: dict[str, Department] = {}
    for depth in (0, 1):
        batch = [
            Department(
                city=city,
                code=r["code"],
                name=r["name"],
                name_en=r["name_en"],
                parent=departments[r["parent"]] if r["parent"] else None,
                region=district,
            )
            for r in rows
            if bool(r["parent"]) == bool(depth)
        ]
        departments.update(_saved(Department, batch, city))
    offices = []
    for street in geo.streets:
        name, name_en = _office_name(street.name)
        offices.append(
            Department(
                city=city,
                code=street_office_code(street.code),
                name=name,
                name_en=name_en,
                region=regions[street.code],
            )
        )
    departments.update(_saved(Department, offices, city))
    return departments


def _rule_for(small: SmallClass, rules: list[dict[str, str]]) -> dict[str, str] | None:
    """The most specific rule: the small class (C0101), its class (C01), or its kind (C)."""
    digits = small.code[1:]
    prefix = small.code[0]
    best = None
    for rule in rules:
        scope = rule["class"]
        if scope[0] != prefix or not digits.startswith(scope[1:]):
            continue
        if best is None or len(scope) > len(best["class"]):
            best = rule
    return best


def _write_responsibility(geo: Geography, regions: dict[str, Region], departments: dict[str, Department]) -> int:
    """Owner first for components, territory first for events, the city bureau as the fallback."""
    rules = _read_seed("responsibility.csv")
    district = regions[DISTRICT_CODE]
    rows = [Responsibility(small_class=None, region=district, department=departments["D01"])]
    for small in SmallClass.objects.filter(kind__in=Kind.values).order_by("code"):
        rule = _rule_for(small, rules)
        if rule is None:
            continue
        if rule["scope"] == "street":
            rows.extend(
                Responsibility(
                    small_class=small, region=regions[s.code], department=departments[street_office_code(s.code)]
                )
                for s in geo.streets
            )
        else:
            rows.append(Responsibility(small_class=small, region=district, department=departments[rule["department"]]))
    Responsibility.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _names(rng: np.random.Generator) -> Iterator[str]:
    used = {name for _, name in STAFF.values()}
    while True:
        name = SURNAMES[rng.integers(len(SURNAMES))] + "".join(
            GIVEN[i] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3)))
        )
        if name not in used:
            used.add(name)
            yield name


def _write_accounts(
    city: City, departments: dict[str, Department], report: DemoReport, names: Iterator[str]
) -> dict[str, User]:
    password = make_password(DEMO_PASSWORD)  # one hash for all: the slow hasher runs once
    users: list[User] = []
    for username, (role, display) in STAFF.items():
        admin = role == Role.ADMIN
        users.append(
            User(
                username=username,
                password=password,
                role=role,
                city=city,
                display_name=display,
                phone=f"1380571{len(users):04d}",
                is_staff=admin,
                is_superuser=admin,
            )
        )
    for code, dept in sorted(departments.items()):
        users.append(
            User(
                username=f"dept-{code}",
                password=password,
                role=Role.DEPARTMENT,
                city=city,
                department=dept,
                display_name=f"{dept.name}联络员",
                phone=f"1380571{len(users):04d}",
            )
        )
    saved = {u.username: u for u in _saved_users(users)}
    for u in users:
        report.accounts.append(Account(u.username, u.role, u.display_name, _account_note(u)))
    return saved


def _saved_users(users: list[User]) -> list[User]:
    User.objects.bulk_create(users, batch_size=500)
    if any(u.pk is None for u in users):
        return list(User.objects.filter(username__in=[u.username for u in users]))
    return users


def _account_note(user: User) -> str:
    if user.role == Role.DEPARTMENT and user.department_id:
        return user.department.name
    return ""


def _chunks(codes: list[str], sizes: dict[str, int], target: int) -> list[list[str]]:
    """Consecutive communities grouped into duty grids of about `target` unit grids."""
    chunks: list[list[str]] = []
    current: list[str] = []
    total = 0
    for code in codes:
        current.append(code)
        total += sizes[code]
        if total >= target:
            chunks.append(current)
            current, total = [], 0
    if current:
        if chunks and total < target / 2:
            chunks[-1].extend(current)
        else:
            chunks.append(current)
    return chunks


def _write_duty_grids(
    city: City,
    geo: Geography,
    grids: dict[str, Grid],
    users: dict[str, User],
    report: DemoReport,
    names: Iterator[str],
) -> int:
    """Duty grids over every unit grid, each patrolled by an inspector; `inspector` takes the centre."""
    by_community: dict[str, list[str]] = {}
    for g in geo.grids:
        by_community.setdefault(g.community, []).append(g.code)
    area_class = {g.code: g.area_class for g in geo.grids}
    core_of = {c.code: c.urban for c in geo.communities}

    duty: list[tuple[DutyGrid, list[str]]] = []
    core_duty: list[int] = []
    for street in geo.streets:
        communities = [c.code for c in geo.communities if c.parent == street.code]
        core = [c for c in communities if core_of[c]]
        outer = [c for c in communities if not core_of[c]]
        n = 0
        for chunk in _chunks(core, {c: len(by_community[c]) for c in core}, CORE_DUTY_GRID_SIZE):
            n += 1
            core_duty.append(len(duty))
            codes = [g for c in chunk for g in by_community[c]]
            duty.append(
                (
                    DutyGrid(city=city, code=f"{street.code}-{n:02d}", name=f"{street.name}第{n}责任网格（核心区）"),
                    codes,
                )
            )
        if outer:
            n += 1
            label = f"{street.name}第{n}责任网格（外围）" if core else f"{street.name}责任网格"
            codes = [g for c in outer for g in by_community[c]]
            duty.append((DutyGrid(city=city, code=f"{street.code}-{n:02d}", name=label), codes))
    DutyGrid.objects.bulk_create([d for d, _ in duty])
    if any(d.pk is None for d, _ in duty):
        stored = {d.code: d for d in DutyGrid.objects.filter(city=city)}
        duty = [(stored[d.code], codes) for d, codes in duty]

    # Inspectors: `inspector` patrols the core duty grid nearest the centre (most class A
    # grids); one more inspector per other core duty grid; rural ones share a few streets.
    centre = max(core_duty, key=lambda i: (sum(area_class[g] == "A" for g in duty[i][1]), -i))
    assignment: dict[int, str] = {centre: "inspector"}
    others = [i for i in core_duty if i != centre]
    rural = [i for i in range(len(duty)) if i not in core_duty]
    serial = 1
    new_inspectors: list[User] = []
    password = users["inspector"].password

    def next_inspector(note: str) -> str:
        nonlocal serial
        serial += 1
        username = f"inspector{serial}"
        new_inspectors.append(
            User(
                username=username,
                password=password,
                role=Role.INSPECTOR,
                city=city,
                display_name=next(names),
                phone=f"1390571{serial:04d}",
            )
        )
        report.accounts.append(Account(username, Role.INSPECTOR, new_inspectors[-1].display_name, note))
        return username

    for i in others:
        assignment[i] = next_inspector(duty[i][0].name)
    for start in range(0, len(rural), STREETS_PER_RURAL_INSPECTOR):
        group = rural[start : start + STREETS_PER_RURAL_INSPECTOR]
        username = next_inspector("、".join(duty[i][0].name for i in group))
        for i in group:
            assignment[i] = username
    report.accounts = _with_note(report.accounts, "inspector", duty[centre][0].name)
    users.update({u.username: u for u in _saved_users(new_inspectors)})

    grid_links = DutyGrid.grids.through
    inspector_links = DutyGrid.inspectors.through
    grid_rows, inspector_rows = [], []
    for i, (d, codes) in enumerate(duty):
        grid_rows.extend(grid_links(dutygrid_id=d.pk, grid_id=grids[c].pk) for c in codes)
        inspector_rows.append(inspector_links(dutygrid_id=d.pk, user_id=users[assignment[i]].pk))
    grid_links.objects.bulk_create(grid_rows, batch_size=1000)
    inspector_links.objects.bulk_create(inspector_rows)
    return len(duty)


def _with_note(accounts: list[Account], username: str, note: str) -> list[Account]:
    return [Account(a.username, a.role, a.display_name, note) if a.username == username else a for a in accounts]


# ---------------------------------------------------------------------------------------------
# components


def _write_components(city: City, geo: Geography, grids: dict[str, Grid], *, seed: int) -> int:
    """A few thousand components in the core, each with a valid 16-digit code and its owner."""
    rng = np.random.default_rng(seed + 11)
    core = [g for g in geo.grids if g.core]
    shapes = np.array([g.geometry for g in core])
    tree = shapely.STRtree(shapes)
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    classes = {s.code: s for s in SmallClass.objects.filter(kind=Kind.COMPONENT)}
    communities = {c.code: c.name for c in geo.communities}
    streets = {s.code: s.name for s in geo.streets}
    owners: dict[tuple[str, str], Department | None] = {}
    statuses = [Component.Status.NORMAL, Component.Status.DAMAGED, Component.Status.LOST, Component.Status.REMOVED]
    rows: list[Component] = []
    for spec in _read_seed("components.csv"):
        small = classes.get(spec["class"])
        if small is None:
            continue
        count = int(spec["count"])
        # Uniform points over the core: draw in its bounds, keep those inside a core grid.
        points: list[tuple[float, float, int]] = []
        while len(points) < count:
            xy = rng.uniform((minx, miny), (maxx, maxy), size=(count * 3, 2))
            hit_point, hit_grid = tree.query(shapely.points(xy), predicate="within")
            seen = set()
            for p, g in zip(hit_point.tolist(), hit_grid.tolist(), strict=True):
                if p not in seen:
                    seen.add(p)
                    points.append((float(xy[p, 0]), float(xy[p, 1]), g))
        points = sorted(points[:count], key=lambda t: (-round(t[1], 4), t[0]))
        state = rng.choice(len(statuses), size=count, p=[0.94, 0.04, 0.01, 0.01])
        years = rng.integers(2006, 2025, size=count)
        days = rng.integers(0, 365, size=count)
        for serial, (lon, lat, g) in enumerate(points, start=1):
            cell = core[g]
            key = (small.code, cell.street)
            if key not in owners:
                owners[key] = suggest_department(
                    small, community_code=cell.community, street_code=cell.street, district_code=cell.district
                )
            rows.append(
                Component(
                    code=format_component_code(DISTRICT_CODE, small.code[1:3], small.code[3:5], serial),
                    small_class=small,
                    city=city,
                    lon=round(lon, 7),
                    lat=round(lat, 7),
                    grid=grids[cell.code],
                    owner=owners[key],
                    status=statuses[int(state[serial - 1])],
                    name=f"{small.name}{serial:04d}",
                    address=f"{streets[cell.street]}{communities[cell.community]}",
                    installed_on=date(int(years[serial - 1]), 1, 1) + timedelta(days=int(days[serial - 1])),
                )
            )
    Component.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
