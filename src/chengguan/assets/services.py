"""Component inventory (部件) use cases: codes that agree with the class, the next free code."""

from __future__ import annotations

from chengguan.assets.models import Component
from chengguan.catalog.models import Kind, SmallClass
from chengguan.errors import Invalid
from chengguan.geo.codes import format_component_code, parse_component_code


def check_component_code(code: str, small_class: SmallClass) -> str:
    """The code, stripped, if it is a valid 16-digit code of this component small class."""
    if small_class.kind != Kind.COMPONENT:
        raise Invalid(
            f"{small_class} 是事件小类，不是部件小类",
            f"{small_class.code} is an event class, not a component class",
            field="small_class",
        )
    parsed = parse_component_code(code, field="code")
    if parsed.small_class_code != small_class.code[1:]:
        raise Invalid(
            f"部件编码“{parsed.code}”的大类小类 {parsed.small_class_code} 与所选小类 {small_class.code} 不符",
            f"The component code '{parsed.code}' names class {parsed.small_class_code}, "
            f"not the chosen {small_class.code}",
            field="code",
        )
    return parsed.code


def next_component_code(county: str, small_class: SmallClass) -> str:
    """The next free code of a small class in a county: the highest serial so far, plus one."""
    prefix = f"{county}{small_class.code[1:3]}{small_class.code[3:5]}"
    last = (
        Component.objects.filter(code__startswith=prefix, code__regex=r"^\d{16}$")
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    serial = int(last[10:]) + 1 if last else 1
    return format_component_code(county, small_class.code[1:3], small_class.code[3:5], serial)
