"""The 311 export layouts this app reads: which column holds what, and what each status means.

Pure: standard library only. `reading.py` applies a layout to a file; the services decide
what to write. A layout also names the city its exports belong to, so that an import of a
Baltimore file builds (or finds) the city of Baltimore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# What an export's status says about a request.
CLOSED = "closed"  # finished by the agency: closed case
DUPLICATE = "duplicate"  # marked as a duplicate: merged-like, cancelled case
CANCELLED = "cancelled"  # cancelled or withdrawn: cancelled case
DISPATCHED = "dispatched"  # with the agency, not yet worked on
HANDLING = "handling"  # being worked on
ENDED = frozenset({CLOSED, DUPLICATE, CANCELLED})

# Statuses read as open, lower case: the request is with the agency.
WAITING = frozenset({"open", "new", "assigned", "unassigned", "unspecified", "email sent", "submitted", "received"})
WORKING = frozenset({"in progress", "started", "pending", "acknowledged", "on hold", "open - in progress"})


def status_kind(status: str) -> str | None:
    """What a status says (CLOSED, DUPLICATE, …), or None for a status nobody has described.

    `Closed (Duplicate)`, `Open (Duplicate)`: duplicate; `Closed…`: closed; `Cancelled`: cancelled;
    `Referred Out` (handed to another body, with a closed date): closed.
    """
    text = " ".join(status.strip().lower().split())
    if not text:
        return None
    if "duplicate" in text:
        return DUPLICATE
    if text.startswith("closed") or text.startswith("referred") or text in {"completed", "resolved"}:
        return CLOSED
    if text.startswith("cancel") or text in {"void", "withdrawn"}:
        return CANCELLED
    if text in WAITING:
        return DISPATCHED
    if text in WORKING:
        return HANDLING
    return None


@dataclass(frozen=True)
class Layout:
    """One export layout: its columns and the city its rows belong to."""

    name: str
    # the city
    city_code: str
    city_name: str
    city_name_en: str
    timezone: str
    key: str  # short prefix of case numbers, region and grid codes (≤ 3 characters)
    centre: tuple[float, float]  # lon, lat: rows farther than `radius_km` are not this city's
    # columns
    id: str
    created: str
    closed: str
    due: str | None
    status: str
    agency: str
    type: str
    channel: str
    address: str
    lat: str
    lon: str
    area: str | None  # the export's own district column
    area_label: tuple[str, str] = ("{}", "{}")  # (zh, en) names of a district from its value
    area_codes: dict[str, str] = field(default_factory=dict)  # value (upper case) → short slug
    area_blank: frozenset[str] = frozenset()  # values that mean "no district"
    agency_name: str | None = None
    descriptor: str | None = None
    status_date: str | None = None
    x: str | None = None  # State Plane (US survey feet)
    y: str | None = None
    state_plane: str | None = None  # EPSG code of x/y
    placeholders: tuple[tuple[float, float], ...] = ()  # (lon, lat) written where the location is unknown
    due_date_only_at_midnight: bool = False  # a due time of 00:00:00 is a date: the deadline is its end
    radius_km: float = 100.0

    @property
    def signature(self) -> tuple[str, ...]:
        """Columns whose presence identifies the layout."""
        return (self.id, self.created, self.status, self.agency, self.type)

    def columns(self) -> list[str]:
        names = [self.id, self.created, self.closed, self.due, self.status, self.agency, self.type, self.channel,
                 self.address, self.lat, self.lon, self.area, self.agency_name, self.descriptor, self.status_date,
                 self.x, self.y]
        return [n for n in names if n]


NYC = Layout(
    name="nyc",
    city_code="us-new-york",
    city_name="纽约",
    city_name_en="New York City",
    timezone="America/New_York",
    key="nyc",
    centre=(-73.95, 40.70),
    id="Unique Key",
    created="Created Date",
    closed="Closed Date",
    due="Due Date",
    status="Status",
    agency="Agency",
    agency_name="Agency Name",
    type="Complaint Type",
    descriptor="Descriptor",
    channel="Open Data Channel Type",
    address="Incident Address",
    lat="Latitude",
    lon="Longitude",
    x="X Coordinate (State Plane)",
    y="Y Coordinate (State Plane)",
    state_plane="EPSG:2263",  # NAD83 / New York Long Island (ftUS)
    area="Borough",
    area_label=("{}", "{}"),
    area_codes={"MANHATTAN": "mn", "BRONX": "bx", "BROOKLYN": "bk", "QUEENS": "qn", "STATEN ISLAND": "si"},
    area_blank=frozenset({"UNSPECIFIED"}),
    placeholders=((0.0, 0.0),),
)

LA = Layout(
    name="la",
    city_code="us-los-angeles",
    city_name="洛杉矶",
    city_name_en="Los Angeles",
    timezone="America/Los_Angeles",
    key="la",
    centre=(-118.41, 34.02),
    id="SRNumber",
    created="CreatedDate",
    closed="ClosedDate",
    due="ServiceDate",  # the scheduled service date: the export's target date
    status="Status",
    agency="Owner",
    type="RequestType",
    channel="RequestSource",
    address="Address",
    lat="Latitude",
    lon="Longitude",
    area="CD",
    area_label=("市议会第 {} 选区", "Council District {}"),
    placeholders=((0.0, 0.0),),
    due_date_only_at_midnight=True,
)

BALTIMORE = Layout(
    name="baltimore",
    city_code="us-baltimore",
    city_name="巴尔的摩",
    city_name_en="Baltimore",
    timezone="America/New_York",
    key="bal",
    centre=(-76.61, 39.30),
    id="ServiceRequestNum",
    created="CreatedDate",
    closed="CloseDate",
    due="DueDate",
    status="SRStatus",
    status_date="StatusDate",
    agency="Agency",
    type="SRType",
    channel="MethodReceived",
    address="Address",
    lat="Latitude",
    lon="Longitude",
    area="CouncilDistrict",
    area_label=("市议会第 {} 选区", "Council District {}"),
    placeholders=((-77.0, 39.0), (0.0, 0.0)),
)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (NYC, LA, BALTIMORE)}
AUTO = "auto"


def detect_layout(columns: list[str]) -> Layout | None:
    """The layout whose identifying columns the header holds, or None."""
    present = {c.lstrip("\ufeff").strip() for c in columns}
    for layout in LAYOUTS.values():
        if all(c in present for c in layout.signature):
            return layout
    return None


def missing_columns(layout: Layout, columns: list[str]) -> list[str]:
    present = {c.lstrip("\ufeff").strip() for c in columns}
    required = [layout.id, layout.created, layout.closed, layout.status, layout.agency, layout.type]
    return [c for c in required if c not in present]


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 10) -> str:
    """Lower-case ASCII slug, at most `limit` characters: "Solid Waste" → "solid-wast"."""
    value = _SLUG.sub("-", text.lower()).strip("-")
    return value[:limit].strip("-") or "x"


def area_slug(layout: Layout, value: str) -> str:
    """The district part of region codes: borough abbreviations, "cd9" for council district 9."""
    upper = value.strip().upper()
    if upper in layout.area_codes:
        return layout.area_codes[upper]
    if value.strip().isdigit():
        return f"cd{int(value)}"
    return slug(value)


def area_names(layout: Layout, value: str) -> tuple[str, str]:
    """(zh, en) name of a district from the export's value: "Council District 9", "Brooklyn"."""
    shown = value.strip()
    if shown.isdigit():
        shown = str(int(shown))
    elif shown.isupper():
        shown = shown.title()
    zh, en = layout.area_label
    return zh.format(shown), en.format(shown)
