"""POST requests: a key, a known service, a place in the jurisdiction — or nothing is stored."""

import io
import os

import pytest
from django.test import Client
from PIL import Image

from chengguan.cases.models import Attachment, Case
from chengguan.open311.models import Open311Request
from chengguan.open311.services import revoke_key
from chengguan.open311.tests.conftest import BASE, KEY, json_of, photo, post_body, strict_xml, xml_errors

pytestmark = pytest.mark.django_db


def nothing_stored():
    return not Case.objects.exists() and not Open311Request.objects.exists() and not Attachment.objects.exists()


def test_it_takes_a_request_into_the_loop_as_a_public_report(world, api_key, client):
    response = client.post(f"{BASE}/requests.xml", post_body(world))
    assert response.status_code == 201, response.content
    root = strict_xml(response.content, "service_requests")
    number = root.findtext("request/service_request_id")
    assert root.findtext("request/service_notice") and root.findtext("request/token") is None
    case = Case.objects.get(number=number)
    assert case.source == "open311" and case.state == "verifying" and case.reporter is None
    assert case.reporter_name == "Li Lei" and case.reporter_phone == "13800001234"
    assert case.address == "富春路 88 号" and case.grid_code == world.grids[4].code
    link = case.open311
    assert link.api_key == api_key and link.email == "li@example.org"
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    (row,) = json_of(client.get(f"{BASE}/requests/{number}.json"))
    assert row["status"] == "open" and row["service_code"] == "E0102"
    text = str(row)
    assert "Li Lei" not in text and "13800001234" not in text and "li@example.org" not in text
    (token,) = json_of(client.get(f"{BASE}/tokens/{link.token}.json"))
    assert token == {"service_request_id": number, "token": link.token}


def test_it_takes_the_key_and_jurisdiction_from_the_query_string(world, api_key):
    body = post_body(world, api_key=None)
    response = Client().post(f"{BASE}//requests.xml?api_key={KEY}&jurisdiction_id=330100", body)
    assert response.status_code == 201, response.content
    body = post_body(world, api_key="", jurisdiction_id="")  # empty = absent: the query string's key counts
    assert Client().post(f"{BASE}/requests.json?api_key={KEY}", body).status_code == 201


@pytest.mark.parametrize("key", [None, "", "wrong", "x" * 200])
def test_it_refuses_a_missing_or_wrong_key_with_403(world, api_key, client, key):
    response = client.post(f"{BASE}/requests.json", post_body(world, api_key=key))
    assert response.status_code == 403
    assert json_of(response) == [{"code": 403, "description": "Missing or invalid api_key"}]
    assert nothing_stored()


def test_it_refuses_a_revoked_key(world, api_key, client):
    revoke_key(api_key)
    response = client.post(f"{BASE}/requests.xml", post_body(world))
    assert response.status_code == 403 and xml_errors(response)[0][0] == "403"
    assert nothing_stored()


@pytest.mark.parametrize("extra, status, field", [
    ({"service_code": "E9999"}, 404, "service_code"),
    ({"service_code": None}, 400, "service_code"),
    ({"jurisdiction_id": "us-baltimore"}, 404, "jurisdiction_id"),
    ({"lat": "31.5", "long": "121.5"}, 400, "lat/long is outside jurisdiction 330100"),
    ({"long": None}, 400, "long"),
    ({"lat": "north"}, 400, "lat"),
    ({"lat": "nan"}, 400, "lat"),
    ({"lat": None, "long": None, "address_string": None}, 400, "lat"),
    ({"lat": None, "long": None, "address_string": "月球背面 1 号"}, 400, "address_string"),
    ({"lat": None, "long": None, "address_id": "#NOTPINPOINTED#"}, 400, "address_id"),
    ({"description": "x" * 2001}, 400, "description"),
    ({"description": "bell\x07"}, 400, "description"),
    ({"description": "nul\x00"}, 400, "description"),
    ({"address_string": "路" * 201}, 400, "address_string"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"service_code": "C0101", "attribute[component_code]": "9" * 21}, 400, "attribute[component_code]"),
])
def test_it_refuses_bad_requests_naming_the_field_and_stores_nothing(world, api_key, client, extra, status, field):
    response = client.post(f"{BASE}/requests.xml", post_body(world, **extra))
    assert response.status_code == status, response.content
    ((code, description),) = xml_errors(response)
    assert code == str(status) and field in description
    assert nothing_stored()


def test_it_places_an_address_without_coordinates_when_it_can(world, api_key, client):
    body = post_body(world, lat=None, long=None, address_string="测试社区")
    response = client.post(f"{BASE}/requests.json", body)
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=json_of(response)[0]["service_request_id"])
    assert case.grid_code == world.grids[0].code and case.address == "测试社区"
    body = post_body(world, lat=None, long=None, address_string=None, address_id=world.grids[8].code)
    case = Case.objects.get(number=json_of(client.post(f"{BASE}/requests.json", body))[0]["service_request_id"])
    assert case.grid_code == world.grids[8].code


def test_it_keeps_component_codes_and_ignores_unknown_attributes(world, api_key, client):
    body = post_body(world, service_code="C0101", **{"attribute[component_code]": "0101330111000123",
                                                    "attribute[WHISPAWN]": "123456"})
    response = client.post(f"{BASE}/requests.json", body)
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.component_code == "0101330111000123"
    assert case.open311.attributes == {"component_code": "0101330111000123"}


def test_it_stores_html_as_text_and_escapes_it_everywhere(world, api_key, client):
    evil = '<script>alert("x")</script> & <b>bold</b>'
    response = client.post(f"{BASE}/requests.json", post_body(world, description=evil, first_name="<i>"))
    number = json_of(response)[0]["service_request_id"]
    assert Case.objects.get(number=number).description == evil
    xml = client.get(f"{BASE}/requests/{number}.xml")
    assert b"<script>" not in xml.content and b"&lt;script&gt;" in xml.content
    assert strict_xml(xml.content, "service_requests").findtext("request/description") == evil
    js = client.get(f"{BASE}/requests/{number}.json")
    assert b"<script>" not in js.content and json_of(js)[0]["description"] == evil


def test_it_takes_photos_as_multipart_media(world, api_key, client):
    body = post_body(world, media=photo())
    response = client.post(f"{BASE}/requests.json", body)
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    (attachment,) = case.attachments.all()
    assert attachment.stage == "report" and attachment.uploaded_by is None
    (row,) = json_of(client.get(f"{BASE}/requests/{case.number}.json"))
    assert row["media_url"] == (f"http://testserver/api/v1/public/cases/{case.number}/attachments/"
                                f"{attachment.pk}?variant=public")
    assert Client().get(row["media_url"]).status_code == 200


def test_it_stores_media_urls_as_text(world, api_key, client):
    body = post_body(world, media_url=["https://example.org/a.jpg", "https://example.org/b.jpg"])
    number = json_of(client.post(f"{BASE}/requests.json", body))[0]["service_request_id"]
    assert Open311Request.objects.get().media_url == "https://example.org/a.jpg\nhttps://example.org/b.jpg"
    (row,) = json_of(client.get(f"{BASE}/requests/{number}.json"))
    assert row["media_url"] == "https://example.org/a.jpg"


def test_it_refuses_media_that_is_not_a_photo(world, api_key, client):
    not_a_photo = io.BytesIO(b"just some text")
    not_a_photo.name = "media"
    response = client.post(f"{BASE}/requests.xml", post_body(world, media=not_a_photo))
    assert response.status_code == 400 and "media" in xml_errors(response)[0][1]
    too_many = [photo() for _ in range(6)]
    response = client.post(f"{BASE}/requests.xml", post_body(world, media=too_many))
    assert response.status_code == 400 and "media" in xml_errors(response)[0][1]
    assert nothing_stored()


def test_it_refuses_oversized_photos_and_bodies_with_413(world, api_key, client, settings):
    settings.PHOTO_MAX_BYTES = 2000
    big = io.BytesIO()
    Image.frombytes("RGB", (100, 100), os.urandom(30_000)).save(big, format="PNG")
    big.seek(0)
    response = client.post(f"{BASE}/requests.json", post_body(world, media=big))
    assert response.status_code == 413 and json_of(response)[0]["code"] == 413
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    response = client.post(f"{BASE}/requests.json", post_body(world, description="x" * 6000))
    assert response.status_code == 413 and json_of(response)[0]["code"] == 413
    response = client.post(f"{BASE}/requests.json", b"x" * 20_000, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert nothing_stored()


def test_it_limits_each_key_and_each_address(world, api_key, client, settings):
    api_key.rate_per_minute = 2
    api_key.save()
    for _ in range(2):
        assert client.post(f"{BASE}/requests.json", post_body(world)).status_code == 201
    response = client.post(f"{BASE}/requests.json", post_body(world))
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert json_of(response)[0]["code"] == 429
    assert Case.objects.count() == 2
    settings.PUBLIC_RATE_PER_MINUTE = 3  # wrong keys from one address: 3 a minute, then 429
    other = Client(REMOTE_ADDR="10.0.0.9")
    statuses = [other.post(f"{BASE}/requests.json", post_body(world, api_key="guess")).status_code
                for _ in range(4)]
    assert statuses == [403, 403, 403, 429]
    reads = [Client(REMOTE_ADDR="10.0.0.8").get(f"{BASE}/services.json").status_code for _ in range(31)]
    assert reads.count(429) == 1  # reads: ten times the public rate
