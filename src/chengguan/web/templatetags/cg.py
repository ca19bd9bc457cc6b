"""Template helpers: both languages side by side in templates, lights, dates in the city's zone."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

LIGHTS = {"green": ("绿灯", "on time"), "yellow": ("黄灯", "near the limit"), "red": ("红灯", "overdue")}


def _english(context) -> bool:
    request = context.get("request")
    code = getattr(request, "LANGUAGE_CODE", "") or ""
    return code.startswith("en")


@register.simple_tag(takes_context=True)
def t(context, zh: str, en: str) -> str:
    """{% t "案件" "Cases" %}: the text in the reader's language (Chinese unless English is chosen)."""
    return en if _english(context) else zh


@register.simple_tag(takes_context=True)
def light(context, value: str | None):
    if not value:
        return ""
    zh, en = LIGHTS.get(value, (value, value))
    return format_html('<span class="light light-{}" title="{}">{}</span>', value, en if _english(context) else zh,
                       en if _english(context) else zh)


@register.filter
def local(value, fmt: str = "%Y-%m-%d %H:%M"):
    """An aware instant shown in the active time zone."""
    if not value:
        return ""
    return timezone.localtime(value).strftime(fmt)


@register.simple_tag(takes_context=True)
def duration(context, value) -> str:
    """{% duration 450 %} → 7小时30分 / 7 h 30 min, in the reader's language (negative: overdue)."""
    return _duration(value, english=_english(context))


@register.filter
def minutes(value) -> str:
    """450 → 7小时30分 (Chinese; use {% duration %} where the reader may choose English)."""
    return _duration(value, english=False)


def _duration(value, *, english: bool) -> str:
    if value is None or value == "":
        return ""
    sign = "-" if int(value) < 0 else ""
    hours, mins = divmod(abs(int(value)), 60)
    if english:
        return f"{sign}{hours} h {mins:02d} min" if hours else f"{sign}{mins} min"
    return f"{sign}{hours}小时{mins:02d}分" if hours else f"{sign}{mins}分"
