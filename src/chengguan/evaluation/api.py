"""Evaluation API: indicator tables, explanations, appeals, publications, configuration.

Thin: parse, check the caller's scope (`access.py`), call one service, present.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from chengguan.errors import Forbidden, Invalid, NotFound
from chengguan.evaluation import access, services
from chengguan.evaluation.indicators import SUBJECTS
from chengguan.evaluation.models import Appeal, EvaluationConfig, Publication

router = Router(tags=["evaluation"])

PUBLICATION_LIMIT = 200


class PublicationIn(Schema):
    subject: str = Field(..., min_length=1, max_length=12)
    period: str = Field(..., max_length=32)
    as_of: str | None = Field(None, max_length=40)
    level: str = Field("street", max_length=12)
    reason: str = Field("", max_length=500)


class AppealIn(Schema):
    case: str = Field(..., min_length=1, max_length=32)
    reason: str = Field(..., max_length=500)
    task: int | None = Field(None, ge=1)


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=500)


class ConfigIn(Schema):
    weights: dict
    grades: list
    yellow_fraction: float
    note: str = Field("", max_length=300)


def config_json(row: EvaluationConfig | None) -> dict:
    """A configuration version; `None` is the built-in default (version 0)."""
    if row is None:
        config = services.config_by_version(0)
        return {"version": 0, "weights": config.weights, "grades": config.grades,
                "yellow_fraction": config.yellow_fraction, "note": "默认配置 · built-in default",
                "created_at": None, "created_by": None}
    return {"version": row.version, "weights": row.weights, "grades": row.grades,
            "yellow_fraction": row.yellow_fraction, "note": row.note, "created_at": row.created_at.isoformat(),
            "created_by": row.created_by.username if row.created_by else None}


# ---------------------------------------------------------------------------------------------
# publications


def _publication_scope(user, subject: str | None) -> None:
    if access.is_reader(user):
        return
    if user.role == "department" and subject == "departments":
        return
    raise Forbidden("无权查看评价发布", "Your role may not read publications", field="subject")


@router.post("/publications", response={201: dict})
def create_publication(request: HttpRequest, payload: PublicationIn):
    if not access.may_decide(request.user):
        raise Forbidden("只有考评员可以发布评价", "Only an evaluator may publish", field="subject")
    city = access.city_of(request.user)
    as_of = access.parse_as_of(payload.as_of, city)
    publication = services.publish(city=city, subject=payload.subject, period=payload.period, actor=request.user,
                                   as_of=as_of, level=payload.level, reason=payload.reason)
    return Status(201, services.publication_json(publication))


@router.get("/publications", response=dict)
def list_publications(request: HttpRequest, subject: str | None = None, period: str | None = None,
                      city: str | None = None):
    _publication_scope(request.user, subject)
    target = access.city_of(request.user, city)
    qs = Publication.objects.filter(city=target).select_related("published_by").order_by("-published_at", "-id")
    if subject:
        qs = qs.filter(subject=subject)
    if period:
        qs = qs.filter(period=services.period_or_422(period).label)
    return {"items": [services.publication_json(p, with_data=False) for p in qs[:PUBLICATION_LIMIT]]}


@router.get("/publications/{publication_id}", response=dict)
def get_publication(request: HttpRequest, publication_id: int):
    target = access.city_of(request.user)
    publication = Publication.objects.filter(pk=publication_id, city=target).select_related("published_by").first()
    if publication is None:
        raise NotFound(f"发布 {publication_id} 不存在", f"Publication {publication_id} not found", field="id")
    _publication_scope(request.user, publication.subject)
    return services.publication_json(publication)


# ---------------------------------------------------------------------------------------------
# appeals


def appeals_for(user, city, status: str | None = None):
    """The appeals a user may see: a department its own, an evaluator or administrator all."""
    if status and status not in Appeal.Status.values:
        raise Invalid("status 应为 pending、approved 或 rejected",
                      "Field 'status' must be pending, approved or rejected", field="status")
    qs = Appeal.objects.filter(department__city=city).select_related("task__case", "department")
    if access.may_decide(user):
        pass
    elif user.role == "department" and user.department_id:
        qs = qs.filter(department_id=user.department_id)
    else:
        raise Forbidden("无权查看申诉", "Your role may not read appeals", field="status")
    return qs.filter(status=status) if status else qs


@router.post("/appeals", response={201: dict})
def create_appeal(request: HttpRequest, payload: AppealIn):
    appeal = services.submit_appeal(actor=request.user, case_number=payload.case.strip(), reason=payload.reason,
                                    task_seq=payload.task)
    return Status(201, services.appeal_json(appeal))


@router.get("/appeals", response=dict)
def list_appeals(request: HttpRequest, status: str | None = None):
    qs = appeals_for(request.user, access.city_of(request.user), status)
    return {"items": [services.appeal_json(a) for a in qs[:500]]}


@router.post("/appeals/{appeal_id}/decision", response=dict)
def decide(request: HttpRequest, appeal_id: int, payload: DecisionIn):
    city = access.city_of(request.user)
    if not access.may_decide(request.user):
        raise Forbidden("只有考评员可以审核申诉", "Only an evaluator may decide appeals", field="approve")
    if not Appeal.objects.filter(pk=appeal_id, department__city=city).exists():
        raise NotFound(f"申诉 {appeal_id} 不存在", f"Appeal {appeal_id} not found", field="id")
    services.decide_appeal(appeal_id, actor=request.user, approve=payload.approve, note=payload.note)
    appeal = Appeal.objects.select_related("task__case", "department").get(pk=appeal_id)
    return services.appeal_json(appeal)


# ---------------------------------------------------------------------------------------------
# configuration


@router.get("/config", response=dict)
def get_config(request: HttpRequest):
    rows = list(EvaluationConfig.objects.select_related("created_by").order_by("-version"))
    history = [config_json(row) for row in rows] + [config_json(None)]
    return {"current": history[0], "history": history}


@router.post("/config", response={201: dict})
def post_config(request: HttpRequest, payload: ConfigIn):
    if not access.may_decide(request.user):
        raise Forbidden("只有考评员可以修改评价配置", "Only an evaluator may change the configuration",
                        field="weights")
    row = services.save_config(weights=payload.weights, grades=payload.grades,
                               yellow_fraction=payload.yellow_fraction, note=payload.note, actor=request.user)
    return Status(201, config_json(row))


# ---------------------------------------------------------------------------------------------
# the tables (last: `/{subject}` would otherwise swallow the paths above)


def parse_explain(text: str) -> tuple[str, str]:
    key, sep, code = (text or "").partition(",")
    if not sep or not key.strip() or not code.strip():
        raise Invalid("explain 应为 <指标>,<行代码>，如 due,D0101",
                      "Field 'explain' must be <key>,<row code>, e.g. due,D0101", field="explain")
    return key.strip(), code.strip()


@router.get("/{subject}", response=dict)
def evaluation_table(request: HttpRequest, subject: str, period: str | None = None, as_of: str | None = None,
                     level: str = "street", explain: str | None = None, city: str | None = None):
    if subject not in SUBJECTS:
        raise NotFound(f"未知的评价对象：{subject}", f"Unknown subject '{subject}'", field="subject")
    scope = access.scope_for(request.user, subject)
    target = access.city_of(request.user, city)
    instant = access.parse_as_of(as_of, target) or timezone.now()
    chosen = services.period_or_422(period) if period is not None else access.current_month(target)
    wanted = parse_explain(explain) if explain is not None else None
    if wanted and not scope.may_explain(wanted[1]):
        raise Forbidden("只能解释本单位的数字", "You may explain only your own row", field="explain")
    result = services.evaluate(subject, chosen, city=target, as_of=instant, level=level)
    if scope.own is not None:
        result["rows"] = scope.rows(result["rows"])
        result.pop("totals", None)
    if wanted:
        key, code = wanted
        result["explain"] = services.explain(subject, chosen, key, code, city=target,
                                             as_of=instant, level=level)
    return result
