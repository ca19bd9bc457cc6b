"""Administrative, unit-grid and component codes (GB/T 2260, 统计用区划代码, CJ/T 213/214).

Pure: standard library and the shared domain errors only. Parsers return frozen dataclasses
and raise `Invalid` (HTTP 422) whose message says what is wrong; `field` names the input.

- County (区县) 6 digits: 2 province + 2 prefecture + 2 county (GB/T 2260).
- Street (街道/乡镇) 9 digits: county + 3; community (社区/村) 12 digits: street + 3.
- Unit grid 15 digits: community + 3-digit sequence (14 with a 2-digit sequence, a city
  setting). The sequence runs west→east, north→south inside the community, from 1.
- Component 16 digits: county + 2 class + 2 small class + 6 serial (layout "2-2-6"), or
  county + 2 class + 3 small class + 5 serial on newer platforms (layout "2-3-5").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from chengguan.errors import Invalid

COUNTY: Final = "county"
STREET: Final = "street"
COMMUNITY: Final = "community"

ADMIN_LENGTHS: Final = {6: COUNTY, 9: STREET, 12: COMMUNITY}

# Province-level prefixes of GB/T 2260.
PROVINCES: Final = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

GRID_SEQUENCE_DIGITS: Final = (2, 3)

LAYOUT_2_2_6: Final = "2-2-6"
LAYOUT_2_3_5: Final = "2-3-5"
# layout → (class digits, small class digits, serial digits); county is always 6.
COMPONENT_LAYOUTS: Final = {LAYOUT_2_2_6: (2, 2, 6), LAYOUT_2_3_5: (2, 3, 5)}

# Component classes of the standard; local extensions use 21 and above.
COMPONENT_CLASSES: Final = {
    "01": "公用设施",
    "02": "道路交通",
    "03": "市容环境",
    "04": "园林绿化",
    "05": "房屋土地",
    "06": "其他设施",
}
LOCAL_CLASS_START: Final = 21


def _text(code: object, field: str, zh_what: str, en_what: str) -> str:
    if not isinstance(code, str):
        raise Invalid(f"{zh_what}必须是字符串", f"The {en_what} must be a string", field=field)
    text = code.strip()
    if not text:
        raise Invalid(f"{zh_what}不能为空", f"The {en_what} is empty", field=field)
    if not (text.isascii() and text.isdigit()):
        raise Invalid(
            f"{zh_what}“{text}”只能包含数字",
            f"The {en_what} '{text}' must contain digits only",
            field=field,
        )
    return text


def _check_county(county: str, field: str, zh_what: str, en_what: str, whole: str) -> None:
    if county[:2] not in PROVINCES:
        raise Invalid(
            f"{zh_what}“{whole}”的省级代码 {county[:2]} 不存在",
            f"The {en_what} '{whole}' starts with an unknown province code {county[:2]}",
            field=field,
        )
    if county[2:] == "0000":
        raise Invalid(
            f"{zh_what}“{whole}”的区县部分 {county} 是省级代码，不是区县代码",
            f"The {en_what} '{whole}' has a province code {county} where a county code belongs",
            field=field,
        )


@dataclass(frozen=True)
class AdminCode:
    """A county (6), street (9) or community (12) code."""

    code: str
    level: str  # county | street | community
    county: str
    street: str | None
    community: str | None

    @property
    def province(self) -> str:
        return self.county[:2]

    @property
    def parent(self) -> str | None:
        """The code one level up (None for a county)."""
        return {COUNTY: None, STREET: self.county, COMMUNITY: self.street}[self.level]

    def __str__(self) -> str:
        return self.code


def parse_admin_code(code: str, *, level: str | None = None, field: str = "code") -> AdminCode:
    """Parse a county, street or community code; `level` demands one of them."""
    text = _text(code, field, "区划代码", "division code")
    found = ADMIN_LENGTHS.get(len(text))
    if found is None:
        raise Invalid(
            f"区划代码“{text}”应为 6 位（区县）、9 位（街道）或 12 位（社区），实为 {len(text)} 位",
            f"The division code '{text}' must have 6 (county), 9 (street) or 12 (community) digits, not {len(text)}",
            field=field,
        )
    if level is not None and found != level:
        want = {v: k for k, v in ADMIN_LENGTHS.items()}[level]
        zh_level = {COUNTY: "区县", STREET: "街道", COMMUNITY: "社区"}[level]
        raise Invalid(
            f"{zh_level}代码“{text}”应为 {want} 位，实为 {len(text)} 位",
            f"The {level} code '{text}' must have {want} digits, not {len(text)}",
            field=field,
        )
    county = text[:6]
    _check_county(county, field, "区划代码", "division code", text)
    street = text[:9] if len(text) >= 9 else None
    community = text if len(text) == 12 else None
    if street is not None and street[6:9] == "000":
        raise Invalid(
            f"区划代码“{text}”的街道部分（第 7–9 位）不能为 000",
            f"The division code '{text}' has street part 000 (digits 7–9)",
            field=field,
        )
    if community is not None and community[9:12] == "000":
        raise Invalid(
            f"区划代码“{text}”的社区部分（第 10–12 位）不能为 000",
            f"The division code '{text}' has community part 000 (digits 10–12)",
            field=field,
        )
    return AdminCode(code=text, level=found, county=county, street=street, community=community)


def is_admin_code(code: str, *, level: str | None = None) -> bool:
    try:
        parse_admin_code(code, level=level)
    except Invalid:
        return False
    return True


@dataclass(frozen=True)
class GridCode:
    """A unit-grid code: the community code and a sequence inside it."""

    code: str
    community: str
    sequence: int
    sequence_digits: int

    @property
    def street(self) -> str:
        return self.community[:9]

    @property
    def county(self) -> str:
        return self.community[:6]

    def __str__(self) -> str:
        return self.code


def _check_sequence_digits(sequence_digits: int) -> None:
    if sequence_digits not in GRID_SEQUENCE_DIGITS:
        raise ValueError(f"grid sequence digits must be 2 or 3, not {sequence_digits}")


def parse_grid_code(code: str, *, sequence_digits: int = 3, field: str = "grid_code") -> GridCode:
    """Parse a unit-grid code of 12 + `sequence_digits` digits."""
    _check_sequence_digits(sequence_digits)
    text = _text(code, field, "网格编码", "grid code")
    want = 12 + sequence_digits
    if len(text) != want:
        raise Invalid(
            f"网格编码“{text}”应为 {want} 位（12 位社区代码 + {sequence_digits} 位顺序码），实为 {len(text)} 位",
            f"The grid code '{text}' must have {want} digits (12-digit community code + "
            f"{sequence_digits}-digit sequence), not {len(text)}",
            field=field,
        )
    try:
        community = parse_admin_code(text[:12], level=COMMUNITY, field=field)
    except Invalid as exc:
        raise Invalid(
            f"网格编码“{text}”的社区部分无效：{exc.zh}",
            f"The grid code '{text}' has an invalid community part: {exc.en}",
            field=field,
        ) from exc
    sequence = int(text[12:])
    if sequence == 0:
        raise Invalid(
            f"网格编码“{text}”的顺序码不能为 0",
            f"The grid code '{text}' has sequence 0; sequences start at 1",
            field=field,
        )
    return GridCode(code=text, community=community.code, sequence=sequence, sequence_digits=sequence_digits)


def format_grid_code(community: str, sequence: int, *, sequence_digits: int = 3) -> str:
    """The grid code for a community code and a sequence (1-based)."""
    _check_sequence_digits(sequence_digits)
    parse_admin_code(community, level=COMMUNITY, field="community")
    if not 1 <= sequence < 10**sequence_digits:
        raise Invalid(
            f"网格顺序码 {sequence} 超出范围（1–{10**sequence_digits - 1}）",
            f"Grid sequence {sequence} is out of range (1–{10**sequence_digits - 1})",
            field="sequence",
        )
    return f"{community}{sequence:0{sequence_digits}d}"


@dataclass(frozen=True)
class ComponentCode:
    """A component (部件) code: county, class, small class and serial."""

    code: str
    county: str
    class_code: str
    small_class: str
    serial: int
    layout: str

    @property
    def small_class_code(self) -> str:
        """Class and small class together, as the catalog names a small class ("0101")."""
        return self.class_code + self.small_class

    @property
    def class_name(self) -> str | None:
        return COMPONENT_CLASSES.get(self.class_code)

    def __str__(self) -> str:
        return self.code


def _layout(layout: str) -> tuple[int, int, int]:
    parts = COMPONENT_LAYOUTS.get(layout)
    if parts is None:
        raise ValueError(f"unknown component code layout {layout!r}; use one of {sorted(COMPONENT_LAYOUTS)}")
    return parts


def _check_class(class_code: str, whole: str, field: str) -> None:
    number = int(class_code)
    if class_code not in COMPONENT_CLASSES and number < LOCAL_CLASS_START:
        raise Invalid(
            f"部件编码“{whole}”的大类 {class_code} 不存在（标准大类 01–06，地方扩展从 21 起）",
            f"The component code '{whole}' has unknown class {class_code} "
            "(standard classes 01–06, local extensions from 21)",
            field=field,
        )


def parse_component_code(code: str, *, layout: str = LAYOUT_2_2_6, field: str = "component_code") -> ComponentCode:
    """Parse a 16-digit component code in the given layout ("2-2-6" or "2-3-5")."""
    class_digits, small_digits, serial_digits = _layout(layout)
    text = _text(code, field, "部件编码", "component code")
    if len(text) != 16:
        raise Invalid(
            f"部件编码“{text}”应为 16 位，实为 {len(text)} 位",
            f"The component code '{text}' must have 16 digits, not {len(text)}",
            field=field,
        )
    county = text[:6]
    _check_county(county, field, "部件编码", "component code", text)
    class_code = text[6 : 6 + class_digits]
    small_class = text[6 + class_digits : 6 + class_digits + small_digits]
    serial_text = text[16 - serial_digits :]
    _check_class(class_code, text, field)
    if int(small_class) == 0:
        raise Invalid(
            f"部件编码“{text}”的小类 {small_class} 不能为 0",
            f"The component code '{text}' has small class {small_class}; it cannot be 0",
            field=field,
        )
    serial = int(serial_text)
    if serial == 0:
        raise Invalid(
            f"部件编码“{text}”的序号不能为 0",
            f"The component code '{text}' has serial 0; serials start at 1",
            field=field,
        )
    return ComponentCode(
        code=text, county=county, class_code=class_code, small_class=small_class, serial=serial, layout=layout
    )


def format_component_code(
    county: str, class_code: str, small_class: str, serial: int, *, layout: str = LAYOUT_2_2_6
) -> str:
    """The component code for its parts; `small_class` is the small class alone ("01")."""
    class_digits, small_digits, serial_digits = _layout(layout)
    parse_admin_code(county, level=COUNTY, field="county")
    if len(class_code) != class_digits or not class_code.isdigit():
        raise Invalid(
            f"大类代码“{class_code}”应为 {class_digits} 位数字",
            f"The class code '{class_code}' must be {class_digits} digits",
            field="class_code",
        )
    if len(small_class) != small_digits or not small_class.isdigit():
        raise Invalid(
            f"小类代码“{small_class}”应为 {small_digits} 位数字",
            f"The small class code '{small_class}' must be {small_digits} digits",
            field="small_class",
        )
    if not 1 <= serial < 10**serial_digits:
        raise Invalid(
            f"部件序号 {serial} 超出范围（1–{10**serial_digits - 1}）",
            f"Component serial {serial} is out of range (1–{10**serial_digits - 1})",
            field="serial",
        )
    code = f"{county}{class_code}{small_class}{serial:0{serial_digits}d}"
    parse_component_code(code, layout=layout)
    return code
