"""Catalog API: the classification tree with its time limits, and the departments."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from chengguan.catalog.services import classes_tree
from chengguan.org.models import Department

router = Router(tags=["catalog"])


class TimeLimitOut(Schema):
    filing_condition: str
    filing_condition_en: str
    closing_condition: str
    closing_condition_en: str
    urgency: str
    area_class: str
    minutes: int
    working_time: bool
    text: str
    source: str


class SmallClassOut(Schema):
    code: str
    name: str
    name_en: str
    parent: str
    kind: str
    pinyin: str
    filing_condition: str
    filing_condition_en: str
    closing_condition: str
    closing_condition_en: str
    time_limits: list[TimeLimitOut]


class MajorClassOut(Schema):
    code: str
    name: str
    name_en: str
    parent: str | None
    kind: str
    children: list[SmallClassOut]


class DepartmentOut(Schema):
    code: str
    name: str
    name_en: str
    parent: str | None


@router.get("/classes", response=list[MajorClassOut])
def list_classes(request: HttpRequest, kind: str | None = None, q: str = ""):
    """大类及其小类（含处置时限）· the class tree with time limits; `q` matches code, name or pinyin."""
    return classes_tree(kind=kind, q=q)


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request: HttpRequest):
    """专业部门 · the departments of the caller's city (all of them for a user with no city)."""
    rows = Department.objects.filter(active=True).order_by("code")
    city_id = getattr(request.user, "city_id", None)
    if city_id:
        rows = rows.filter(city_id=city_id)
    return [
        {"code": d["code"], "name": d["name"], "name_en": d["name_en"], "parent": d["parent__code"]}
        for d in rows.values("code", "name", "name_en", "parent__code")
    ]
