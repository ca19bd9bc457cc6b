"""The citizens' portal (市民服务) at /public/: no sign-in.

Anyone may report a problem with a map pin and photos, track a case by its number, see what the
city fixed lately and rate a closed case once. The reporter — known by the case number plus the
phone number they left or the reporter code they were given (`cases.citizens`) — may add a note
or photos for the department, say a closed case is not fixed, and list the cases they reported
from one phone number. Only public data is shown (`present.public_case`): no reporter, no staff
names, no internal notes, no photo metadata. Writes go through the services, rate-limited per
address; a report and its photos are stored in one transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from chengguan.cases import citizens, present, queries, services, workflow
from chengguan.cases.models import Attachment, Case, Event, TaskRequest
from chengguan.catalog.models import SmallClass
from chengguan.errors import DomainError, Invalid
from chengguan.geo import services as geo
from chengguan.geo.models import City, Region
from chengguan.ratelimit import client_address, hit

MAX_PHOTOS = 4
RECENT = 6
RECENT_DAYS = 30
PUBLIC_PHOTO_STAGES = ("report", "handle", "check")
LIMITS = {"description": 2000, "address": 200, "reporter_name": 80, "reporter_phone": 32, "reporter_email": 254,
          "comment": 500, "note": 2000}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MINE_LIMIT = citizens.MINE_LIMIT
PHONE = re.compile(r"^\+?[0-9][0-9 \-()]{4,30}$")
NUMBER = re.compile(r"^[0-9]{8,20}$")

# The form's fields as a citizen reads them (error summaries name them).
FIELD_LABELS = {
    "location": ("位置", "Location"),
    "photos": ("照片", "Photos"),
    "class_code": ("问题类别", "Kind of problem"),
    "description": ("问题描述", "Description"),
    "address": ("地点说明", "Where exactly"),
    "reporter_name": ("称呼", "Name"),
    "reporter_phone": ("电话", "Phone"),
    "reporter_email": ("电子邮箱", "E-mail"),
    "note": ("补充内容", "What to add"),
    "phone": ("电话", "Phone"),
    "code": ("查询码", "Reporter code"),
    "number": ("案件号", "Case number"),
    "score": ("评分", "Score"),
    "comment": ("评价内容", "Comment"),
    "form": ("提交", "Submission"),
}
# Service field names → the form field that holds them.
SERVICE_FIELDS = {"lon": "location", "lat": "location", "crs": "location", "file": "photos", "note": "comment"}
# The reporter's forms on the case page keep the service's field names, photos aside.
CITIZEN_FIELDS = {"file": "photos", "stage": "photos", "attachments": "photos", "state": "form", "version": "form",
                  "score": "form", "reason": "note"}

# Common problems in everyday words, grouped, each mapped to the standard's small class.
# (group key, 中文, English, [(class code, 中文, English, extra search words)])
COMMON = [
    ("garbage", "垃圾卫生", "Garbage and litter", [
        ("E0102", "垃圾没人清", "Garbage left lying", "垃圾 乱扔 脏 清运 rubbish trash litter"),
        ("C0305", "垃圾桶坏了、满了", "Bin broken or full", "垃圾桶 垃圾箱 满溢 bin"),
        ("E0104", "路面脏", "Dirty road", "道路 清扫 保洁 street dirty"),
        ("E0112", "路上撒落泥土渣土", "Spillage on the road", "遗撒 渣土 泥 spill mud"),
        ("E0103", "建筑垃圾堆放", "Piles of rubble", "渣土 建筑垃圾 积存 rubble"),
        ("E0117", "动物尸体", "Dead animal", "死 猫 狗 尸体 carcass"),
    ]),
    ("road", "道路井盖", "Roads and manhole covers", [
        ("E0110", "路面破损、坑洼", "Broken road, potholes", "坑 破损 路面 pothole"),
        ("C0114", "井盖破损、缺失", "Manhole cover broken or missing", "井盖 窨井 下水道盖 manhole"),
        ("E0401", "路面塌陷", "Road collapse", "塌陷 坑 sinkhole"),
        ("E0406", "路面积水", "Standing water", "积水 淹水 下雨 flood"),
        ("E0404", "下水道堵塞", "Blocked drain", "下水道 堵 臭 drain sewer"),
        ("E0402", "自来水管破裂", "Burst water pipe", "水管 漏水 爆管 leak"),
    ]),
    ("facility", "路灯设施", "Lamps and street furniture", [
        ("C0118", "路灯不亮、损坏", "Street lamp out or broken", "路灯 灯 不亮 light lamp"),
        ("C0210", "红绿灯故障", "Traffic light out of order", "红绿灯 信号灯 traffic signal"),
        ("C0211", "护栏损坏", "Damaged guardrail", "护栏 栏杆 railing"),
        ("C0203", "公交站亭损坏", "Damaged bus shelter", "公交 车站 bus stop"),
        ("C0126", "健身器材损坏", "Broken fitness equipment", "健身 器材 gym"),
        ("C0301", "公共厕所问题", "Public toilet problem", "厕所 公厕 toilet"),
    ]),
    ("parking", "停车占道", "Parking and blocked pavements", [
        ("E0505", "汽车乱停", "Car parked illegally", "停车 乱停 占道 汽车 car parking"),
        ("E0506", "单车、电动车乱停", "Bikes or e-bikes parked badly", "单车 共享单车 电动车 自行车 bicycle"),
        ("E0504", "店外摆卖、占道经营", "Shop trading on the pavement", "店外 占道经营 shop"),
        ("E0507", "乱堆杂物", "Things piled on the street", "堆物 堆料 杂物 clutter"),
        ("E0107", "僵尸车、废弃车辆", "Abandoned vehicle", "僵尸车 废弃 abandoned"),
        ("E0304", "施工占道", "Works blocking the way", "施工 围挡 roadworks"),
    ]),
    ("order", "摊贩与街面秩序", "Vendors and street order", [
        ("E0501", "流动摊贩", "Street vendor", "摊贩 小贩 游商 摆摊 hawker vendor"),
        ("E0510", "露天烧烤", "Open-air barbecue", "烧烤 夜宵 barbecue"),
        ("E0503", "占道收废品", "Scrap buying on the street", "废品 收购 scrap"),
        ("E0511", "沿街晾晒", "Laundry hung along the street", "晾衣 晾晒 laundry"),
        ("E0101", "违章搭建", "Illegal construction", "违建 搭建 building"),
    ]),
    ("nuisance", "噪音、油烟、广告", "Noise, fumes and ads", [
        ("E0301", "施工噪音扰民", "Construction noise", "噪音 施工 夜间 noise"),
        ("E0508", "商铺噪音", "Noise from shops", "噪音 喇叭 音响 noise"),
        ("E0116", "油烟污染", "Cooking fumes", "油烟 饭店 fumes smoke"),
        ("E0302", "工地扬尘", "Dust from a building site", "扬尘 灰尘 dust"),
        ("E0201", "小广告", "Illegal small ads", "小广告 牛皮癣 张贴 flyers"),
        ("E0205", "招牌破损", "Damaged shop sign", "招牌 广告牌 sign"),
    ]),
    ("green", "绿化与河道", "Trees, green spaces and water", [
        ("C0402", "行道树倒伏、缺损", "Street tree fallen or damaged", "树 倒 树枝 tree"),
        ("E0106", "绿地脏乱", "Messy green space", "绿地 草坪 park"),
        ("E0105", "河道水面脏", "Dirty river or pond", "河道 水面 漂浮 river"),
        ("E0199", "其他问题", "Something else", "其他 other"),
    ]),
]

# Where a case stands, in plain words: (中文 headline, English headline, tone).
PLAIN = {
    "reported": ("已收到，等待受理", "Received, waiting to be taken in", "info"),
    "verifying": ("已收到，等待网格监督员到现场核实", "Received: an inspector will check it on site", "info"),
    "pending": ("现场核实属实，等待立案", "Confirmed on site, waiting to be filed", "info"),
    "registered": ("已立案，正在安排处理部门", "Filed: a department is being assigned", "info"),
    "dispatched": ("已交给处理部门", "Sent to the department in charge", "info"),
    "handling": ("处理部门正在处理", "The department is working on it", "info"),
    "handled": ("部门已处理，等待现场核查", "Fixed by the department, waiting for an on-site check", "info"),
    "checking": ("部门已处理，监督员正在现场核查", "Fixed by the department, an inspector is checking it", "info"),
    "closable": ("现场核查通过，即将办结", "Checked on site: about to be closed", "good"),
    "closed": ("已办结", "Done", "good"),
    "suspended": ("暂缓处理", "On hold", "warn"),
    "invalid": ("经现场核实，未发现所反映的问题", "Checked on site: the problem was not found", "end"),
    "rejected": ("不予立案", "Not taken up", "end"),
    "cancelled": ("已撤销", "Withdrawn", "end"),
}
# The loop as a citizen sees it.
STEPS = [("已提交", "Reported"), ("核实立案", "Confirmed"), ("派给部门", "Assigned"), ("处理", "Being fixed"),
         ("现场核查", "Checked"), ("办结", "Done")]
STEP_OF_STATE = {"reported": 1, "verifying": 1, "pending": 1, "registered": 2, "dispatched": 3, "handling": 3,
                 "suspended": 3, "handled": 4, "checking": 4, "closable": 5, "closed": 6}
# What each public event means, in plain words; keyed by operation, or (operation, state it led to).
EVENT_WORDS = {
    "report": ("收到反映", "Report received"),
    ("verify", "pending"): ("现场核实：问题属实", "Confirmed on site"),
    ("verify", "invalid"): ("现场核实：未发现问题", "Not found on site"),
    "register": ("立案", "Filed"),
    "dispatch": ("派给处理部门", "Sent to the department"),
    "feedback": ("部门反馈已处理", "The department reported it fixed"),
    ("check", "closable"): ("现场核查：已解决", "Checked on site: fixed"),
    ("check", "dispatched"): ("现场核查：尚未解决，退回重新处理", "Checked on site: not fixed yet, sent back"),
    "close": ("办结", "Closed"),
    "reopen": ("重新办理", "Reopened"),
    "reject": ("不予立案", "Not taken up"),
    "cancel": ("撤销", "Withdrawn"),
    "merge": ("与其他案件合并办理", "Merged with another case"),
    "decide_suspend": ("暂缓处理", "Put on hold"),
    "resume": ("恢复处理", "Work resumed"),
    "dispute": ("反映人表示问题没有解决，重新审核", "The reporter says it is not fixed: under review again"),
    "follow_up": ("反映人补充了情况，已转给处理人员", "The reporter added information, passed to the staff"),
}


# ---------------------------------------------------------------------------------------------
# helpers


def _english(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def _pick(request, pair) -> str:
    return pair[1] if _english(request) else pair[0]


def _lang(request) -> str:
    return "en" if _english(request) else "zh-hans"


def _city(request) -> City:
    code = (request.GET.get("city") or request.POST.get("city") or "").strip() or None
    try:
        return geo.city_for(None, code)
    except DomainError:
        raise Http404("no city") from None


def _json_error(request, err: DomainError) -> JsonResponse:
    return JsonResponse(err.as_dict(_lang(request)), status=err.status, json_dumps_params={"ensure_ascii": False})


def _place_names(codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


def _class_name(request, small: SmallClass) -> str:
    return (small.name_en or small.name) if _english(request) else small.name


def _duration(request, start, end) -> str:
    if not start or not end:
        return ""
    minutes = max(0, int((end - start).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours = rest // 60
    if _english(request):
        if days:
            return f"{days} d {hours} h"
        return f"{hours} h {rest % 60} min" if hours else f"{rest % 60} min"
    if days:
        return f"{days}天{hours}小时"
    return f"{hours}小时{rest % 60}分" if hours else f"{rest % 60}分钟"


# ---------------------------------------------------------------------------------------------
# home


@require_GET
def home(request):
    return _home(request)


def _home(request, *, lookup_error: str = "", number: str = "", status: int = 200):
    city = _city(request)
    now = timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    closed = Case.objects.filter(city=city, state=workflow.CLOSED, closed_at__gte=since)
    # Cases with an "after" photo first, then the latest others.
    ids: list[int] = []
    for case_id in (
        Attachment.objects.filter(stage__in=("handle", "check"), case__in=closed)
        .order_by("-id")
        .values_list("case_id", flat=True)[:60]
    ):
        if case_id not in ids:
            ids.append(case_id)
        if len(ids) == RECENT:
            break
    if len(ids) < RECENT:
        ids += list(closed.exclude(pk__in=ids).order_by("-closed_at").values_list("pk", flat=True)[: RECENT - len(ids)])
    found = {
        c.pk: c
        for c in Case.objects.filter(pk__in=ids)
        .select_related("small_class")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.filter(stage__in=PUBLIC_PHOTO_STAGES).order_by("id"))
        )
    }
    cases = [found[i] for i in ids if i in found]
    names = _place_names(c.street_code for c in cases)
    recent = []
    for case in cases:
        shots = list(case.attachments.all())
        before = next((a for a in shots if a.stage == "report"), None)
        after = next((a for a in reversed(shots) if a.stage in ("handle", "check")), None)
        recent.append({
            "number": case.number,
            "class_name": _class_name(request, case.small_class),
            "street": names.get(case.street_code, ""),
            "reported_at": case.reported_at,
            "closed_at": case.closed_at,
            "took": _duration(request, case.reported_at, case.closed_at),
            "before": present.attachment_urls(case, before, public=True) if before else None,
            "after": present.attachment_urls(case, after, public=True) if after else None,
        })
    context = {
        "city": city,
        "recent": recent,
        "received": Case.objects.filter(city=city, reported_at__gte=since).count(),
        "closed_count": closed.count(),
        "days": RECENT_DAYS,
        "lookup_error": lookup_error,
        "number": number,
    }
    return render(request, "cases/public/home.html", context, status=status)


@require_GET
def lookup(request):
    number = re.sub(r"\s+", "", request.GET.get("number", ""))
    if not NUMBER.match(number):
        message = _pick(request, ("请输入案件号（8 到 20 位数字）", "Enter a case number (8 to 20 digits)"))
        return _home(request, lookup_error=message, number=number[:40], status=422)
    if not Case.objects.filter(number=number).exists():
        return _missing(request, number)
    return redirect("public-case", number=number)


@require_GET
def thanks(request, number: str):
    case = _public_case(number)
    if case is None:
        return _missing(request, number)
    code = request.session.get("reporter_codes", {}).get(case.number, "")
    return render(request, "cases/public/thanks.html", {"number": case.number, "code": code})


# ---------------------------------------------------------------------------------------------
# track and rate


def _public_case(number: str) -> Case | None:
    try:
        return queries.get_public_case(number)
    except DomainError:
        return None


def _missing(request, number: str):
    """An unknown number: the home page with the lookup form and a plain message, 404."""
    shown = number[:40]
    message = _pick(request, (f"没有找到案件 {shown}，请核对案件号", f"No case {shown}: check the number"))
    return _home(request, lookup_error=message, number=shown, status=404)


def _progress(case: Case) -> tuple[list[dict], bool]:
    """The steps of the loop with where this case stands; and whether it ended before the last step."""
    ended = case.state in (workflow.INVALID, workflow.REJECTED, workflow.CANCELLED)
    if ended:
        reached = 1
        for stamp, step in ((case.registered_at, 2), (case.dispatched_at, 3), (case.handled_at, 4)):
            if stamp:
                reached = step
        current = reached
    else:
        current = STEP_OF_STATE.get(case.state, 1)
    steps = []
    for index, label in enumerate(STEPS):
        if case.state == workflow.CLOSED or index < current:
            status = "done"
        elif index == current:
            status = "stopped" if ended else ("paused" if case.state == workflow.SUSPENDED else "current")
        else:
            status = "todo"
        steps.append({"label": label, "status": status})
    return steps, ended


def _timeline(request, data: dict, case: Case) -> list[dict]:
    entries = []
    for item in data["timeline"]:
        if item["operation"] == "suspend":  # a department's request; the approval below is what happened
            continue
        words = EVENT_WORDS.get((item["operation"], item["to"])) or EVENT_WORDS.get(item["operation"])
        if words is None:
            continue
        entries.append({"at": item["at"], "operation": item["operation"], "what": _pick(request, words),
                        "reply": item.get("reply") or ""})
    extra = Q(operation="decide_suspend", to_state=workflow.SUSPENDED) | Q(
        operation="follow_up", actor_role=workflow.CITIZEN
    )
    if not any(e["operation"] == "dispute" for e in entries):  # older public views leave it out
        extra |= Q(operation="dispute")
    for operation, at, event_data in Event.objects.filter(extra, case=case, internal=False).values_list(
        "operation", "at", "data"
    ):
        reply = (event_data or {}).get("reason", "") if operation == "decide_suspend" else ""
        entries.append({"at": at.isoformat(), "operation": operation, "what": _pick(request, EVENT_WORDS[operation]),
                        "reply": reply})
    entries.sort(key=lambda e: e["at"])
    for entry in entries:
        entry["at"] = datetime.fromisoformat(entry["at"])
    return entries


def _why(request, case: Case) -> str:
    """The reason a case stopped or waits, as the city recorded it."""
    if case.state == workflow.SUSPENDED:
        return (
            TaskRequest.objects.filter(task__case=case, kind=TaskRequest.Kind.SUSPEND, approved=True)
            .order_by("-decided_at")
            .values_list("reason", flat=True)
            .first()
            or ""
        )
    if case.state in (workflow.REJECTED, workflow.CANCELLED, workflow.INVALID, workflow.CLOSED):
        return case.end_reason
    return ""


def _referred_to(case: Case) -> str:
    """Whom a case that is not the city's job belongs to, as the call-taker recorded it."""
    if case.state != workflow.REJECTED:
        return ""
    rejects = Event.objects.filter(case=case, operation="reject").order_by("-at", "-id")
    data = rejects.values_list("data", flat=True).first()
    return (data or {}).get("refer_to", "")


def _dispute_open(case: Case, now) -> bool:
    """Whether the reporter may still say this closed case is not fixed."""
    if case.state != workflow.CLOSED or case.closed_at is None:
        return False
    if now - case.closed_at > timedelta(days=services.dispute_days()):
        return False
    return case.events.filter(operation="dispute").count() < services.dispute_limit()


@require_GET
def track(request, number: str):
    return _track(request, number)


def _track(request, number: str, *, rating_errors: dict | None = None, values: dict | None = None,
           status: int = 200, citizen_form: str = "", citizen_errors: dict | None = None,
           citizen_values: dict | None = None):
    case = _public_case(number)
    if case is None:
        return _missing(request, number)
    data = present.public_case(case)
    steps, ended = _progress(case)
    names = _place_names([case.street_code, case.community_code, case.district_code])
    headline_zh, headline_en, tone = PLAIN[case.state]
    if case.state == workflow.CANCELLED and case.duplicate_of_id:
        headline_zh = "与另一件案件是同一问题，已合并办理"
        headline_en = "The same problem as another case: handled there"
    elif case.state == workflow.PENDING and case.events.filter(operation="dispute").exists():
        headline_zh = "反映人表示问题没有解决，受理员正在重新审核"
        headline_en = "The reporter says it is not fixed: a call-taker is reviewing it"
    department = data["department_name"] if case.state not in (workflow.VERIFYING, workflow.REPORTED,
                                                               workflow.PENDING, workflow.REGISTERED) else None
    timeline = _timeline(request, data, case)
    replies = [e["reply"] for e in timeline if e["reply"] and e["operation"] == "feedback"]
    attachments = data["attachments"]
    context = {
        "case": case,
        "data": data,
        "headline": headline_en if _english(request) else headline_zh,
        "tone": tone,
        "why": _why(request, case),
        "steps": [{"label": _pick(request, s["label"]), "status": s["status"]} for s in steps],
        "ended": ended,
        "class_name": _class_name(request, case.small_class),
        "district": names.get(case.district_code, ""),
        "street": names.get(case.street_code, ""),
        "community": names.get(case.community_code, ""),
        # About 100 m: enough to recognise the place, not a doorstep.
        "lon": round(case.lon, 3),
        "lat": round(case.lat, 3),
        "department": department,
        "reply": replies[-1] if replies else "",
        "timeline": timeline,
        "before": [a for a in attachments if a["stage"] == "report"],
        "after": [a for a in attachments if a["stage"] in ("handle", "check")],
        "took": _duration(request, case.reported_at, case.closed_at) if case.state == workflow.CLOSED else "",
        "can_rate": case.state == workflow.CLOSED and case.rating is None,
        "rating_errors": rating_errors or {},
        "values": values or {},
        "stars": range(1, 6),
        "referred_to": _referred_to(case),
        "can_dispute": _dispute_open(case, timezone.now()),
        "dispute_days": services.dispute_days(),
        "citizen_form": citizen_form,
        "citizen_errors": citizen_errors or {},
        "citizen_values": citizen_values or {},
        "done": request.GET.get("done", ""),
        "max_photos": MAX_PHOTOS,
        "limits": LIMITS,
    }
    return render(request, "cases/public/case.html", context, status=status)


@require_POST
def rate(request, number: str):
    case = _public_case(number)
    if case is None:
        return _missing(request, number)
    english = _english(request)
    values = {"score": request.POST.get("score", ""), "comment": (request.POST.get("comment") or "").strip()}
    errors = {}
    try:
        hit("public-rating", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)
        try:
            score = int(values["score"])
        except ValueError:
            raise Invalid("请选择 1 到 5 星", "Choose 1 to 5 stars", field="score") from None
        if len(values["comment"]) > LIMITS["comment"]:
            raise Invalid(f"评价内容太长了（最多 {LIMITS['comment']} 字）",
                          f"The comment is too long (at most {LIMITS['comment']} characters)", field="comment")
        services.rate_case(case, score=score, comment=values["comment"])
    except DomainError as err:
        errors[SERVICE_FIELDS.get(err.field or "", err.field or "form")] = err.message("en" if english else "zh-hans")
        return _track(request, number, rating_errors=errors, values=values, status=err.status)
    return redirect(reverse("public-case", kwargs={"number": case.number}) + "#rating")
