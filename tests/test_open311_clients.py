"""Real Open311 clients against a real HTTP server: `georeport` (Python 3) and `three` (JSON mode).

The server is pytest-django's live server on the test database (SQLite file or PostgreSQL
alike); the city is the cases' small test city with the published demo key issued.
"""

from __future__ import annotations

import io
import itertools

import pytest
import requests
from georeport import GeoReport
from PIL import Image

from chengguan.cases.models import Case
from chengguan.cases.tests.conftest import World
from chengguan.demo.services import OPEN311_DEMO_KEY, issue_open311_demo_key
from chengguan.open311.tests.conftest import SPEC_ELEMENTS, strict_xml

# `three` 0.8.0 is Python 2 code: `from itertools import ifilter` fails on Python 3. `filter` is
# the same thing there, so we provide the old name before importing it. Only JSON mode works:
# its XML mode relies on relaxml, which calls Element.getchildren (gone since Python 3.9).
if not hasattr(itertools, "ifilter"):
    itertools.ifilter = filter  # type: ignore[attr-defined]
from three import Three

JURISDICTION = "330100"


@pytest.fixture
def live_world(transactional_db):
    world = World()
    issue_open311_demo_key()
    return world


@pytest.fixture
def base(live_server) -> str:
    return f"{live_server.url}/open311/v2"


def jpeg() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="JPEG")
    out.seek(0)
    return out


def post_with_three(base: str, world: World, **extra):
    client = Three(base, api_key=OPEN311_DEMO_KEY, jurisdiction=JURISDICTION)
    grid = world.grids[4]
    fields = {"lat": f"{grid.center_lat:.6f}", "long": f"{grid.center_lon:.6f}", "description": "路边垃圾没人管",
              "address": "富春路 88 号", "name": "Zach Williams", "phone": "555-5555", **extra}
    return client, client.post("E0102", **fields)


def test_three_walks_discovery_services_post_requests_and_tokens(base, live_world):
    client = Three(base, api_key=OPEN311_DEMO_KEY, jurisdiction=JURISDICTION)
    discovery = client.discovery()
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2/")
    assert discovery["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    services = client.services()
    assert [s["service_code"] for s in services] == ["C0101", "E0102"]
    definition = client.services("C0101")
    assert definition["attributes"][0]["code"] == "component_code"

    client, created = post_with_three(base, live_world, media=jpeg())
    assert client.post_response.status_code == 201, created
    number = created[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.source == "open311" and case.state == "verifying"
    assert case.reporter_name == "Zach Williams" and case.address == "富春路 88 号"
    assert case.attachments.count() == 1

    listed = client.requests("E0102", status="open", count=50, page=1)
    assert [r["service_request_id"] for r in listed] == [number]
    (one,) = client.request(number)
    assert one["status"] == "open" and one["media_url"].startswith(base.replace("/open311/v2", "/api/v1/public/"))
    assert "Zach" not in str(one) and "555-5555" not in str(one)
    (token,) = client.token(case.open311.token)
    assert token["service_request_id"] == number


def test_three_gets_the_spec_errors_as_data(base, live_world):
    client = Three(base, jurisdiction=JURISDICTION)  # no key configured: three sends api_key= empty
    grid = live_world.grids[4]
    refused = client.post("E0102", lat=str(grid.center_lat), long=str(grid.center_lon), description="x")
    assert client.post_response.status_code == 403
    assert refused == [{"code": 403, "description": "api_key 缺失或无效"}]  # no Accept-Language: Chinese
    _, outside = post_with_three(base, live_world, lat="39.9", long="116.4")
    assert outside[0]["code"] == 400 and "lat/long" in outside[0]["description"]
    assert not Case.objects.exists()


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_reads_services_and_requests(base, live_world, output_format):
    _, created = post_with_three(base, live_world)
    number = created[0]["service_request_id"]
    client = GeoReport(base, jurisdiction=JURISDICTION, output_format=output_format)
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == ["C0101", "E0102"]
    definition = client.get_service_definition("C0101")
    assert definition["service_code"] == "C0101"
    found = client.get_service_requests(service_code="E0102", status="open")
    rows = found if isinstance(found, list) else [found]  # xmltodict gives one child as a dict
    assert [r["service_request_id"] for r in rows] == [number]
    by_id = client.get_service_requests(service_request_id=f"{number},20000101000001")
    assert (by_id if isinstance(by_id, dict) else by_id[0])["service_request_id"] == number
    one = client.get_service_request(number)
    assert one["service_request_id"] == number and one["status"] == "open"
    with pytest.raises(requests.HTTPError) as refused:
        client.get_service_definition("E9999")
    assert refused.value.response.status_code == 404


def test_every_xml_resource_parses_strictly(base, live_world):
    _, created = post_with_three(base, live_world)
    number = created[0]["service_request_id"]
    token = Case.objects.get(number=number).open311.token
    paths = {
        "discovery": "discovery.xml",
        "services": "services.xml",
        "service_definition": "services/C0101.xml",
        "service_requests": [f"requests.xml?jurisdiction_id={JURISDICTION}", f"requests/{number}.xml",
                             f"tokens/{token}.xml"],
        "service_request_updates": "servicerequestupdates.xml",
        "errors": "services/E9999.xml",
    }
    assert set(paths) == set(SPEC_ELEMENTS)
    for root, wanted in paths.items():
        for path in [wanted] if isinstance(wanted, str) else wanted:
            response = requests.get(f"{base}/{path}", timeout=30)
            assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
            strict_xml(response.content, root)
    # the Python 2 `open311` client's paths: singular service/, `//`, key in the query string
    assert requests.get(f"{base}/service/C0101.xml?jurisdiction_id=", timeout=30).status_code == 200
    grid = live_world.grids[4]
    response = requests.post(f"{base}//requests.xml?api_key={OPEN311_DEMO_KEY}&jurisdiction_id={JURISDICTION}",
                             data={"service_code": "E0102", "lat": grid.center_lat, "long": grid.center_lon,
                                   "description": "井盖<破损>"}, timeout=30)
    assert response.status_code == 201
    strict_xml(response.content, "service_requests")
