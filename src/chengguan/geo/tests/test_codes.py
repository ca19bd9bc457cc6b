"""Administrative, unit-grid and component codes: tables and properties. No database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengguan.errors import Invalid
from chengguan.geo import codes


@pytest.mark.parametrize(
    "code, level, county, street, community, parent",
    [
        ("330111", "county", "330111", None, None, None),
        ("330111001", "street", "330111", "330111001", None, "330111"),
        ("330111001001", "community", "330111", "330111001", "330111001001", "330111001"),
        (" 320508 ", "county", "320508", None, None, None),
    ],
)
def test_it_parses_division_codes(code, level, county, street, community, parent):
    parsed = codes.parse_admin_code(code)
    assert (parsed.level, parsed.county, parsed.street, parsed.community, parsed.parent) == (
        level,
        county,
        street,
        community,
        parent,
    )
    assert parsed.province == county[:2]


@pytest.mark.parametrize(
    "code, words",
    [
        ("33011", ["6", "9", "12", "5"]),
        ("3301110011", ["10"]),
        ("33O111", ["数字"]),
        ("", ["为空"]),
        ("990101", ["省级代码 99"]),
        ("330000", ["省级代码"]),
        ("330111000", ["街道部分", "000"]),
        ("330111001000", ["社区部分", "000"]),
    ],
)
def test_it_says_what_is_wrong_with_a_division_code(code, words):
    with pytest.raises(Invalid) as caught:
        codes.parse_admin_code(code, field="parent")
    assert caught.value.field == "parent"
    for word in words:
        assert word in caught.value.zh


def test_it_demands_the_level_asked_for():
    with pytest.raises(Invalid) as caught:
        codes.parse_admin_code("330111001", level="community")
    assert "12" in caught.value.zh
    assert "community" in caught.value.en
    assert codes.is_admin_code("330111001", level="street")
    assert not codes.is_admin_code("330111001", level="county")


@pytest.mark.parametrize(
    "code, digits, community, sequence",
    [
        ("330111001001003", 3, "330111001001", 3),
        ("330111001001999", 3, "330111001001", 999),
        ("33011100100112", 2, "330111001001", 12),
    ],
)
def test_it_parses_grid_codes(code, digits, community, sequence):
    parsed = codes.parse_grid_code(code, sequence_digits=digits)
    assert (parsed.community, parsed.sequence, parsed.street, parsed.county) == (
        community,
        sequence,
        community[:9],
        community[:6],
    )


@pytest.mark.parametrize(
    "code, digits, words",
    [
        ("33011100100103", 3, ["15", "14"]),
        ("330111001001003", 2, ["14", "15"]),
        ("330111001001000", 3, ["顺序码", "0"]),
        ("330111001000003", 3, ["社区部分"]),
        ("33011100100100A", 3, ["数字"]),
    ],
)
def test_it_says_what_is_wrong_with_a_grid_code(code, digits, words):
    with pytest.raises(Invalid) as caught:
        codes.parse_grid_code(code, sequence_digits=digits)
    assert caught.value.field == "grid_code"
    for word in words:
        assert word in caught.value.zh


def test_it_formats_grid_codes_and_refuses_out_of_range_sequences():
    assert codes.format_grid_code("330111001001", 7) == "330111001001007"
    assert codes.format_grid_code("330111001001", 7, sequence_digits=2) == "33011100100107"
    with pytest.raises(Invalid) as caught:
        codes.format_grid_code("330111001001", 100, sequence_digits=2)
    assert caught.value.field == "sequence"
    with pytest.raises(Invalid):
        codes.format_grid_code("330111001", 1)


@pytest.mark.parametrize(
    "code, layout, county, class_code, small_class, serial, small_class_code",
    [
        ("3205080101000001", "2-2-6", "320508", "01", "01", 1, "0101"),
        ("3301110312123456", "2-2-6", "330111", "03", "12", 123456, "0312"),
        ("3301110100100042", "2-3-5", "330111", "01", "001", 42, "01001"),
        ("3301112101000009", "2-2-6", "330111", "21", "01", 9, "2101"),
    ],
)
def test_it_parses_component_codes(code, layout, county, class_code, small_class, serial, small_class_code):
    parsed = codes.parse_component_code(code, layout=layout)
    assert (parsed.county, parsed.class_code, parsed.small_class, parsed.serial, parsed.small_class_code) == (
        county,
        class_code,
        small_class,
        serial,
        small_class_code,
    )


def test_it_names_the_standard_component_class():
    assert codes.parse_component_code("3205080101000001").class_name == "公用设施"


@pytest.mark.parametrize(
    "code, words",
    [
        ("320508010100001", ["16", "15"]),
        ("3205080901000001", ["大类 09"]),
        ("3205080100000001", ["小类"]),
        ("3205080101000000", ["序号"]),
        ("9905080101000001", ["省级代码"]),
    ],
)
def test_it_says_what_is_wrong_with_a_component_code(code, words):
    with pytest.raises(Invalid) as caught:
        codes.parse_component_code(code)
    assert caught.value.field == "component_code"
    for word in words:
        assert word in caught.value.zh


def test_it_refuses_an_unknown_component_layout():
    with pytest.raises(ValueError, match="layout"):
        codes.parse_component_code("3205080101000001", layout="3-3-4")


counties = st.sampled_from(["110101", "320508", "330111", "440305", "650102"])
three = st.integers(min_value=1, max_value=999).map(lambda n: f"{n:03d}")


@given(counties, three, three, st.integers(min_value=1, max_value=999), st.sampled_from([2, 3]))
def test_it_parses_back_every_grid_code_it_formats(county, street, community, sequence, digits):
    community_code = county + street + community
    sequence = min(sequence, 10**digits - 1)
    code = codes.format_grid_code(community_code, sequence, sequence_digits=digits)
    parsed = codes.parse_grid_code(code, sequence_digits=digits)
    assert (parsed.code, parsed.community, parsed.sequence) == (code, community_code, sequence)
    assert codes.parse_admin_code(parsed.community).parent == county + street


@given(
    counties,
    st.sampled_from(["01", "02", "03", "04", "05", "06", "21", "35"]),
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=1, max_value=99_999),
    st.sampled_from(["2-2-6", "2-3-5"]),
)
def test_it_parses_back_every_component_code_it_formats(county, class_code, small, serial, layout):
    small_digits = codes.COMPONENT_LAYOUTS[layout][1]
    small_class = f"{small:0{small_digits}d}"
    code = codes.format_component_code(county, class_code, small_class, serial, layout=layout)
    assert len(code) == 16
    parsed = codes.parse_component_code(code, layout=layout)
    assert (parsed.code, parsed.county, parsed.class_code, parsed.small_class, parsed.serial) == (
        code,
        county,
        class_code,
        small_class,
        serial,
    )
