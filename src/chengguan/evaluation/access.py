"""Who may read which evaluation, for the API and the pages alike, and the parsing both share.

Leaders, evaluators, administrators and shift leads read every subject. A department reads the
departments table whole (rankings are shared) but explains only its own row. Inspectors read
the inspectors table, call-takers and dispatchers the operators table, each only their own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from chengguan.errors import Forbidden, Invalid
from chengguan.evaluation.periods import Period, month_of
from chengguan.geo.models import City
from chengguan.geo.services import city_for

READERS = frozenset({"leader", "evaluator", "admin", "shiftlead"})
DECIDERS = frozenset({"evaluator", "admin"})
OWN_ROW = {"inspector": "inspectors", "operator": "operators", "dispatcher": "operators"}


@dataclass(frozen=True)
class Scope:
    """What a user may see of one subject: every row, or only `own` (a row code)."""

    own: str | None = None  # rows limited to this code
    explain_only: str | None = None  # every row visible, but only this one explained

    def rows(self, rows: list[dict]) -> list[dict]:
        return rows if self.own is None else [r for r in rows if r["code"] == self.own]

    def may_explain(self, code: str) -> bool:
        limit = self.own or self.explain_only
        return limit is None or code == limit


def is_reader(user) -> bool:
    return bool(user.is_superuser or user.role in READERS)


def may_decide(user) -> bool:
    return bool(user.is_superuser or user.role in DECIDERS)


def scope_for(user, subject: str) -> Scope:
    """The user's view of `subject`, or Forbidden."""
    if is_reader(user):
        return Scope()
    if user.role == "department" and user.department_id and subject == "departments":
        return Scope(explain_only=user.department.code)
    if OWN_ROW.get(user.role) == subject:
        return Scope(own=str(user.pk))
    raise Forbidden("无权查看该评价", "Your role may not read this evaluation", field="subject")


def subjects_for(user) -> tuple[str, ...]:
    if is_reader(user):
        return ("departments", "regions", "inspectors", "operators")
    if user.role == "department" and user.department_id:
        return ("departments",)
    if user.role in OWN_ROW:
        return (OWN_ROW[user.role],)
    return ()


def city_of(user, code: str | None = None) -> City:
    """The caller's city; else the one named; else the default (only) city."""
    if getattr(user, "city_id", None):
        return user.city
    return city_for(None, code or None)


def zone(city: City) -> ZoneInfo:
    return ZoneInfo(city.timezone)


def current_month(city: City, now: datetime | None = None) -> Period:
    today = (now or timezone.now()).astimezone(zone(city)).date()
    return month_of(today.year, today.month)


def parse_as_of(text: str | None, city: City, *, now: datetime | None = None,
                naive_ok: bool = False) -> datetime | None:
    """ISO 8601 with an offset (a page may send local wall time: `naive_ok`); never in the future."""
    text = (text or "").strip()
    if not text:
        return None
    # A "+08:00" sent unencoded in a query string arrives as " 08:00".
    if "T" in text and text[-6:-5] == " ":
        text = text[:-6] + "+" + text[-5:]
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"截至时间格式无效：{text}（应为 ISO 8601，如 2026-11-24T00:00:00+08:00）",
                      f"Field 'as_of' is not an ISO 8601 instant: {text} (e.g. 2026-11-24T00:00:00+08:00)",
                      field="as_of") from None
    if value.tzinfo is None:
        if not naive_ok:
            raise Invalid("截至时间须带时区偏移（如 +08:00）",
                          "Field 'as_of' needs a UTC offset (e.g. +08:00)", field="as_of")
        value = value.replace(tzinfo=zone(city))
    if value > (now or timezone.now()):
        raise Invalid("截至时间不能晚于现在", "as_of cannot be in the future", field="as_of")
    return value
