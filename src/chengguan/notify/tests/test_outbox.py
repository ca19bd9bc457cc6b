"""The outbox: filled from case events in the case's transaction, sent by the worker, retried."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from chengguan.cases import services
from chengguan.cases.tests.conftest import at
from chengguan.notify import worker
from chengguan.notify.models import Contact, Outbox

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def reporter_rows(case):
    return list(Outbox.objects.filter(case=case, audience="reporter").select_related("event").order_by("id"))


def test_it_tells_the_reporter_of_each_step_a_citizen_follows(world):
    case = world.make_case("closed", reporter_phone=PHONE)
    rows = reporter_rows(case)
    assert [r.event.operation for r in rows] == ["report", "register", "dispatch", "feedback", "check", "close"]
    assert {(r.channel, r.recipient, r.status, r.language) for r in rows} == {("sms", PHONE, "pending", "zh-hans")}
    assert "环卫处" in rows[2].body and "处理时限" in rows[2].body
    assert "已清理" in rows[3].body
    assert "评价" in rows[-1].body and f"/public/cases/{case.number}/" in rows[-1].body
    assert rows[-1].body_en == ""  # the reporter did not choose English
    assert Contact.objects.get(case=case).phone_key == PHONE


def test_it_writes_english_too_when_the_reporter_chose_it(world):
    case = world.make_case("registered", reporter_phone=PHONE, reporter_language="en")
    rows = reporter_rows(case)
    assert all(r.language == "en" and r.body and r.body_en for r in rows)
    subject, body = rows[-1].text()
    assert subject.startswith("Case ") and body.startswith(f"Case {case.number} is filed")
    assert "已立案" in body  # Chinese below the English


def test_it_prefers_email_when_the_reporter_left_one(world):
    case = world.make_case("reported", reporter_phone=PHONE, reporter_email="me@example.com")
    assert [(r.channel, r.recipient) for r in reporter_rows(case)] == [("email", "me@example.com")]


def test_it_writes_nothing_for_a_reporter_without_contact_details(world):
    case = world.make_case("closed")
    assert not Outbox.objects.filter(case=case).exists() and not Contact.objects.filter(case=case).exists()


def test_it_gives_honest_reasons_at_the_end(world):
    rejected = world.make_case("reported", reporter_phone=PHONE)
    world.act(rejected, "reject", world.operator, at("2026-11-23 10:00"), reason="不属城管受理范围",
              refer_to="供电公司 95598")
    assert "不属城管受理范围" in reporter_rows(rejected)[-1].body and "95598" in reporter_rows(rejected)[-1].body
    survivor = world.make_case("registered", start="2026-11-23 11:00")
    duplicate = world.make_case("registered", start="2026-11-23 11:30", reporter_phone=PHONE)
    world.act(duplicate, "merge", world.operator, at("2026-11-23 12:00"), into=survivor.number)
    assert survivor.number in reporter_rows(duplicate)[-1].body


def test_it_skips_refused_decisions_and_internal_steps(world):
    case = world.make_case("handling", reporter_phone=PHONE)
    count = len(reporter_rows(case))
    dept = world.department_user(case)
    case = world.act(case, "request_extension", dept, at("2026-11-23 10:00"), minutes=60, reason="设备")
    case = world.act(case, "decide_extension", world.dispatcher, at("2026-11-23 10:01"), approve=False)
    world.act(case, "supervise", world.leader, at("2026-11-23 10:02"), note="抓紧")
    assert len(reporter_rows(case)) == count


def test_it_rolls_the_message_back_with_a_refused_operation(world):
    case = world.make_case("registered", reporter_phone=PHONE)
    count = Outbox.objects.count()
    with pytest.raises(services.Conflict):
        services.dispatch_case(case, actor=world.dispatcher, version=case.version - 1, now=at("2026-11-23 10:00"))
    assert Outbox.objects.count() == count


# --- the worker ----------------------------------------------------------------------------------


def test_it_sends_email_and_sms_once(world, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.make_case("reported", reporter_email="me@example.com")
    world.make_case("reported", start="2026-11-23 10:00", reporter_phone=PHONE)
    with caplog.at_level("INFO", logger="chengguan.notify"):
        tally = worker.send_due(timezone.now())
    assert (tally.sent, tally.retried, tally.failed) == (2, 0, 0)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["me@example.com"]
    assert "138****5678" in caplog.text and PHONE not in caplog.text
    assert set(Outbox.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert worker.send_due(timezone.now()).sent == 0  # sent rows are never sent again


class FailingSender:
    def send(self, message):
        raise OSError("gateway down")


def test_it_retries_with_backoff_and_then_gives_up(world, settings):
    settings.NOTIFY_SENDERS = {"sms": "chengguan.notify.tests.test_outbox.FailingSender"}
    settings.NOTIFY_MAX_ATTEMPTS = 3
    world.make_case("reported", reporter_phone=PHONE)
    now = timezone.now()
    assert worker.send_due(now).retried == 1
    row = Outbox.objects.get()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "OSError: gateway down")
    assert row.next_attempt_at - now >= timedelta(seconds=59)
    assert worker.send_due(now).retried == 0  # not due yet
    now = row.next_attempt_at + timedelta(seconds=1)
    worker.send_due(now)
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at - now >= timedelta(seconds=119)  # doubled
    worker.send_due(row.next_attempt_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)


def test_it_lets_only_one_of_two_workers_claim_a_row(world):
    world.make_case("reported", reporter_phone=PHONE)
    now = timezone.now()
    first = worker.claim(now)
    assert len(first) == 1 and worker.claim(now) == []
    # A worker that died holding it: after the lease, another takes it over.
    later = now + timedelta(seconds=301)
    again = worker.claim(later)
    assert [r.pk for r in again] == [first[0].pk] and again[0].attempts == 2
    # The first worker, back from the dead, can no longer record a result over the second.
    tally = worker.Tally()
    worker.deliver(first[0], later, tally)
    assert Outbox.objects.get().status == "sending"


class Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # the name http.server calls
        length = int(self.headers["Content-Length"])
        Hook.received.append((dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received, Hook.status = [], 200
    yield f"http://127.0.0.1:{server.server_port}/notify"
    server.shutdown()
    server.server_close()


def test_it_posts_department_messages_to_the_webhook(world, settings, hook):
    settings.NOTIFY_DEPARTMENT_WEBHOOK = hook
    settings.NOTIFY_WEBHOOK_TOKEN = "s3cret"
    case = world.make_case("handling", reporter_phone=PHONE)
    services.apply_as_citizen(case, "follow_up", note="又多了", now=at("2026-11-23 11:00"))
    row = Outbox.objects.get(audience="department")
    assert (row.channel, row.recipient, row.department.code) == ("webhook", hook, "D0101")
    Outbox.objects.filter(audience="reporter").update(status="sent")
    assert worker.send_due(timezone.now()).sent == 1
    headers, body = Hook.received[0]
    assert headers["Authorization"] == "Bearer s3cret" and headers["Idempotency-Key"] == f"outbox-{row.pk}"
    assert (body["case"], body["department"], body["event"], body["audience"]) == (
        case.number, "D0101", "follow_up", "department")
    assert "又多了" in body["body"]


def test_it_retries_a_webhook_that_answers_with_an_error(world, settings, hook):
    settings.NOTIFY_DEPARTMENT_WEBHOOK = hook
    Hook.status = 500
    case = world.make_case("handling")
    services.apply_as_citizen(case, "follow_up", note="又多了", now=at("2026-11-23 11:00"))
    assert worker.send_due(timezone.now()).retried == 1
    assert "500" in Outbox.objects.get().last_error


def test_it_runs_as_a_command(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.make_case("reported", reporter_email="me@example.com")
    call_command("notify", "--no-remind")
    assert Outbox.objects.get().status == "sent" and len(mail.outbox) == 1
