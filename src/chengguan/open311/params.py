"""Reading Open311 parameters leniently: from the query string or the body, empty = absent."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils.dateparse import parse_date, parse_datetime

from chengguan.errors import Invalid, Malformed

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_LOST_PLUS = re.compile(r"\d\d:\d\d(:\d\d(\.\d+)?)? \d\d:?\d\d$")
MAX_VALUES = 50  # repeated values of one parameter (media_url, service codes …) taken at most


class Params:
    """Query string ∪ form body (urlencoded or multipart); the body wins where both carry a name."""

    def __init__(self, request: HttpRequest):
        self._sources = []
        if request.method == "POST":
            self._sources.append(request.POST)
        self._sources.append(request.GET)
        for source in self._sources:
            for name, values in source.lists():
                if any("\x00" in v for v in [name, *values]):
                    short = name[:40]
                    raise Malformed(f"参数 {short} 含有空字符", f"Parameter '{short}' contains a NUL character",
                                    field=short)

    def get(self, name: str) -> str | None:
        for source in self._sources:
            for value in source.getlist(name):
                if value.strip():
                    return value.strip()
        return None

    def getlist(self, name: str) -> list[str]:
        found: list[str] = []
        for source in self._sources:
            found.extend(v.strip() for v in source.getlist(name) if v.strip())
            if found:
                break
        return found[:MAX_VALUES]

    def csv(self, name: str) -> list[str]:
        """A comma-separated (or repeated) parameter as a list of its non-empty parts."""
        parts = [p.strip() for value in self.getlist(name) for p in value.split(",")]
        return [p for p in parts if p][: MAX_VALUES * 20]

    def flag(self, name: str) -> bool:
        return (self.get(name) or "").lower() in {"true", "1", "yes", "on"}

    def number(self, name: str, *, default: int, low: int, high: int) -> int:
        text = self.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise Invalid(f"{name} 应为 {low} 到 {high} 的整数", f"{name} must be a whole number from {low} to {high}",
                          field=name)
        return value

    def instant(self, name: str, zone: str) -> datetime | None:
        """A W3C date-time; without an offset it is read in the jurisdiction's zone, a bare date as its midnight."""
        text = self.get(name)
        if text is None:
            return None
        value = None
        try:
            if _LOST_PLUS.search(text):  # "+08:00" sent unencoded in a query string arrives as " 08:00"
                text = text[:-6] + "+" + text[-5:] if text[-3] == ":" else text[:-5] + "+" + text[-4:]
            value = parse_datetime(text)
            if value is None:
                day = parse_date(text)
                value = datetime.combine(day, time()) if day else None
        except ValueError:
            value = None
        if value is None:
            raise Invalid(
                f"{name} 不是有效的时间（应如 2026-11-23T09:00:00+08:00）",
                f"{name} is not a valid W3C date-time such as 2026-11-23T09:00:00Z",
                field=name,
            )
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(zone))
        return value

    def attributes(self) -> dict[str, str | list[str]]:
        """`attribute[CODE]=v` and `attribute[CODE][]=v1&attribute[CODE][]=v2`, bracket parsing done by hand."""
        found: dict[str, str | list[str]] = {}
        for source in self._sources:
            for name, values in source.lists():
                match = _ATTRIBUTE.match(name)
                if not match or match.group(1) in found:
                    continue
                values = [v.strip() for v in values if v.strip()][:MAX_VALUES]
                if not values:
                    continue
                found[match.group(1)] = values if match.group(2) else values[0]
        return found
