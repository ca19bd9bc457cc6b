"""Evaluation pages that change things: appeals (申诉核减), publications (发布) and the configuration
with its history. Each form calls one service; a refusal re-renders the page with the message and
the service's 4xx status, nothing half-stored.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from chengguan.errors import DomainError, Invalid
from chengguan.evaluation import access, services
from chengguan.evaluation import indicators as ind
from chengguan.evaluation.models import Appeal, EvaluationConfig, Publication
from chengguan.evaluation.pages import (
    COLUMNS,
    TABS,
    Query,
    english,
    forbidden,
    headers,
    pick,
    present_rows,
)
from chengguan.web.roles import role_required

APPEAL_ROLES = ("department", "evaluator", "admin")
READ_ROLES = ("leader", "evaluator", "admin", "shiftlead", "department")
TASK_CHOICES = 200
RATE_NAMES = {key: (zh, en) for columns in COLUMNS.values() for key, zh, en, kind in columns if kind == "rate"}


def _message(exc: DomainError, en: bool) -> str:
    return exc.message("en" if en else "zh")


# ---------------------------------------------------------------------------------------------
# appeals


@role_required(*APPEAL_ROLES)
def appeals(request):
    en = english(request)
    user = request.user
    city = access.city_of(user)
    error, status = "", 200
    form = {"case": request.GET.get("case", ""), "reason": "", "task": ""}
    if request.method == "POST":
        form = {k: (request.POST.get(k) or "").strip() for k in ("case", "reason", "task")}
        try:
            task = int(form["task"]) if form["task"] else None
        except ValueError:
            task = None
            error, status = pick(en, "任务序号应为数字", "The task number must be a number"), 422
        if not error:
            try:
                appeal = services.submit_appeal(actor=user, case_number=form["case"], reason=form["reason"],
                                                task_seq=task)
            except DomainError as exc:
                error, status = _message(exc, en), exc.status
            else:
                messages.success(request, pick(en, f"已提交申诉：案件 {appeal.task.case.number}",
                                               f"Appeal submitted for case {appeal.task.case.number}"))
                return redirect("evaluation-appeals")
    status_filter = request.GET.get("status", "")
    try:
        listed = list(_appeal_rows(user, city, status_filter))
    except DomainError:
        listed, status_filter = list(_appeal_rows(user, city, "")), ""
    pending = [a for a in listed if a.status == Appeal.Status.PENDING]
    context = {
        "appeals": listed, "pending": pending, "error": error, "form": form, "status_filter": status_filter,
        "may_decide": access.may_decide(user), "is_department": user.role == "department",
        "tasks": _recent_tasks(user) if user.role == "department" else [],
        "statuses": [(value, label) for value, label in Appeal.Status.choices],
    }
    return render(request, "evaluation/appeals.html", context, status=status)


def _appeal_rows(user, city, status: str):
    from chengguan.evaluation.api import appeals_for

    return appeals_for(user, city, status or None).select_related("submitted_by", "decided_by")[:300]


def _recent_tasks(user):
    """The department's tasks of the last 92 days that count (not returned): the case numbers to pick from."""
    from chengguan.cases.models import Task

    if not user.department_id:
        return []
    since = timezone.now() - timedelta(days=92)
    return list(Task.objects.filter(department_id=user.department_id, returned=False, dispatched_at__gte=since)
                .select_related("case__small_class").order_by("-dispatched_at")[:TASK_CHOICES])


@role_required("evaluator", "admin")
def decide(request, appeal_id: int):
    en = english(request)
    if request.method != "POST":
        return redirect("evaluation-appeals")
    city = access.city_of(request.user)
    decision = request.POST.get("decision")
    try:
        if not Appeal.objects.filter(pk=appeal_id, department__city=city).exists():
            raise Invalid(pick(en, "申诉不存在", "No such appeal"), field="id")
        if decision not in ("approve", "reject"):
            raise Invalid("请选择核减或驳回", "Choose approve or reject", field="approve")
        services.decide_appeal(appeal_id, actor=request.user, approve=decision == "approve",
                               note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, _message(exc, en))
    else:
        messages.success(request, pick(en, "已审核申诉", "Appeal decided"))
    return redirect("evaluation-appeals")


# ---------------------------------------------------------------------------------------------
# publications


def _visible_publications(user, city):
    qs = Publication.objects.filter(city=city).select_related("published_by").order_by("-published_at", "-id")
    return qs if access.is_reader(user) else qs.filter(subject="departments")


def _tab_of(subject: str, level: str) -> str:
    return next((t for t, (s, lv, _, _) in TABS.items() if s == subject and (lv or "street") == (level or "street")),
                "departments")


@role_required(*READ_ROLES)
def publications(request):
    en = english(request)
    user = request.user
    city = access.city_of(user)
    error, status = "", 200
    form = {"tab": "departments", "period": access.current_month(city).label, "as_of": "", "reason": ""}
    if request.method == "POST":
        if not access.may_decide(user):
            return forbidden(request)
        form = {k: (request.POST.get(k) or "").strip() for k in ("tab", "period", "as_of", "reason")}
        subject, level, _, _ = TABS.get(form["tab"], ("", "", "", ""))
        try:
            if not subject:
                raise Invalid("请选择评价对象", "Choose what to publish", field="subject")
            as_of = access.parse_as_of(form["as_of"], city, naive_ok=True)
            publication = services.publish(city=city, subject=subject, period=form["period"], actor=user,
                                           as_of=as_of, level=level or "street", reason=form["reason"])
        except DomainError as exc:
            error, status = _message(exc, en), exc.status
        else:
            messages.success(request, pick(en, f"已发布第 {publication.version} 版", f"Published version "
                                               f"{publication.version}"))
            return redirect("evaluation-publication", publication.pk)
    qs = _visible_publications(user, city)
    subject_filter, period_filter = request.GET.get("subject", ""), request.GET.get("period", "").strip()
    if subject_filter in ind.SUBJECTS:
        qs = qs.filter(subject=subject_filter)
    if period_filter:
        try:
            qs = qs.filter(period=services.period_or_422(period_filter).label)
        except DomainError as exc:
            error, status = _message(exc, en), exc.status
    items = list(qs[:200])
    for p in items:
        p.tab_label = pick(en, TABS[_tab_of(p.subject, p.level)][2], TABS[_tab_of(p.subject, p.level)][3])
    return render(request, "evaluation/publications.html", {
        "items": items, "error": error, "form": form, "may_decide": access.may_decide(user),
        "tabs": [(t, pick(en, v[2], v[3])) for t, v in TABS.items()], "subject_filter": subject_filter,
        "period_filter": period_filter,
        "subjects": [(s, pick(en, *services.SUBJECT_LABELS[s])) for s in ind.SUBJECTS],
    }, status=status)


@role_required(*READ_ROLES)
def publication(request, pk: int):
    en = english(request)
    city = access.city_of(request.user)
    found = _visible_publications(request.user, city).filter(pk=pk).first()
    if found is None:
        return render(request, "evaluation/publication.html", {"missing": True}, status=404)
    data = found.data
    tab = _tab_of(found.subject, found.level)
    query = Query(tab, found.subject, found.level or "street")
    query.period = services.period_or_422(found.period)
    user = request.user
    scope = access.Scope(explain_only=user.department.code if user.department_id else "-") \
        if user.role == "department" else access.Scope()
    rows = present_rows(query, data, scope, [], en=en, limit=None)
    return render(request, "evaluation/publication.html", {
        "p": found, "data": data, "rows": rows, "headers": headers(found.subject, en=en),
        "checksum_ok": services.checksum(data) == found.checksum,
        "tab_label": pick(en, TABS[tab][2], TABS[tab][3]),
        "versions": Publication.objects.filter(city=city, subject=found.subject, level=found.level,
                                               period=found.period).order_by("-version"),
    })


# ---------------------------------------------------------------------------------------------
# configuration


def config_form(config: ind.Config, *, en: bool) -> list[dict]:
    """Per subject, every rate with its weight (0 when unused) and whether it counts inverted."""
    groups = []
    for subject in ind.SUBJECTS:
        terms = {key: (weight, inverted) for key, weight, inverted in config.weights.get(subject, [])}
        default_inverted = {key: inverted for key, _, inverted in ind.DEFAULT_WEIGHTS[subject]}
        rates = []
        for key in ind.RATES[subject]:
            weight, inverted = terms.get(key, (0, default_inverted.get(key, False)))
            zh, en_text = RATE_NAMES.get(key, (key, key))
            rates.append({"key": key, "label": pick(en, zh, en_text), "weight": f"{weight:g}",
                          "inverted": inverted})
        groups.append({"subject": subject, "label": pick(en, *services.SUBJECT_LABELS[subject]), "rates": rates})
    return groups


def read_config_form(post) -> tuple[dict, list, float]:
    weights = {}
    for subject in ind.SUBJECTS:
        terms = []
        for key in ind.RATES[subject]:
            text = (post.get(f"w-{subject}-{key}") or "0").strip()
            try:
                weight = float(text)
            except ValueError:
                raise Invalid(f"权重无效：{text}", f"Not a weight: {text}", field="weights") from None
            if weight:
                terms.append([key, int(weight) if weight.is_integer() else weight,
                              post.get(f"inv-{subject}-{key}") == "on"])
        weights[subject] = terms
    grades = []
    for letter in ("A", "B", "C", "D"):
        text = (post.get(f"grade-{letter}") or "").strip()
        try:
            grades.append([letter, float(text)])
        except ValueError:
            raise Invalid(f"等级 {letter} 的最低分无效", f"The floor of grade {letter} is not a number",
                          field="grades") from None
    try:
        yellow = float(post.get("yellow_fraction") or "")
    except ValueError:
        raise Invalid("黄灯比例应为 0 与 1 之间的数", "yellow_fraction must be a number between 0 and 1",
                      field="yellow_fraction") from None
    return weights, grades, yellow


@role_required("leader", "evaluator", "admin", "shiftlead")
def config(request):
    en = english(request)
    error, status = "", 200
    current = services.current_config()
    note = ""
    if request.method == "POST":
        if not access.may_decide(request.user):
            return forbidden(request)
        note = (request.POST.get("note") or "").strip()
        try:
            weights, grades, yellow = read_config_form(request.POST)
            row = services.save_config(weights=weights, grades=grades, yellow_fraction=yellow, note=note,
                                       actor=request.user)
        except DomainError as exc:
            error, status = _message(exc, en), exc.status
        else:
            messages.success(request, pick(en, f"已保存为配置第 {row.version} 版", f"Saved as version {row.version}"))
            return redirect("evaluation-config")
    history = list(EvaluationConfig.objects.select_related("created_by").order_by("-version"))
    return render(request, "evaluation/config.html", {
        "current": current, "groups": config_form(current, en=en), "grades": dict(current.grades),
        "history": [(row, config_form(services.config_of(row), en=en)) for row in history],
        "default_groups": config_form(ind.Config(), en=en), "default_grades": ind.DEFAULT_GRADES,
        "error": error, "note": note, "may_decide": access.may_decide(request.user),
    }, status=status)
