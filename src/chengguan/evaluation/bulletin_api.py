"""Bulletins API: the four ones (四个一) as JSON, xlsx or PDF.

`GET /api/v1/bulletins/{kind}?date=YYYY-MM-DD&format=json|xlsx|pdf&as_of=` — see
`bulletins.py` for which period a date names. Leaders, evaluators, administrators and the command
center read every bulletin; a department reads the supervision list of its own cases only.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Router

from chengguan.errors import Forbidden, Invalid
from chengguan.evaluation import bulletins
from chengguan.evaluation.render import to_pdf, to_xlsx
from chengguan.geo.services import city_for

router = Router(tags=["bulletins"])

READERS = frozenset({"leader", "evaluator", "admin", "shiftlead", "dispatcher", "operator"})
FORMATS = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def scope(user, kind: str):
    """The department a reader is narrowed to (None: the whole city); Forbidden for other roles."""
    if user.is_superuser or user.role in READERS:
        return None
    if user.role == "department" and user.department_id:
        if kind != "supervision":
            raise Forbidden("专业部门只能查看本部门的督查清单", "A department may read only its supervision list",
                            field="kind")
        return user.department
    raise Forbidden("无权查看通报", "Your role may not read bulletins", field="kind")


def parse_format(text: str | None) -> str:
    fmt = (text or "json").strip().lower()
    if fmt not in FORMATS:
        raise Invalid(f"format 应为 json、xlsx 或 pdf：{text}", f"Field 'format' must be json, xlsx or pdf: {text}",
                      field="format")
    return fmt


def parse_as_of(text: str | None, tz: ZoneInfo, now: datetime) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    if "T" in text:
        text = text.replace(" ", "+")  # an unencoded "+08:00" arrives as a space
    at = parse_datetime(text)
    if at is None:
        raise Invalid(f"as_of 应为 ISO 8601 时间：{text}", f"Field 'as_of' must be an ISO 8601 instant: {text}",
                      field="as_of")
    if timezone.is_naive(at):
        at = at.replace(tzinfo=tz)
    if at > now:
        raise Invalid("as_of 不能晚于现在", "Field 'as_of' cannot be in the future", field="as_of")
    return at


def english(request: HttpRequest) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en")


def file_response(doc: dict, fmt: str, name: str, *, english: bool = False, base_url: str = "") -> HttpResponse:
    """The workbook or PDF as a download with its Chinese name (RFC 6266 `filename*`, an ASCII fallback)."""
    body = to_xlsx(doc, english=english, base_url=base_url) if fmt == "xlsx" else to_pdf(doc, english=english)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    fallback = f"bulletin-{doc['kind']}-{doc.get('date', '')}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return response


def build_for(request: HttpRequest, user, kind: str, date_text: str | None, as_of_text: str | None,
              city_code: str | None = None) -> tuple[dict, object]:
    """Check kind, role, date and instant; build the document the caller may see. Returns (doc, city)."""
    bulletins.check_kind(kind)
    department = scope(user, kind)
    city = city_for(user, city_code)
    tz = ZoneInfo(city.timezone)
    now = timezone.now()
    day = bulletins.parse_day(date_text, tz, now=now)
    as_of = parse_as_of(as_of_text, tz, now)
    return bulletins.build(kind, day, city=city, as_of=as_of, department=department, now=now), city


@router.get("/{kind}", summary="四个一：督查清单、日通报、周简评、月汇总 · The four ones")
def bulletin(request: HttpRequest, kind: str, date: str | None = None, format: str | None = None,
             as_of: str | None = None, city: str | None = None):
    """kind: `supervision`, `daily`, `weekly` or `monthly`; `date` (default today) names the day the
    bulletin is issued; `format=json` (default) returns the document, `xlsx` and `pdf` the file."""
    fmt = parse_format(format)
    doc, found = build_for(request, request.auth, kind, date, as_of, city)
    if fmt == "json":
        return doc
    name = bulletins.filename(kind, datetime.fromisoformat(doc["date"]).date(), found, fmt)
    return file_response(doc, fmt, name, english=english(request), base_url=request.build_absolute_uri("/")[:-1])
