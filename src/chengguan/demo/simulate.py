"""A month of simulated cases for the demo city, walked through the real services.

Deterministic from the seed. Each case gets a fate (fixed, late, reworked, returned, extended,
suspended, rejected, invalid, merged, self-handled …) and a schedule of operations; only the
steps whose time has come by `now` are applied, so recent cases stay open in every state.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from chengguan.cases import services
from chengguan.cases.models import Case
from chengguan.catalog.models import SmallClass
from chengguan.geo.models import City, Grid
from chengguan.org.models import User

SOURCES = [("inspector", 55), ("volunteer", 10), ("hotline", 15), ("public", 12), ("media", 3), ("leader", 5)]
FATES = [
    ("fixed", 52), ("late", 12), ("rework", 8), ("returned", 5), ("extended", 4), ("suspended", 3),
    ("rejected", 4), ("invalid", 3), ("merged", 2), ("cancelled", 1), ("self_handled", 6),
]
COMMON_EVENTS = ["E0102", "E0103", "E0104", "E0106", "E0501", "E0502", "E0503", "E0101", "E0105"]
DESCRIPTIONS = {
    "event": ["路边有垃圾堆放", "人行道上有占道经营", "道路保洁不到位", "机动车乱停放", "墙面有乱贴广告",
              "绿化带内有杂物", "施工围挡破损", "积水影响通行"],
    "component": ["井盖破损", "井盖缺失", "路灯不亮", "垃圾桶破损", "护栏倾斜", "树木倒伏", "消防栓漏水"],
}
ROADS = ["富春路", "金桥北路", "江滨西大道", "桂花路", "孙权路", "恩波大道", "新登路", "春秋北路", "体育馆路",
         "达夫路", "迎宾北路", "秦望路"]


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights, k=1)[0]


def _case_time(rng: random.Random, day: datetime) -> datetime:
    # Most reports come in working hours; some in the evening and at weekends.
    minute = rng.randint(8 * 60 + 30, 17 * 60 + 20) if rng.random() < 0.8 else rng.randint(6 * 60, 22 * 60)
    return day + timedelta(minutes=minute)


def simulate_cases(city: City, *, days: int = 30, seed: int = 1, now: datetime | None = None,
                   per_day: int = 40, progress: bool = True) -> int:
    """Create about `per_day` cases for each of the last `days` days; return how many were made."""
    rng = random.Random(seed)
    now = now or timezone.now()
    tz = ZoneInfo(city.timezone)
    people = _people(city)
    if not people["inspector"]:
        raise RuntimeError("the demo city has no inspectors")
    grids = list(Grid.objects.filter(city=city).order_by("code").values_list("code", "center_lon", "center_lat",
                                                                              "area_class", "geometry"))
    weights = [8 if g[3] == "A" else 4 if g[3] == "B" else 1 for g in grids]
    classes = {c.code: c for c in SmallClass.objects.filter(active=True)}
    event_codes = [c for c in COMMON_EVENTS if c in classes] or [c for c in classes if c.startswith("E")]
    component_codes = [c for c in classes if c.startswith("C")]
    today = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    plan = []
    for offset in range(days, -1, -1):
        day = today - timedelta(days=offset)
        count = per_day if day.weekday() < 5 else per_day // 2
        for _ in range(count):
            reported = _case_time(rng, day)
            if reported < now:
                plan.append(reported)
    plan.sort()
    made = 0
    recent: list[Case] = []
    for reported in tqdm(plan, desc="模拟案件 cases", unit="件", disable=not progress):
        code = rng.choice(event_codes) if rng.random() < 0.75 or not component_codes else rng.choice(component_codes)
        grid = rng.choices(grids, weights=weights, k=1)[0]
        source = _weighted(rng, SOURCES)
        fate = _weighted(rng, FATES)
        with transaction.atomic():
            case = _run_case(rng, city, people, classes[code], grid, source, fate, reported, now, recent)
        if case is not None:
            made += 1
            recent = [*recent[-30:], case]
    return made


def _people(city: City) -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    for user in User.objects.filter(city=city, is_active=True).order_by("username"):
        found.setdefault(user.role, []).append(user)
    for role in ("inspector", "volunteer", "operator", "dispatcher", "shiftlead", "leader", "department"):
        found.setdefault(role, [])
    return found


def _point_in(rng: random.Random, grid) -> tuple[float, float]:
    from shapely.geometry import Point, shape

    polygon = shape(grid[4])
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(30):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if polygon.contains(Point(lon, lat)):
            return round(lon, 6), round(lat, 6)
    point = polygon.representative_point()
    return point.x, point.y


def _run_case(rng, city, people, small, grid, source, fate, reported, now, recent) -> Case | None:
    lon, lat = _point_in(rng, grid)
    kind = "component" if small.code.startswith("C") else "event"
    staff_source = source in ("inspector", "volunteer")
    if fate == "self_handled" and not staff_source:
        fate = "fixed"
    if fate == "invalid" and staff_source:
        fate = "rejected"
    actor = None
    if source in ("inspector", "volunteer"):
        actor = rng.choice(people[source] or people["inspector"])
    elif source in ("hotline", "media"):
        actor = people["operator"][0] if people["operator"] else None
    elif source == "leader":
        actor = people["leader"][0] if people["leader"] else None
    reporter = {}
    if source in ("hotline", "public"):
        reporter = {"reporter_name": rng.choice(["王先生", "李女士", "张先生", "陈女士", "刘先生"]),
                    "reporter_phone": f"13{rng.randint(100000000, 999999999)}"}
    case, _ = services.report_case(
        actor=actor, city=city, class_code=small.code, lon=lon, lat=lat,
        address=f"{rng.choice(ROADS)} {rng.randint(1, 300)} 号附近",
        description=rng.choice(DESCRIPTIONS[kind]), source=source if actor is None or source in (
            "hotline", "media", "leader") else None,
        urgency="urgent" if rng.random() < 0.05 else "normal",
        self_handled=fate == "self_handled", now=reported, **reporter,
    )
    # Some cases stall part-way (a busy department, a slow call-taker): they stay open, and in
    # time turn yellow and red. Recent ones stall more often, as a live board looks.
    stall_chance = 0.35 if now - reported < timedelta(days=3) else 0.06
    stall_after = rng.randint(0, 6) if rng.random() < stall_chance else None
    walker = _Walker(case, reported, now, rng, stall_after)
    operator = rng.choice(people["operator"])
    dispatcher = rng.choice(people["dispatcher"])
    shiftlead = people["shiftlead"][0] if people["shiftlead"] else operator

    if fate == "self_handled":
        walker.step(rng.randint(10, 60), "close", operator)
        return walker.case
    if case.state == "verifying":
        inspector = services.grid_inspector(case.grid_id) or people["inspector"][0]
        valid = fate != "invalid"
        if not walker.step(rng.randint(15, 90), "verify", inspector, valid=valid) or not valid:
            return walker.case
    if fate == "merged" and recent:
        target = next((c for c in reversed(recent) if c.class_code == case.class_code), recent[-1])
        target.refresh_from_db()
        if target.state not in ("closed", "cancelled", "invalid", "rejected") and target.city_id == case.city_id:
            walker.step(rng.randint(5, 30), "merge", operator, into=target.number)
            return walker.case
    if fate == "rejected":
        walker.step(rng.randint(5, 40), "reject", operator, reason="不符合立案条件")
        return walker.case
    if fate == "cancelled":
        walker.step(rng.randint(5, 40), "cancel", shiftlead, reason="重复上报，信息有误")
        return walker.case
    late_register = rng.random() < 0.08
    if not walker.step(rng.randint(40, 120) if late_register else rng.randint(3, 25), "register", operator):
        return walker.case
    if not walker.step(rng.randint(3, 25), "dispatch", dispatcher):
        return walker.case
    if fate == "returned":
        dept_user = _department_user(people, walker.case)
        if not walker.step(rng.randint(10, 60), "return", dept_user, reason="不属于本部门职责范围"):
            return walker.case
        if not walker.step(rng.randint(5, 30), "decide_return", dispatcher, approve=True):
            return walker.case
        others = [u.department.code for u in people["department"] if u.department_id != dept_user.department_id]
        if not walker.step(rng.randint(5, 20), "dispatch", dispatcher, department=rng.choice(others)):
            return walker.case
    dept_user = _department_user(people, walker.case)
    if not walker.step(rng.randint(5, 90), "sign", dept_user):
        return walker.case
    task = walker.case.tasks.order_by("-seq").first()
    limit = task.limit_minutes
    if fate == "extended":
        if not walker.step(rng.randint(30, 120), "request_extension", dept_user, minutes=limit // 2,
                           reason="需协调多个部门"):
            return walker.case
        if not walker.step(rng.randint(10, 60), "decide_extension", dispatcher, approve=True):
            return walker.case
    if fate == "suspended":
        if not walker.step(rng.randint(30, 120), "suspend", dept_user, reason="需纳入年度维修计划"):
            return walker.case
        if not walker.step(rng.randint(10, 60), "decide_suspend", dispatcher, approve=True):
            return walker.case
        if rng.random() < 0.5 or not walker.step(rng.randint(2, 8) * 24 * 60, "resume", dispatcher):
            return walker.case
    # natural minutes to feedback: a share of the limit, stretched by nights and weekends
    share = rng.uniform(1.3, 2.5) if fate == "late" else rng.uniform(0.1, 0.7)
    handling = int(limit * share * (24 * 60 / 450) * 0.6) + rng.randint(10, 60)
    if not walker.step(handling, "feedback", dept_user, result="已按要求处置完毕"):
        return walker.case
    checker = _checker(walker.case, people)
    if walker.case.state == "handled" and not walker.step(rng.randint(5, 30), "request_check", operator):
        return walker.case
    if fate == "rework":
        if not walker.step(rng.randint(30, 180), "check", checker, fixed=False):
            return walker.case
        if not walker.step(rng.randint(10, 60), "sign", dept_user):
            return walker.case
        if not walker.step(rng.randint(60, 600), "feedback", dept_user, result="已返工处理"):
            return walker.case
        if walker.case.state == "handled" and not walker.step(rng.randint(5, 30), "request_check", operator):
            return walker.case
    if not walker.step(rng.randint(20, 200), "check", checker, fixed=True):
        return walker.case
    walker.step(rng.randint(5, 60), "close", operator)
    return walker.case


def _department_user(people, case: Case) -> User:
    for user in people["department"]:
        if user.department_id == case.department_id:
            return user
    raise RuntimeError(f"no account for department {case.department_id}")


def _checker(case: Case, people) -> User:
    clock = case.clocks.filter(stage="check", ended_at__isnull=True).select_related("assignee").first()
    if clock is not None and clock.assignee is not None:
        return clock.assignee
    return services.grid_inspector(case.grid_id) or people["inspector"][0]


class _Walker:
    """Applies operations at increasing instants, stopping at `now`."""

    def __init__(self, case: Case, start: datetime, now: datetime, rng: random.Random, stall_after: int | None):
        self.case, self.at, self.now, self.rng = case, start, now, rng
        self.steps_left = stall_after

    def step(self, after_minutes: int, operation: str, actor: User, **fields) -> bool:
        at = self.at + timedelta(minutes=after_minutes, seconds=self.rng.randint(0, 59))
        if at >= self.now or self.steps_left == 0:
            return False
        if self.steps_left is not None:
            self.steps_left -= 1
        self.case = services.apply_operation(self.case, operation, actor=actor, version=self.case.version, now=at,
                                             **fields)
        self.at = at
        return True

