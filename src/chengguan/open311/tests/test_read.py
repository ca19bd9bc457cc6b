"""Open311 reads: discovery, services, definitions, requests, request, tokens — XML and JSON."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chengguan.cases import present as case_present
from chengguan.cases.models import Case
from chengguan.cases.tests.conftest import SH
from chengguan.geo.models import City
from chengguan.open311.tests.conftest import BASE, json_of, minute, recently, strict_xml, xml_errors
from chengguan.worktime.services import default_calendar

pytestmark = pytest.mark.django_db


def test_it_serves_discovery_in_both_formats(world, client):
    xml = client.get(f"{BASE}/discovery.xml")
    assert xml.status_code == 200 and xml["Content-Type"] == "text/xml; charset=utf-8"
    root = strict_xml(xml.content, "discovery")
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    data = json_of(client.get(f"{BASE}/discovery.json"))
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]


def test_it_lists_services_with_codes_as_strings(world, client):
    data = json_of(client.get(f"{BASE}/services.json"))
    assert [s["service_code"] for s in data] == ["C0101", "E0102"]
    garbage = data[1]
    assert garbage["service_name"] == "exposed garbage" and garbage["type"] == "realtime"
    assert garbage["metadata"] is False and data[0]["metadata"] is True
    assert garbage["group"] == "city appearance"
    root = strict_xml(client.get(f"{BASE}/services.xml").content, "services")
    assert [s.findtext("service_code") for s in root.findall("service")] == ["C0101", "E0102"]
    assert root.find("service/metadata").text == "true"
    chinese = json_of(client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert chinese[1]["service_name"] == "暴露垃圾"


def test_it_defines_a_service_with_its_attributes(world, client):
    world.garbage.filing_condition = "面积 1 平方米以上"
    world.garbage.save()
    data = json_of(client.get(f"{BASE}/services/C0101.json"))
    assert data["service_code"] == "C0101"
    (attribute,) = data["attributes"]
    assert attribute["code"] == "component_code" and attribute["variable"] is True
    assert attribute["datatype"] == "string" and attribute["required"] is False and attribute["order"] == 1
    root = strict_xml(client.get(f"{BASE}/services/E0102.xml").content, "service_definition")
    info = root.find("attributes/attribute")
    assert info.findtext("variable") == "false" and info.findtext("code") == "filing_condition"
    assert "1 平方米" in info.findtext("description")


def test_it_takes_the_paths_real_clients_send(world, client):
    for path in (f"{BASE}/service/C0101.xml", f"{BASE}//services/C0101.xml", f"{BASE}/services//C0101.xml",
                 f"{BASE}/services/C0101.xml/", f"{BASE}/services/C0101?format=xml"):
        response = client.get(path)
        assert response.status_code == 200, path
        strict_xml(response.content, "service_definition")
    assert json_of(client.get(f"{BASE}/services?format=json"))[0]["service_code"] == "C0101"
    assert client.get(f"{BASE}/services")["Content-Type"].startswith("text/xml")


def test_it_refuses_unknown_things_in_the_spec_error_format(world, client):
    response = client.get(f"{BASE}/services/E9999.xml")
    assert response.status_code == 404
    assert xml_errors(response)[0][0] == "404" and "E9999" in xml_errors(response)[0][1]
    response = client.get(f"{BASE}/services/E9999.json")
    assert response.status_code == 404 and json_of(response)[0]["code"] == 404
    for path in (f"{BASE}/nothing.xml", f"{BASE}/requests/1/2.xml"):
        response = client.get(path)
        assert response.status_code == 404 and xml_errors(response)
    assert json_of(client.get(f"{BASE}/nothing.json"))[0]["code"] == 404
    response = client.get(f"{BASE}/services.html")
    assert response.status_code == 400 and "format" in xml_errors(response)[0][1]
    response = client.get(f"{BASE}/services.json?format=csv")  # the suffix wins over the parameter
    assert response.status_code == 200
    response = client.delete(f"{BASE}/services.xml")
    assert response.status_code == 405 and response["Allow"] == "GET" and xml_errors(response)
    response = client.post(f"{BASE}/services/E0102.json")
    assert response.status_code == 405 and json_of(response)[0]["code"] == 405


def test_it_resolves_the_jurisdiction(world, client):
    assert client.get(f"{BASE}/services.json?jurisdiction_id=330100").status_code == 200
    assert client.get(f"{BASE}/services.json?jurisdiction_id=").status_code == 200  # empty = absent
    response = client.get(f"{BASE}/services.xml?jurisdiction_id=us-baltimore")
    assert response.status_code == 404 and "jurisdiction_id" in xml_errors(response)[0][1]
    # A second city (an import): calls without jurisdiction_id stay with the first one.
    other = City.objects.create(code="us-baltimore", name="Baltimore", timezone="America/New_York",
                                calendar=default_calendar())
    case = world.make_case("reported", start=minute(recently()))
    assert [r["service_request_id"] for r in json_of(client.get(f"{BASE}/requests.json"))] == [case.number]
    assert json_of(client.get(f"{BASE}/requests.json?jurisdiction_id={other.code}")) == []
    assert client.get(f"{BASE}/requests/{case.number}.json?jurisdiction_id={other.code}").status_code == 404


def test_it_shows_a_request_as_the_public_may_see_it(world, client):
    case = world.make_case("dispatched", start=minute(recently()), reporter_name="王五",
                           reporter_phone="13912345678", description="<b>垃圾</b> & 杂物")
    response = client.get(f"{BASE}/requests/{case.number}.json")
    assert response.status_code == 200
    (row,) = json_of(response)
    public = case_present.public_case(Case.objects.get(pk=case.pk))
    assert row["service_request_id"] == case.number and row["status"] == "open"
    assert row["service_code"] == "E0102" and row["service_name"] == "exposed garbage"
    assert row["agency_responsible"] == public["department_name"] == "环卫处"
    assert row["description"] == public["description"] == "<b>垃圾</b> & 杂物"
    assert (row["lat"], row["long"]) == (public["lat"], public["lon"])
    task = case.tasks.get()
    assert row["expected_datetime"] == task.due_at.astimezone(SH).isoformat(timespec="seconds")
    assert row["requested_datetime"].endswith("+08:00") and row["updated_datetime"].endswith("+08:00")
    assert row["status_notes"] == "dispatched"
    text = response.content.decode()
    assert "王五" not in text and "13912345678" not in text and "inspector" not in text
    assert "<b>" not in text and "\\u003cb\\u003e" in text
    xml = client.get(f"{BASE}/requests/{case.number}.xml")
    root = strict_xml(xml.content, "service_requests")
    assert root.findtext("request/description") == "<b>垃圾</b> & 杂物"
    assert b"&lt;b&gt;" in xml.content and b"<b>" not in xml.content
    assert root.findtext("request/address_id") == "" and root.find("request/zipcode") is not None


def test_it_maps_ended_cases_to_closed(world, client):
    closed = world.make_case("closed", start=minute(recently()))
    (row,) = json_of(client.get(f"{BASE}/requests/{closed.number}.json"))
    assert row["status"] == "closed"
    assert row["updated_datetime"] == closed.closed_at.astimezone(SH).isoformat(timespec="seconds")
    assert row["status_notes"].startswith("closed")


def test_it_filters_requests_by_the_standard_arguments(world, client):
    start = recently(3)
    garbage = world.make_case("reported", start=minute(start))
    cover = world.make_case("closed", start=minute(start + timedelta(hours=1)), class_code="C0101")
    old = world.make_case("reported", start=minute(recently(120)))

    def numbers(query: str) -> list[str]:
        response = client.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in json_of(response)]

    assert numbers("") == [cover.number, garbage.number]  # newest first, the last 90 days
    assert numbers("service_code=E0102") == [garbage.number]
    assert numbers("service_code=E0102,C0101") == [cover.number, garbage.number]
    assert numbers("status=open") == [garbage.number]
    assert numbers("status=closed") == [cover.number]
    assert numbers("status=open,closed") == [cover.number, garbage.number]
    assert numbers("status=") == [cover.number, garbage.number]
    # service_request_id overrides every other filter, the old case included
    assert sorted(numbers(f"service_request_id={old.number},{garbage.number}&status=closed")) == sorted(
        [old.number, garbage.number])
    window = f"start_date={(start - timedelta(minutes=5)).isoformat()}&end_date={(start + timedelta(minutes=5))}"
    assert numbers(window.replace("+", "%2B")) == [garbage.number]
    assert numbers(window) == [garbage.number]  # a '+' sent unencoded arrives as a space
    assert numbers(f"start_date={(start - timedelta(days=1)).date()}") == [cover.number, garbage.number]


def test_it_pages_and_follows_changes(world, client):
    start = recently(3)
    cases = [world.make_case("reported", start=minute(start + timedelta(hours=i))) for i in range(3)]
    page = json_of(client.get(f"{BASE}/requests.json?page_size=2&page=1"))
    assert [r["service_request_id"] for r in page] == [cases[2].number, cases[1].number]
    page = json_of(client.get(f"{BASE}/requests.json?page_size=2&page=2"))
    assert [r["service_request_id"] for r in page] == [cases[0].number]
    assert json_of(client.get(f"{BASE}/requests.json?page_size=2&page=3")) == []
    Case.objects.update(updated_at=start)
    Case.objects.filter(pk=cases[0].pk).update(updated_at=start + timedelta(days=1))
    after = (start + timedelta(hours=20)).isoformat().replace("+", "%2B")
    changed = json_of(client.get(f"{BASE}/requests.json?updated_after={after}"))
    assert [r["service_request_id"] for r in changed] == [cases[0].number]


def test_it_filters_by_bbox(world, client):
    start = minute(recently())
    west = world.make_case("reported", start=start, grid=3)
    east = world.make_case("reported", start=start, grid=5)
    g = world.grids[3]
    bbox = f"{g.center_lon - 0.0004},{g.center_lat - 0.0004},{g.center_lon + 0.0004},{g.center_lat + 0.0004}"
    assert [r["service_request_id"] for r in json_of(client.get(f"{BASE}/requests.json?bbox={bbox}"))] == [
        west.number]
    assert east.number
    response = client.get(f"{BASE}/requests.xml?bbox=1,2,3")
    assert response.status_code == 400 and "bbox" in xml_errors(response)[0][1]


@pytest.mark.parametrize("query, field", [
    ("status=pending", "status"),
    ("start_date=yesterday", "start_date"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date"),
    ("start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "start_date"),
    ("page=0", "page"),
    ("page_size=1001", "page_size"),
    ("page_size=ten", "page_size"),
    ("updated_after=soon", "updated_after"),
    ("service_code=%00", "service_code"),
])
def test_it_refuses_bad_filters_naming_them(world, client, query, field):
    response = client.get(f"{BASE}/requests.xml?{query}")
    assert response.status_code == 400
    assert field in xml_errors(response)[0][1]


def test_it_adds_extensions_on_request(world, client):
    case = world.make_case("closed", start=minute(recently()))
    (plain,) = json_of(client.get(f"{BASE}/requests/{case.number}.json"))
    assert "notes" not in plain and "extended_attributes" not in plain
    (row,) = json_of(client.get(f"{BASE}/requests/{case.number}.json?extensions=true"))
    assert row["extended_attributes"]["state"] == "closed"
    assert row["extended_attributes"]["fms_status"] == "FIXED"
    assert [n["type"] for n in row["notes"]] == ["report", "register", "dispatch", "feedback", "check", "close"]
    feedback = row["notes"][3]
    assert feedback["description"].endswith("已清理")
    root = strict_xml(client.get(f"{BASE}/requests.xml?extensions=true").content, "service_requests",
                      extensions=True)
    assert len(root.findall("request/notes/note")) == 6


def test_it_lists_a_page_of_requests_in_a_fixed_number_of_queries(world, client):
    start = recently(3)
    for i in range(3):
        world.make_case("dispatched", start=minute(start + timedelta(hours=i)))
    with CaptureQueriesContext(connection) as few:
        assert len(json_of(client.get(f"{BASE}/requests.json?extensions=true"))) == 3
    for i in range(3):
        world.make_case("closed", start=minute(start + timedelta(hours=5 + i)))
    with CaptureQueriesContext(connection) as more:
        assert len(json_of(client.get(f"{BASE}/requests.json?extensions=true"))) == 6
    assert len(more) == len(few)


def test_it_answers_unknown_requests_and_tokens_with_404(world, client):
    response = client.get(f"{BASE}/requests/20260101999.xml")
    assert response.status_code == 404 and "service_request_id" in xml_errors(response)[0][1]
    response = client.get(f"{BASE}/tokens/nope.json")
    assert response.status_code == 404 and json_of(response)[0]["code"] == 404
