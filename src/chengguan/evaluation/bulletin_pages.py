"""Bulletin pages: `/bulletins/` (the four ones with a date picker) and each bulletin as a page with
its xlsx and PDF downloads. The same `bulletin_api.build_for` checks and builds what the API returns."""

from __future__ import annotations

from datetime import date
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from chengguan.errors import Forbidden, Invalid, NotFound
from chengguan.evaluation import bulletins
from chengguan.evaluation.bulletin_api import READERS, build_for, english, file_response
from chengguan.evaluation.periods import local_day
from chengguan.evaluation.render import render_page
from chengguan.evaluation.render.document import KIND_NAMES, KINDS
from chengguan.geo.services import city_for
from chengguan.web.roles import home_for, role_required

VIEWERS = (*sorted(READERS), "department")
CADENCE = {
    "supervision": ("每天一督查：红灯、黄灯和督办的在办案件，按责任部门分组，值班领导逐件督办。",
                    "Every day: red, yellow and supervised open cases by department, for the leader on duty."),
    "daily": ("每日一通报：前一天的上报、立案、结案，部门和街道按期率，超期清单，红黑榜。",
              "Every day: the day before — intake, filings, closures, on-time rates, overdue list, best and worst."),
    "weekly": ("每周一简评：上一周与前四周对比，高发问题、热点网格、部门排名升降和简评。",
               "Every Monday: last week against the four before, top problems, hot spots, rank changes."),
    "monthly": ("每月一汇总：上个月部门、街道、社区、监督员、受理员与派遣员的完整考评表和等级。",
                "On the 1st: last month's full evaluation tables and grades."),
}


def _errors_as_pages(view):
    """Domain errors as pages: unknown kind 404, a role that may not 403, a bad date the index with the message."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message("en")) from None
        except Forbidden:
            html = render_to_string("web/forbidden.html", {"home": home_for(request.user)}, request=request)
            return HttpResponseForbidden(html)
        except Invalid as exc:
            return _index(request, error=exc.message("en" if english(request) else "zh"), status=400)

    return wrapper


def _links(kind: str, day: str) -> dict[str, str]:
    query = urlencode({"date": day}) if day else ""
    suffix = f"?{query}" if query else ""
    return {"page": f"/bulletins/{kind}/{suffix}", "xlsx": f"/bulletins/{kind}/download.xlsx{suffix}",
            "pdf": f"/bulletins/{kind}/download.pdf{suffix}"}


def _index(request, *, error: str = "", status: int = 200):
    city = city_for(request.user)
    today = local_day(timezone.now(), ZoneInfo(city.timezone))
    chosen = request.GET.get("date") or today.isoformat()
    try:
        date.fromisoformat(chosen)
    except ValueError:
        chosen = today.isoformat()
    allowed = ["supervision"] if request.user.role == "department" and not request.user.is_superuser else KINDS
    en = english(request)
    kinds = []
    for kind in allowed:
        period = bulletins.report_period(kind, date.fromisoformat(chosen))
        kinds.append({"kind": kind, "name": KIND_NAMES[kind][int(en)], "about": CADENCE[kind][int(en)],
                      "period": period.label_zh if period else chosen, **_links(kind, chosen)})
    return render(request, "evaluation/bulletins_index.html",
                  {"kinds": kinds, "date": chosen, "today": today.isoformat(), "error": error, "city": city},
                  status=status)


@require_GET
@role_required(*VIEWERS)
@_errors_as_pages
def index(request):
    return _index(request)


@require_GET
@role_required(*VIEWERS)
@_errors_as_pages
def page(request, kind: str):
    doc, _ = build_for(request, request.user, kind, request.GET.get("date"), request.GET.get("as_of"))
    links = _links(kind, doc["date"])
    return render_page(request, doc, downloads={"xlsx": links["xlsx"], "pdf": links["pdf"]})


@require_GET
@role_required(*VIEWERS)
@_errors_as_pages
def download(request, kind: str, ext: str):
    if ext not in ("xlsx", "pdf"):
        raise Http404(ext)
    doc, city = build_for(request, request.user, kind, request.GET.get("date"), request.GET.get("as_of"))
    name = bulletins.filename(kind, date.fromisoformat(doc["date"]), city, ext)
    return file_response(doc, ext, name, english=english(request), base_url=request.build_absolute_uri("/")[:-1])
