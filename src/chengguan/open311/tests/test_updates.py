"""FixMyStreet's servicerequestupdates, and keys issued by command, admin and the demo loader."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.test import Client

from chengguan.cases.models import Attachment
from chengguan.demo.services import OPEN311_DEMO_KEY, issue_open311_demo_key
from chengguan.open311.models import ApiKey, ReceivedUpdate
from chengguan.open311.tests.conftest import BASE, KEY, json_of, photo, recently, strict_xml, xml_errors
from chengguan.org.models import User

pytestmark = pytest.mark.django_db


def window(start, end) -> str:
    return f"start_date={start.isoformat()}&end_date={end.isoformat()}".replace("+", "%2B")


def test_it_lists_public_updates_in_a_window(world, client):
    start = recently(2)
    case = world.make_case("closed", start=start.strftime("%Y-%m-%d %H:%M"))
    response = client.get(f"{BASE}/servicerequestupdates.xml?{window(start, start + timedelta(hours=1))}"
                          "&api_key=&jurisdiction_id=330100")  # FixMyStreet sends api_key even on GET
    root = strict_xml(response.content, "service_request_updates")
    updates = root.findall("request_update")
    assert [u.findtext("external_status_code") for u in updates] == [
        "reported", "registered", "dispatched", "handled", "closable", "closed"]
    assert {u.findtext("service_request_id") for u in updates} == {case.number}
    assert updates[-1].findtext("status") == "FIXED" and updates[0].findtext("status") == "OPEN"
    assert updates[3].findtext("description").endswith("已清理")
    assert len({u.findtext("update_id") for u in updates}) == 6
    data = json_of(client.get(f"{BASE}/servicerequestupdates.json?{window(start, start + timedelta(minutes=2))}"))
    assert [u["external_status_code"] for u in data] == ["reported", "registered", "dispatched"]
    assert json_of(client.get(f"{BASE}/servicerequestupdates.json")) == []  # default: the last day
    response = client.get(f"{BASE}/servicerequestupdates.json?start_date=2026-01-01T00:00:00Z"
                          "&end_date=2026-11-01T00:00:00Z")
    assert response.status_code == 400 and "90 days" in json_of(response)[0]["description"]


def test_it_keeps_updates_posted_by_a_client(world, api_key, client):
    case = world.make_case("dispatched", start=recently().strftime("%Y-%m-%d %H:%M"))
    body = {"api_key": KEY, "service_request_id": case.number, "update_id": "fms-77", "status": "OPEN",
            "updated_datetime": "2026-11-25T10:00:00Z", "description": "Still there <b>today</b>",
            "first_name": "Han", "last_name": "-", "email": "han@example.org", "media": photo()}
    response = client.post(f"{BASE}/servicerequestupdates.xml", body)
    assert response.status_code == 201, response.content
    root = strict_xml(response.content, "service_request_updates")
    update = ReceivedUpdate.objects.get()
    assert root.findtext("request_update/update_id") == str(update.pk)
    assert update.case == case and update.author_name == "Han" and update.description == "Still there <b>today</b>"
    assert update.updated_at.isoformat() == "2026-11-25T10:00:00+00:00"
    assert Attachment.objects.get().stage == "follow_up"
    # The department reads it as a follow-up event on the case, with the photo attached.
    event = case.events.get(operation="follow_up")
    assert event.note == "Still there <b>today</b>" and Attachment.objects.get().event == event
    body.pop("media")
    again = client.post(f"{BASE}/servicerequestupdates.xml", body)
    assert again.status_code == 400 and "update_id" in xml_errors(again)[0][1]
    assert ReceivedUpdate.objects.count() == 1
    assert case.events.filter(operation="follow_up").count() == 1


@pytest.mark.parametrize("extra, status, field", [
    ({"api_key": "wrong"}, 403, "api_key"),
    ({"service_request_id": "20260101999"}, 404, "service_request_id"),
    ({"service_request_id": None}, 400, "service_request_id"),
    ({"update_id": None}, 400, "update_id"),
    ({"description": None}, 400, "description"),
    ({"updated_datetime": "yesterday"}, 400, "updated_datetime"),
])
def test_it_refuses_bad_updates(world, api_key, client, extra, status, field):
    case = world.make_case("reported", start=recently().strftime("%Y-%m-%d %H:%M"))
    body = {"api_key": KEY, "service_request_id": case.number, "update_id": "1", "description": "note", **extra}
    response = client.post(f"{BASE}/servicerequestupdates.json", {k: v for k, v in body.items() if v is not None})
    assert response.status_code == status
    assert field in json_of(response)[0]["description"]
    assert not ReceivedUpdate.objects.exists()


def test_it_issues_keys_by_command_and_revokes_them_in_the_admin(db, capsys):
    call_command("issue_api_key", "某区 FixMyStreet", "--rate", "120")
    key = capsys.readouterr().out.strip()
    api_key = ApiKey.objects.get(key=key)
    assert len(key) >= 30 and api_key.rate_per_minute == 120 and api_key.active
    admin = User.objects.create_superuser("root", password="a-long-admin-password")
    browser = Client()
    browser.force_login(admin)
    assert browser.get("/admin/open311/apikey/").status_code == 200
    assert browser.get("/admin/open311/apikey/add/").status_code == 200
    response = browser.post("/admin/open311/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert not api_key.active
    assert ApiKey._meta.verbose_name == "Open311 密钥" and site.is_registered(ApiKey)


def test_the_demo_issues_its_published_key_once(db):
    issue_open311_demo_key()
    issue_open311_demo_key()
    assert ApiKey.objects.get().key == OPEN311_DEMO_KEY == "chengguan-demo-key"
