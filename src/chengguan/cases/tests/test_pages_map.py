"""The command center's map: its JSON (cases in a box, clusters, heat by grid), who may read it, how
many queries it costs, the page itself, and the administrator's grid check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chengguan.cases.models import Case
from chengguan.cases.pages import maps
from chengguan.cases.tests.conftest import LAT0, LON0, STEP, square
from chengguan.geo.admin_map import check_grids
from chengguan.geo.models import Grid

# The test city's nine grids, with a margin: minlon,minlat,maxlon,maxlat.
BBOX = f"{LON0 - 0.01},{LAT0 - 0.01},{LON0 + 0.01},{LAT0 + 0.01}"
CASES = "/center/map/cases.json"
HEAT = "/center/map/heat.json"


def signed_in(client, user):
    client.force_login(user)
    return client


def get(client, url, **params):
    response = client.get(url, params)
    return response, response.json()


def features_of(body, kind):
    return [f for f in body["features"] if f["properties"]["kind"] == kind]


def fresh_case(world, grid=4, **kwargs):
    """A case reported just now: its filing clock has only started, so its light is green."""
    return world.report(now=timezone.now(), grid=grid, **kwargs)


# -- cases in a box --------------------------------------------------------------------------------


def test_it_draws_each_case_apart_when_zoomed_in(world, client):
    cases = [world.report(grid=g, address=f"富春路 {g} 号") for g in (0, 4, 8)]
    _, body = get(signed_in(client, world.operator), CASES, bbox=BBOX, zoom=18, state="open")
    assert body["type"] == "FeatureCollection"
    assert body["mode"] == "cases"
    assert body["total"] == 3
    shown = {f["properties"]["number"]: f for f in features_of(body, "case")}
    assert set(shown) == {c.number for c in cases}
    first = shown[cases[0].number]
    assert first["geometry"]["coordinates"] == [round(cases[0].lon, 6), round(cases[0].lat, 6)]
    props = first["properties"]
    assert props["class_name"] == "暴露垃圾"
    assert props["state_name"] == "已上报"
    assert props["address"] == "富春路 0 号"
    assert props["light"] == "red"  # reported days ago, the 30-minute filing clock ran out long since
    assert props["url"] == f"/center/cases/{cases[0].number}/"


def test_it_clusters_cases_that_share_a_cell_with_their_worst_light(world, client):
    for _ in range(3):
        world.report(grid=4)
    world.make_case("closed", grid=4)
    fresh_case(world, grid=4)
    _, body = get(signed_in(client, world.operator), CASES, bbox=BBOX, zoom=12)
    assert body["mode"] == "clusters"
    [cluster] = body["features"]
    props = cluster["properties"]
    assert props["kind"] == "cluster"
    assert props["count"] == 5
    assert props["lights"] == {"red": 3, "yellow": 0, "green": 1, "none": 1}
    assert props["light"] == "red"
    west, south, east, north = props["bbox"]
    assert west == east == round(world.grids[4].center_lon, 6)
    assert south == north == round(world.grids[4].center_lat, 6)
    assert body["lights"] == props["lights"]


def test_it_shows_a_lone_case_as_itself_beside_a_cluster(world, client):
    for _ in range(3):
        world.report(grid=8)
    lone = fresh_case(world, grid=0)
    _, body = get(signed_in(client, world.operator), CASES, bbox=BBOX, zoom=16)
    [cluster] = features_of(body, "cluster")
    [single] = features_of(body, "case")
    assert cluster["properties"]["count"] == 3
    assert single["properties"]["number"] == lone.number
    assert single["properties"]["light"] == "green"
    assert body["total"] == 4


def test_it_uses_the_same_few_queries_for_few_or_many_cases(world, client, django_assert_max_num_queries):
    for g in (0, 4, 8):
        world.report(grid=g)
    signed_in(client, world.operator)
    # session + user, one GROUP BY, one read of the cells holding a single case
    with django_assert_max_num_queries(4):
        _, few = get(client, CASES, bbox=BBOX, zoom=16)
    for g in range(9):
        for _ in range(3):
            world.report(grid=g)
    with django_assert_max_num_queries(4):
        _, many = get(client, CASES, bbox=BBOX, zoom=16)
    assert many["total"] == few["total"] + 27
    with django_assert_max_num_queries(3):  # zoomed in: the cases themselves, one query
        _, close = get(client, CASES, bbox=BBOX, zoom=18)
    assert close["mode"] == "cases"
    assert len(close["features"]) == 30


def test_it_never_answers_more_than_the_feature_limit(world, client, django_assert_max_num_queries):
    template = world.report(grid=4)
    copies = []
    for i in range(maps.MAX_FEATURES + 10):
        copy = Case.objects.get(pk=template.pk)
        copy.pk = None
        copy.number = f"X{i:012d}"
        # spread over the nine grids, 1/20 of a grid apart, so that many cells hold a case
        copy.lon = LON0 + (i % 60) * STEP / 20
        copy.lat = LAT0 + (i // 60) * STEP / 20 % (3 * STEP)
        copies.append(copy)
    Case.objects.bulk_create(copies)
    signed_in(client, world.operator)
    for zoom in (12, 17, 18, 22):
        with django_assert_max_num_queries(5):
            _, body = get(client, CASES, bbox=BBOX, zoom=zoom)
        assert len(body["features"]) <= maps.MAX_FEATURES
        assert body["total"] == maps.MAX_FEATURES + 11
        assert body["mode"] == "clusters"


def cell_row(cx, cy, n, lon, lat, red=0, one=1):
    return {
        "cx": cx,
        "cy": cy,
        "n": n,
        "mid_lon": lon,
        "mid_lat": lat,
        "west": lon,
        "south": lat,
        "east": lon,
        "north": lat,
        "one": one,
        "red": red,
        "yellow": 0,
        "green": n - red,
    }


def test_it_draws_cells_whose_centres_nearly_touch_as_one():
    cells = [
        cell_row(10, 10, 3, 10.95, 20.5, red=1, one=7),  # near the east edge of its cell ...
        cell_row(11, 10, 1, 11.15, 20.5, one=4),  # ... and a lone case just across it: drawn as one
        cell_row(14, 10, 2, 14.5, 20.5, one=9),  # three cells away: its own
    ]
    merged = maps.merge_close(cells, 1.0, 1.0)
    assert len(merged) == 2
    big = next(c for c in merged if c["cx"] == 10)
    assert (big["n"], big["red"], big["green"], big["one"]) == (4, 1, 3, 4)
    assert big["mid_lon"] == pytest.approx((10.95 * 3 + 11.15) / 4)
    assert (big["west"], big["east"]) == (10.95, 11.15)
    assert next(c for c in merged if c["cx"] == 14)["n"] == 2


@pytest.mark.parametrize("zoom", range(maps.MAX_ZOOM + 1))
@pytest.mark.parametrize(
    "bbox",
    [
        (-180.0, -90.0, 180.0, 90.0),
        (119.4, 29.7, 120.2, 30.3),
        (119.95, 30.05, 119.951, 30.051),
        (0.0, 80.0, 170.0, 89.9),
    ],
)
def test_it_cuts_any_box_into_no_more_cells_than_the_limit(bbox, zoom):
    cell_lon, cell_lat = maps.cell_size(bbox, zoom)
    columns = int((bbox[2] - bbox[0]) // cell_lon) + 2
    rows = int((bbox[3] - bbox[1]) // cell_lat) + 2
    assert columns * rows <= maps.MAX_FEATURES


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zoom": 12}, "bbox"),
        ({"bbox": "1,2,3", "zoom": 12}, "bbox"),
        ({"bbox": "120,30,119,31", "zoom": 12}, "bbox"),
        ({"bbox": "a,b,c,d", "zoom": 12}, "bbox"),
        ({"bbox": "190,30,191,31", "zoom": 12}, "bbox"),
        ({"bbox": BBOX}, "zoom"),
        ({"bbox": BBOX, "zoom": "near"}, "zoom"),
        ({"bbox": BBOX, "zoom": 23}, "zoom"),
        ({"bbox": BBOX, "zoom": -1}, "zoom"),
        ({"bbox": BBOX, "zoom": 12, "state": "lost"}, "state"),
        ({"bbox": BBOX, "zoom": 12, "light": "blue"}, "light"),
        ({"bbox": BBOX, "zoom": 12, "supervised": "maybe"}, "supervised"),
        ({"bbox": BBOX, "zoom": 12, "created_after": "last week"}, "created_after"),
    ],
)
def test_it_refuses_bad_parameters_naming_the_field(world, client, params, field):
    response, body = get(signed_in(client, world.operator), CASES, **params)
    assert response.status_code == 422
    assert body["error"]["field"] == field
    assert body["error"]["code"] == "invalid"
    assert field in body["error"]["message"]


def test_it_answers_errors_in_english_when_asked(world, client):
    client.force_login(world.operator)
    response = client.get(CASES, {"zoom": 12}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "bbox must be four numbers: minlon,minlat,maxlon,maxlat"


def test_it_applies_the_boards_filters(world, client):
    red = world.report(grid=0)
    green = fresh_case(world, grid=4)
    closed = world.make_case("closed", grid=8)
    cover = world.report(grid=8, class_code="C0101")
    signed_in(client, world.operator)

    def numbers(**params):
        _, body = get(client, CASES, **{"bbox": BBOX, "zoom": 18, **params})
        return {f["properties"]["number"] for f in body["features"]}

    assert numbers() == {red.number, green.number, closed.number, cover.number}
    assert numbers(state="open") == {red.number, green.number, cover.number}
    assert numbers(state="closed") == {closed.number}
    assert numbers(light="green") == {green.number}
    assert numbers(light="red", class_code="C0101") == {cover.number}
    assert numbers(supervised="1") == set()
    assert numbers(q=green.number) == {green.number}
    assert numbers(bbox=f"{LON0 + 2 * STEP},{LAT0},{LON0 + 3 * STEP},{LAT0 + STEP}") == {closed.number, cover.number}


def test_it_names_classes_and_states_in_english(world, client):
    world.report(grid=4)
    client.force_login(world.operator)
    body = client.get(CASES, {"bbox": BBOX, "zoom": 18}, HTTP_ACCEPT_LANGUAGE="en").json()
    props = body["features"][0]["properties"]
    assert (props["class_name"], props["state_name"]) == ("exposed garbage", "reported")


# -- who may read it ---------------------------------------------------------------------------------


def test_it_shows_a_department_only_its_own_cases(world, client, django_assert_max_num_queries):
    garbage = world.make_case("dispatched", grid=4)  # to 环卫处 ...
    # ... which hands it back, and gets it again: two tasks of one department for one case
    now = timezone.now()
    garbage = world.act(garbage, "return", world.sanitation_user, now, reason="非本部门")
    garbage = world.act(garbage, "decide_return", world.dispatcher, now, approve=True)
    garbage = world.act(garbage, "dispatch", world.dispatcher, now, department="D0101")
    assert garbage.tasks.filter(department=world.sanitation).count() == 2
    cover = world.make_case("dispatched", grid=4, class_code="C0101")  # to 水务集团
    world.report(grid=4)  # not dispatched yet
    signed_in(client, world.sanitation_user)
    with django_assert_max_num_queries(4):
        _, body = get(client, CASES, bbox=BBOX, zoom=12)
    assert body["total"] == 1
    assert [f["properties"]["number"] for f in body["features"]] == [garbage.number]
    assert body["features"][0]["properties"]["kind"] == "case"
    _, heat = get(client, HEAT, created_after="2026-11-01")
    assert heat["total"] == 1
    _, theirs = get(signed_in(client, world.water_user), CASES, bbox=BBOX, zoom=12)
    assert [f["properties"]["number"] for f in theirs["features"]] == [cover.number]


@pytest.mark.parametrize("role", ["inspector", "volunteer"])
def test_it_refuses_the_map_to_field_staff(world, client, role):
    signed_in(client, getattr(world, role))
    for url, params in ((CASES, {"bbox": BBOX, "zoom": 12}), (HEAT, {})):
        response = client.get(url, params)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/center/map/").status_code == 403
    assert client.get("/center/map/grids/").status_code == 403


def test_it_asks_strangers_to_sign_in(client):
    assert client.get(CASES, {"bbox": BBOX, "zoom": 12}).status_code == 401
    assert client.get(HEAT).status_code == 401
    response = client.get("/center/map/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# -- heat by grid -------------------------------------------------------------------------------------


def test_it_counts_cases_per_grid_over_the_period(world, client, django_assert_max_num_queries):
    for _ in range(3):
        fresh_case(world, grid=4)
    fresh_case(world, grid=0)
    world.report(grid=0, now=timezone.now() - timedelta(days=3))
    signed_in(client, world.operator)
    with django_assert_max_num_queries(4):
        _, day = get(client, HEAT, days=1)
    assert day["days"] == 1
    assert [(g["code"], g["count"]) for g in day["grids"]] == [(world.grids[4].code, 3), (world.grids[0].code, 1)]
    assert (day["total"], day["max"]) == (4, 3)
    assert day["grids"][0]["lon"] == round(world.grids[4].center_lon, 6)
    _, week = get(client, HEAT, days=7)
    assert week["total"] == 5
    for g in range(9):
        fresh_case(world, grid=g)
    with django_assert_max_num_queries(4):
        _, more = get(client, HEAT, days=7)
    assert len(more["grids"]) == 9


def test_it_applies_filters_to_the_heat(world, client):
    fresh_case(world, grid=4)
    world.make_case("closed", start=(timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"), grid=4)
    signed_in(client, world.operator)
    assert get(client, HEAT, days=1)[1]["total"] == 2
    assert get(client, HEAT, days=1, state="open")[1]["total"] == 1


@pytest.mark.parametrize("days", ["0", "367", "week", "-1"])
def test_it_refuses_a_bad_heat_period(world, client, days):
    response, body = get(signed_in(client, world.operator), HEAT, days=days)
    assert response.status_code == 422
    assert body["error"]["field"] == "days"


# -- the page -----------------------------------------------------------------------------------------


def test_it_renders_the_map_page_with_the_boards_filters(world, client, django_assert_max_num_queries):
    signed_in(client, world.dispatcher)
    with django_assert_max_num_queries(8):
        response = client.get("/center/map/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="cg-map"' in html
    assert '<option value="open" selected>' in html  # open cases unless the URL says otherwise
    assert "环卫处" in html and "富春街道" in html and "E0102 暴露垃圾" in html
    assert "vendor/leaflet/leaflet.js" in html and "cases/map.js" in html
    assert "/center/map/grids/" not in html  # the grid check is the administrator's
    config = response.context["config"]
    west, south, east, north = config["extent"]  # these grids have no stored extent: their centres
    assert (west, south, east, north) == pytest.approx(
        [LON0 + STEP / 2, LAT0 + STEP / 2, LON0 + 2.5 * STEP, LAT0 + 2.5 * STEP]
    )
    assert config["casesUrl"] == CASES


def test_it_keeps_the_filters_and_layers_from_the_url(world, client):
    signed_in(client, world.leader)
    html = client.get("/center/map/", {"state": "", "light": "red", "layers": "cases,heat"}).content.decode()
    assert '<option value="" selected>' in html
    assert '<option value="red" selected>' in html
    assert 'data-layer="heat" checked' in html
    assert 'data-layer="districts" checked' not in html


def test_it_links_the_grid_check_for_administrators(world, client):
    world.operator.role = "admin"
    world.operator.save()
    html = signed_in(client, world.operator).get("/center/map/").content.decode()
    assert "/center/map/grids/" in html


# -- the grid check -----------------------------------------------------------------------------------


def grid_row(code, geometry, community="330111001001"):
    return {
        "code": code,
        "name": "",
        "community": community,
        "geometry": geometry,
        "area_m2": 10_700.0,
        "area_class": "A",
    }


def test_it_finds_grids_outside_their_community_and_overlapping_each_other():
    community = {"330111001001": {"name": "测试社区", "geometry": square(LON0, LAT0, 2 * STEP)}}
    grids = [
        grid_row("330111001001001", square(LON0, LAT0)),
        grid_row("330111001001002", square(LON0 + STEP, LAT0)),
        grid_row("330111001001003", square(LON0 + STEP / 2, LAT0 + STEP)),  # half over 004
        grid_row("330111001001004", square(LON0 + STEP, LAT0 + STEP)),
        grid_row("330111001001005", square(LON0 + 2 * STEP, LAT0)),  # wholly outside
    ]
    results, summaries = check_grids(grids, community)
    by_code = {r.code[-3:]: r for r in results}
    assert by_code["001"].ok and by_code["002"].ok
    assert [code for code, _ in by_code["003"].overlaps] == ["330111001001004"]
    assert by_code["003"].overlaps[0][1] == pytest.approx(5_350, rel=0.02)  # half a 96 m × 111 m grid
    assert [code for code, _ in by_code["004"].overlaps] == ["330111001001003"]
    assert by_code["005"].outside_m2 == pytest.approx(10_700, rel=0.02)
    assert not by_code["005"].overlaps
    [summary] = summaries
    assert summary.grids == 5
    assert summary.coverage == pytest.approx(1 - 0.5 / 4, rel=0.02)  # the west half of the top row is bare


def test_it_flags_a_self_intersecting_outline():
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[LON0, LAT0], [LON0 + STEP, LAT0 + STEP], [LON0 + STEP, LAT0], [LON0, LAT0 + STEP], [LON0, LAT0]]
        ],
    }
    [result], _ = check_grids(
        [grid_row("330111001001001", bow_tie)], {"330111001001": {"name": "", "geometry": square(LON0, LAT0, 3 * STEP)}}
    )
    assert not result.valid
    assert not result.ok


def test_it_shows_the_grid_check_to_administrators(world, client, django_assert_max_num_queries):
    world.operator.role = "admin"
    world.operator.save()
    signed_in(client, world.operator)
    with django_assert_max_num_queries(7):
        response = client.get("/center/map/grids/", {"street": world.street.code})
    assert response.status_code == 200
    assert response.context["grid_count"] == 9
    assert response.context["problems"] == []
    html = response.content.decode()
    assert 'id="cg-no-problems"' in html
    assert "330111001001009" in html

    Grid.objects.create(
        code="330111001001010",
        city=world.city,
        community=world.community,
        street_code=world.street.code,
        district_code=world.district.code,
        geometry=square(LON0 + STEP / 2, LAT0 + STEP / 2),
        area_m2=10_700,
        area_class="B",
        center_lon=LON0 + STEP,
        center_lat=LAT0 + STEP,
        min_lon=LON0 + STEP / 2,
        min_lat=LAT0 + STEP / 2,
        max_lon=LON0 + 1.5 * STEP,
        max_lat=LAT0 + 1.5 * STEP,
    )
    Grid.objects.create(
        code="330111001001011",
        city=world.city,
        community=world.community,
        street_code=world.street.code,
        district_code=world.district.code,
        geometry=square(LON0 + 3 * STEP, LAT0),
        area_m2=10_700,
        area_class="C",
        center_lon=LON0 + 3.5 * STEP,
        center_lat=LAT0 + STEP / 2,
        min_lon=LON0 + 3 * STEP,
        min_lat=LAT0,
        max_lon=LON0 + 4 * STEP,
        max_lat=LAT0 + STEP,
    )
    response = client.get("/center/map/grids/", {"community": world.community.code})
    problems = {row["code"]: row["problems"] for row in response.context["problems"]}
    assert set(problems) == {
        "330111001001010",
        "330111001001011",
        "330111001001004",
        "330111001001005",
        "330111001001007",
        "330111001001008",
    }
    assert any("超出所属社区" in p for p in problems["330111001001011"])
    assert any("与 330111001001010 重叠" in p for p in problems["330111001001005"])
    assert (response.context["outside"], response.context["overlapping"]) == (1, 5)
    features = response.context["grid_features"]["features"]
    assert {f["properties"]["code"] for f in features if not f["properties"]["ok"]} == set(problems)


def test_it_hands_the_background_tiles_to_the_map_when_set(world, client, settings):
    signed_in(client, world.operator)
    assert client.get("/center/map/").context["config"]["tiles"]["url"] == ""
    settings.MAP_TILE_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© 市规划和自然资源局"
    tiles = client.get("/center/map/").context["config"]["tiles"]
    assert tiles == {"url": "https://tiles.example.gov.cn/{z}/{x}/{y}.png", "attribution": "© 市规划和自然资源局"}
