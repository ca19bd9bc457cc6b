"""Evaluation services: indicator tables for any period as of any instant, explanations,
appeals, configuration with history, and publications."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from chengguan.errors import Conflict, Forbidden, Invalid, NotFound
from chengguan.evaluation import indicators as ind
from chengguan.evaluation.facts import FAMILY_KEYS, refresh_case
from chengguan.evaluation.models import Appeal, ClosedDay, EvaluationConfig, Fact, Publication, Rollup
from chengguan.evaluation.periods import Period, PeriodError, day_start, local_day, parse_period
from chengguan.geo.models import City, Grid, Region
from chengguan.org.models import Department, User

LEVELS = ("district", "street", "community", "grid")
FACT_KINDS = {
    "departments": ("task",),
    "regions": ("region",),
    "inspectors": ("report", "miss", "verify", "check"),
    "operators": ("register", "dispatch"),
}
SUBJECT_LABELS = {
    "departments": ("部门", "Departments"),
    "regions": ("区域", "Regions"),
    "inspectors": ("监督员", "Inspectors"),
    "operators": ("受理员与派遣员", "Operators"),
}


# ---------------------------------------------------------------------------------------------
# configuration


def current_config() -> ind.Config:
    row = EvaluationConfig.objects.order_by("-version").first()
    return config_of(row) if row else ind.Config()


def config_of(row: EvaluationConfig) -> ind.Config:
    weights = {subject: [tuple(term) for term in terms] for subject, terms in row.weights.items()}
    grades = [tuple(band) for band in row.grades]
    return ind.Config(row.version, weights, grades, row.yellow_fraction)


def config_by_version(version: int) -> ind.Config:
    if version == 0:
        return ind.Config()
    row = EvaluationConfig.objects.filter(version=version).first()
    if row is None:
        raise NotFound(f"配置版本 {version} 不存在", f"Configuration version {version} not found", field="config")
    return config_of(row)


def validate_config(weights: dict, grades: list, yellow_fraction: float) -> None:
    """Weights: per subject, known rates with non-negative weights summing to 100; bands descending."""
    for subject in ind.SUBJECTS:
        terms = weights.get(subject)
        if not isinstance(terms, list) or not terms:
            raise Invalid(f"缺少 {subject} 的权重", f"Weights for '{subject}' are missing", field="weights")
        total = 0.0
        for term in terms:
            if not (isinstance(term, list | tuple) and len(term) == 3):
                raise Invalid(
                    "权重项应为 [指标, 权重, 是否反向]", "A weight is [rate, weight, inverted]", field="weights"
                )
            key, weight, inverted = term
            if key not in ind.RATES[subject]:
                raise Invalid(f"未知指标：{key}", f"Unknown rate '{key}' for {subject}", field="weights")
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
                raise Invalid("权重应为非负数", "A weight must be a non-negative number", field="weights")
            if not isinstance(inverted, bool):
                raise Invalid("是否反向应为 true/false", "'inverted' must be true or false", field="weights")
            total += weight
        if abs(total - 100) > 1e-6:
            raise Invalid(f"{subject} 的权重之和应为 100（现为 {total:g}）",
                          f"Weights for '{subject}' must sum to 100 (they sum to {total:g})", field="weights")
    floors = []
    for band in grades:
        if not (isinstance(band, list | tuple) and len(band) == 2 and isinstance(band[0], str)
                and isinstance(band[1], int | float)):
            raise Invalid("等级分界应为 [等级, 最低分]", "A grade band is [letter, lowest score]", field="grades")
        floors.append(band[1])
    if not floors or floors != sorted(floors, reverse=True) or not all(0 <= f <= 100 for f in floors):
        raise Invalid("等级分界应从高到低、在 0–100 之间", "Grade bands must descend within 0–100", field="grades")
    if not isinstance(yellow_fraction, int | float) or not 0 < yellow_fraction < 1:
        raise Invalid("黄灯比例应在 0 与 1 之间", "yellow_fraction must be between 0 and 1", field="yellow_fraction")


def save_config(*, weights: dict, grades: list, yellow_fraction: float, note: str, actor: User | None):
    if not (note or "").strip():
        raise Invalid("请填写变更说明", "Field 'note' is required", field="note")
    validate_config(weights, grades, yellow_fraction)
    row = EvaluationConfig.objects.create(
        weights=weights, grades=grades, yellow_fraction=yellow_fraction, note=note.strip()[:300], created_by=actor
    )
    forget_light_threshold()
    return row


def forget_light_threshold() -> None:
    """New clocks in this process take the new yellow-light share at once (others within 30 s)."""
    from chengguan.cases.services import GREEN_SHARE_MEMO

    GREEN_SHARE_MEMO.forget()


# ---------------------------------------------------------------------------------------------
# evaluation


def period_or_422(text: str) -> Period:
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise Invalid(exc.zh, exc.en, field="period") from None


def _family(subject: str, level: str) -> str:
    if subject == "regions":
        return "grids" if level == "grid" else "communities"
    return subject


def _region_map(city: City, level: str) -> tuple[dict, dict]:
    """community code -> code at `level`, and code -> (name, area m²) of every region at `level`."""
    if level == "grid":
        grids = Grid.objects.filter(city=city).values_list("code", "name", "area_m2")
        return {}, {code: (name, area) for code, name, area in grids}
    regions = list(Region.objects.filter(city=city).values_list("code", "name", "level", "parent__code", "area_m2"))
    parent = {code: parent_code for code, _, _, parent_code, _ in regions}
    level_of = {code: lvl for code, _, lvl, _, _ in regions}
    mapping = {}
    for code, _, lvl, _, _ in regions:
        if lvl != "community":
            continue
        up = code
        while up is not None and level_of.get(up) != level:
            up = parent.get(up)
        mapping[code] = up
    names = {code: (name, area) for code, name, lvl, _, area in regions if lvl == level}
    return mapping, names


def _subjects(city: City, subject: str, level: str) -> dict[str, str]:
    """Every subject that should appear (with no counts it shows as not applicable): code -> name."""
    if subject == "departments":
        return dict(Department.objects.filter(city=city, active=True).values_list("code", "name"))
    if subject == "inspectors":
        users = User.objects.filter(role="inspector", is_active=True, city=city)
    elif subject == "operators":
        users = User.objects.filter(role__in=["operator", "shiftlead", "dispatcher"], is_active=True, city=city)
    else:
        return {}
    return {str(u.pk): (u.display_name or u.username) for u in users}


def _rollup_counts(city: City, family: str, period: Period, t: datetime, tz: ZoneInfo) -> tuple[dict, bool]:
    """Sums from the rollup, and whether the snapshot covered the pending facts."""
    today = local_day(t, tz)
    at_midnight = t == day_start(today, tz)
    snapshot_day = today - timedelta(days=1)
    use_snapshot = at_midnight and ClosedDay.objects.filter(city=city, day=snapshot_day).exists()
    keys = FAMILY_KEYS[family]
    condition = Q(snapshot=False, mark__lt=today)
    if use_snapshot:
        condition |= Q(snapshot=True, mark=snapshot_day)
    rows = (
        Rollup.objects.filter(city=city, family=family, day__gte=period.first, day__lte=period.last)
        .filter(condition)
        .values("subject")
        .annotate(**{f"s{i}": Sum(f"n{i}") for i in range(len(keys))})
    )
    counts: dict[str, dict] = {}
    for row in rows:
        counts[row["subject"]] = {key: row[f"s{i}"] or 0 for i, key in enumerate(keys)}
    return counts, use_snapshot


def _pending_facts(city: City, subject: str, period: Period, t: datetime, tz: ZoneInfo):
    """Facts in the period not final before the day of t: evaluated one by one."""
    today = local_day(t, tz)
    return Fact.objects.filter(
        city=city, kind__in=FACT_KINDS[subject], day__gte=period.first, day__lte=period.last, counted_at__lte=t
    ).filter(Q(final_at__isnull=True) | Q(final_day__gte=today)).only(
        "kind", "subject", "community", "history", "case_id"
    )


def _region_key(fact_subject: str, community: str, level: str, mapping: dict) -> str | None:
    if level == "grid":
        return fact_subject
    if level == "community":
        return community
    return mapping.get(community)


def evaluate(subject: str, period: Period | str, *, city: City, as_of: datetime | None = None,
             level: str = "street", config: ind.Config | None = None) -> dict:
    """The indicator table of `subject` for `period` as of `as_of` (default now), ranked."""
    if subject not in ind.SUBJECTS:
        raise NotFound(f"未知的评价对象：{subject}", f"Unknown subject '{subject}'", field="subject")
    if subject == "regions" and level not in LEVELS:
        raise Invalid("level 应为 district、street、community 或 grid",
                      "Field 'level' must be district, street, community or grid", field="level")
    period = period_or_422(period) if isinstance(period, str) else period
    tz = ZoneInfo(city.timezone)
    t = as_of or timezone.now()
    config = config or current_config()
    family = _family(subject, level)
    counts, covered = _rollup_counts(city, family, period, t, tz)
    mapping, region_names = _region_map(city, level) if subject == "regions" else ({}, {})
    if subject == "regions" and level in ("street", "district"):
        merged: dict[str, dict] = {}
        for community, part in counts.items():
            code = mapping.get(community)
            if code is not None:
                ind.add_counts(merged.setdefault(code, {}), part)
        counts = merged
    if not covered:
        for fact in _pending_facts(city, subject, period, t, tz).iterator(chunk_size=2000):
            out = ind.outcome(fact.kind, ind.history_from_json(fact.kind, fact.history), t)
            if not out:
                continue
            code = _region_key(fact.subject, fact.community, level, mapping) if subject == "regions" else fact.subject
            if code is not None:
                ind.add_counts(counts.setdefault(code, {}), out)
    names = {code: name for code, (name, _) in region_names.items()} if subject == "regions" else _subjects(
        city, subject, level)
    if subject in ("inspectors", "operators"):
        missing = [code for code in counts if code not in names]
        if missing:
            names.update({str(u.pk): (u.display_name or u.username)
                          for u in User.objects.filter(pk__in=[int(c) for c in missing if c.isdigit()])})
    rows = []
    for code in sorted(set(names) | set(counts)):
        row = {"code": code, "name": names.get(code, code), **ind.indicator_row(subject, counts.get(code, {}), config)}
        if subject == "regions":
            area = region_names.get(code, ("", 0))[1] or 0
            row["area_km2"] = round(area / 1e6, 4)
            row["density"] = round(row["registered"] / (area / 1e6), 2) if area else None
        rows.append(row)
    rows = ind.rank_rows(rows)
    if subject == "departments":
        _attach_appeals(rows, city, period, t, tz)
    totals = ind.indicator_row(subject, _sum_rows(subject, rows), config)
    return {
        "subject": subject,
        "level": level if subject == "regions" else None,
        "period": period.label,
        "period_label": period.label_zh,
        "period_start": period.start(tz).isoformat(),
        "period_end": period.end(tz).isoformat(),
        "as_of": t.astimezone(tz).isoformat(),
        "city": city.code,
        "config_version": config.version,
        "rows": rows,
        "totals": totals,
    }


def _sum_rows(subject: str, rows: list[dict]) -> dict:
    total: dict = {}
    for row in rows:
        ind.add_counts(total, {key: row[key] for key in ind.KEYS[subject]})
    return total


def _attach_appeals(rows: list[dict], city: City, period: Period, t: datetime, tz: ZoneInfo) -> None:
    """The reasons for 核减, beside the department's numbers."""
    appeals = (
        Appeal.objects.filter(
            status=Appeal.Status.APPROVED, decided_at__lte=t, department__city=city,
            task__dispatched_at__gte=period.start(tz), task__dispatched_at__lt=period.end(tz),
        )
        .select_related("task__case", "department", "decided_by")
        .order_by("decided_at")
    )
    notes = defaultdict(list)
    for appeal in appeals:
        notes[appeal.department.code].append({
            "case": appeal.task.case.number,
            "reason": appeal.reason,
            "decided_at": appeal.decided_at.astimezone(tz).isoformat(),
            "decided_by": appeal.decided_by.username if appeal.decided_by else "",
            "note": appeal.decision_note,
        })
    for row in rows:
        row["appeal_notes"] = notes.get(row["code"], [])


def explain(subject: str, period: Period | str, key: str, code: str, *, city: City,
            as_of: datetime | None = None, level: str = "street") -> dict:
    """The case numbers behind one count of one row; their counts add up to the row's."""
    if subject not in ind.SUBJECTS:
        raise NotFound(f"未知的评价对象：{subject}", f"Unknown subject '{subject}'", field="subject")
    if key not in ind.KEYS[subject]:
        raise Invalid(f"只能解释计数指标：{key}", f"'{key}' is not a count of {subject}", field="explain")
    period = period_or_422(period) if isinstance(period, str) else period
    t = as_of or timezone.now()
    facts = Fact.objects.filter(
        city=city, kind__in=FACT_KINDS[subject], day__gte=period.first, day__lte=period.last, counted_at__lte=t
    )
    if subject == "regions":
        mapping, _ = _region_map(city, level)
        if level == "grid":
            facts = facts.filter(subject=code)
        elif level == "community":
            facts = facts.filter(community=code)
        else:
            facts = facts.filter(community__in=[c for c, up in mapping.items() if up == code])
    else:
        facts = facts.filter(subject=code)
    per_case: dict[int, int] = defaultdict(int)
    for fact in facts.only("kind", "history", "case_id"):
        out = ind.outcome(fact.kind, ind.history_from_json(fact.kind, fact.history), t)
        if out and out.get(key):
            per_case[fact.case_id] += out[key]
    from chengguan.cases.models import Case

    numbers = dict(Case.objects.filter(pk__in=list(per_case)).values_list("pk", "number"))
    items = sorted(({"case": numbers[pk], "count": n} for pk, n in per_case.items()), key=lambda i: i["case"])
    return {
        "key": key,
        "code": code,
        "cases": [item["case"] for item in items],
        "items": items,
        "total": sum(item["count"] for item in items),
    }


# ---------------------------------------------------------------------------------------------
# appeals


def submit_appeal(*, actor: User, case_number: str, reason: str, task_seq: int | None = None,
                  now: datetime | None = None) -> Appeal:
    from chengguan.cases.models import Task

    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("缺少必填字段：reason（申诉理由）", "Field 'reason' is required", field="reason")
    if actor.role != "department" or not actor.department_id:
        raise Forbidden("只有专业部门可以申诉", "Only a department may appeal", field="case")
    tasks = Task.objects.filter(case__number=case_number, department_id=actor.department_id)
    if task_seq is not None:
        tasks = tasks.filter(seq=task_seq)
    task = tasks.order_by("-seq").first()
    if task is None:
        raise NotFound(f"案件 {case_number} 没有派给本部门的任务", f"Case {case_number} has no task of yours",
                       field="case")
    if task.returned:
        raise Conflict("已回退的任务不计入考核，无需申诉", "A returned task is not counted", field="case",
                       code="state_conflict")
    try:
        with transaction.atomic():
            return Appeal.objects.create(task=task, department_id=actor.department_id, reason=reason[:500],
                                         submitted_by=actor, submitted_at=now)
    except IntegrityError:
        raise Conflict("该任务已有待审核或已核减的申诉", "This task already has a pending or approved appeal",
                       field="case", code="pending_appeal") from None


def decide_appeal(appeal_id: int, *, actor: User, approve: bool, note: str = "",
                  now: datetime | None = None) -> Appeal:
    from chengguan.cases.models import Event, Task

    now = now or timezone.now()
    if actor.role not in ("evaluator", "admin"):
        raise Forbidden("只有考评员可以审核申诉", "Only an evaluator may decide appeals", field="approve")
    if not isinstance(approve, bool):
        raise Invalid("缺少必填字段：approve（true/false）", "Field 'approve' must be true or false", field="approve")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("task__case").filter(pk=appeal_id).first()
        if appeal is None:
            raise NotFound(f"申诉 {appeal_id} 不存在", f"Appeal {appeal_id} not found", field="id")
        if appeal.status != Appeal.Status.PENDING:
            raise Conflict("该申诉已审核", "This appeal has already been decided", field="approve",
                           code="state_conflict")
        appeal.status = Appeal.Status.APPROVED if approve else Appeal.Status.REJECTED
        appeal.decided_by, appeal.decided_at, appeal.decision_note = actor, now, (note or "").strip()[:500]
        appeal.save()
        case = appeal.task.case
        if approve:
            Task.objects.filter(pk=appeal.task_id).update(appealed=True)
        Event.objects.create(
            case=case, operation="appeal", from_state=case.state, to_state=case.state, actor=actor,
            actor_role=actor.role, at=now, internal=True, note=appeal.reason,
            data={"task": appeal.task.seq, "approve": approve, "note": appeal.decision_note},
        )
        refresh_case(case, since=now)
    return appeal


def appeal_json(appeal: Appeal) -> dict:
    return {
        "id": appeal.pk,
        "case": appeal.task.case.number,
        "task": appeal.task.seq,
        "department": appeal.department.code,
        "reason": appeal.reason,
        "status": appeal.status,
        "submitted_at": appeal.submitted_at.isoformat(),
        "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        "note": appeal.decision_note,
    }


# ---------------------------------------------------------------------------------------------
# publications


def checksum(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def publish(*, city: City, subject: str, period: str, actor: User, as_of: datetime | None = None,
            level: str = "street", reason: str = "", now: datetime | None = None) -> Publication:
    """Freeze an evaluation. A later one for the same subject and period is a correction: it needs a reason."""
    if actor.role not in ("evaluator", "admin"):
        raise Forbidden("只有考评员可以发布评价", "Only an evaluator may publish", field="subject")
    now = now or timezone.now()
    as_of = as_of or now
    if as_of > now:
        raise Invalid("截至时间不能晚于现在", "Field 'as_of' cannot be in the future", field="as_of")
    data = evaluate(subject, period, city=city, as_of=as_of, level=level)
    level_key = level if subject == "regions" else ""
    with transaction.atomic():
        previous = (
            Publication.objects.select_for_update()
            .filter(city=city, subject=subject, level=level_key, period=data["period"])
            .order_by("-version")
            .first()
        )
        if previous is not None and not (reason or "").strip():
            raise Invalid("已发布过该周期的评价：更正须填写原因", "A correction needs a reason", field="reason")
        return Publication.objects.create(
            city=city, subject=subject, level=level_key, period=data["period"],
            version=(previous.version + 1) if previous else 1, as_of=as_of,
            config_version=data["config_version"], reason=(reason or "").strip()[:500], data=data,
            checksum=checksum(data), published_at=now, published_by=actor,
        )


def publication_json(publication: Publication, *, with_data: bool = True) -> dict:
    body = {
        "id": publication.pk,
        "subject": publication.subject,
        "level": publication.level or None,
        "period": publication.period,
        "version": publication.version,
        "as_of": publication.as_of.isoformat(),
        "config_version": publication.config_version,
        "reason": publication.reason,
        "checksum": publication.checksum,
        "published_at": publication.published_at.isoformat(),
        "published_by": publication.published_by.username,
    }
    if with_data:
        body["data"] = publication.data
        body["checksum_ok"] = checksum(publication.data) == publication.checksum
    return body
