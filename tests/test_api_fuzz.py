"""Property-based tests of API v1: whatever a client sends, the answer is never a 5xx.

Schemathesis generates requests from the OpenAPI document (`/api/v1/openapi.json`) and sends them
in-process to the real WSGI application, against the test database seeded with the small city of
`chengguan.cases.tests.conftest.World`. Every 4xx must keep the JSON error shape
`{"error": {"code", "message", "field"?}}`.

The action endpoint reads its body itself (the document declares none), so a second test fuzzes
that body with Hypothesis on real cases in many states, for every operation name.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from werkzeug.test import Client

from chengguan.cases import services, workflow
from chengguan.cases.models import Case
from chengguan.cases.tests.conftest import PASSWORD, SH, World
from chengguan.wsgi import application

ROLES = (
    "inspector", "inspector2", "volunteer", "operator", "shiftlead", "dispatcher", "leader", "dept-D0101", "dept-D06"
)
LANGUAGES = ("zh-hans", "en")
ERROR_KEYS = {"code", "message", "field"}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# --- the city and the HTTP plumbing -------------------------------------------------------------


@dataclass
class FuzzCity:
    world: World
    client: Client
    tokens: dict[str, str] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def last_traceback(self) -> str:
        return self.server_errors[-1] if self.server_errors else "(no traceback recorded)"


@pytest.fixture
def in_process_requests(db):
    """Let requests sent straight to the WSGI application share the test's transaction.

    Django closes "old" connections when a request starts and ends; in a test transaction that
    would drop it. Django's own test client turns this off the same way. Uncaught exceptions are
    recorded with their tracebacks so that a 500 can be explained.
    """
    server_errors: list[str] = []

    def record(sender, request=None, **kwargs):
        where = f"{request.method} {request.get_full_path()}" if request is not None else "?"
        server_errors.append(f"{where}\n{traceback.format_exc()}")

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(record, weak=False)
    try:
        yield server_errors
    finally:
        got_request_exception.disconnect(record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _suspend(world: World, case: Case, now) -> Case:
    dept = world.department_user(case)
    case = world.act(case, "suspend", dept, now, reason="等待配合")
    return world.act(case, "decide_suspend", world.dispatcher, now + timedelta(minutes=1), approve=True)


@pytest.fixture
def fuzz_city(in_process_requests, settings) -> FuzzCity:
    settings.PUBLIC_RATE_PER_MINUTE = 1_000_000
    world = World()
    client = Client(application)
    city = FuzzCity(world=world, client=client, server_errors=in_process_requests)

    # Cases in many states, walked by the real services an hour ago.
    start = timezone.now().astimezone(SH) - timedelta(hours=1)
    stamp = start.strftime("%Y-%m-%d %H:%M")
    for state in ("reported", "registered", "dispatched", "handling", "checking", "closable", "closed"):
        city.numbers.append(world.make_case(state, start=stamp).number)
    city.numbers.append(world.make_case("handling", start=stamp, class_code="C0101", grid=0).number)
    suspended = _suspend(world, world.make_case("handling", start=stamp), start + timedelta(minutes=10))
    city.numbers.append(suspended.number)
    extension = world.make_case("handling", start=stamp)
    services.apply_operation(extension, "request_extension", actor=world.department_user(extension),
                             version=extension.version, now=start + timedelta(minutes=10),
                             fields={"minutes": 60, "reason": "材料未到"})
    city.numbers.append(extension.number)
    city.numbers.append(world.report(actor=None, now=start, grid=1).number)  # a public report: verifying
    city.numbers.append(world.report(now=start, self_handled=True, grid=7).number)

    for name in ROLES:
        response = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.get_data(as_text=True)
        city.tokens[name] = response.get_json()["token"]
    return city


def assert_error_shape(status: int, payload: bytes, request: str) -> None:
    """A 4xx answer is `{"error": {"code": str, "message": str, "field"?: str}}`."""
    try:
        body = json.loads(payload)
    except ValueError:
        raise AssertionError(f"{status} answer is not JSON for {request}: {payload[:300]!r}") from None
    assert isinstance(body, dict) and set(body) == {"error"}, f"{status} body {body!r} for {request}"
    error = body["error"]
    assert isinstance(error, dict) and {"code", "message"} <= set(error) <= ERROR_KEYS, (
        f"{status} error {error!r} for {request}"
    )
    assert isinstance(error["code"], str) and error["code"], f"{status} error code {error!r} for {request}"
    assert isinstance(error["message"], str) and error["message"], f"{status} message {error!r} for {request}"
    assert isinstance(error.get("field", ""), str), f"{status} error field {error!r} for {request}"


def json_error_shape(ctx, response, case) -> None:
    if 400 <= response.status_code < 500:
        assert_error_shape(response.status_code, response.content, f"{case.method} {case.formatted_path}")


def check_answer(case, response, city: FuzzCity, headers: dict) -> None:
    __tracebackhide__ = True
    if response.status_code >= 500:
        raise AssertionError(
            f"{response.status_code} answer to\n{case.as_curl_command(headers=headers)}\n\n"
            f"server traceback:\n{city.last_traceback()}"
        )
    case.validate_response(response, checks=[not_a_server_error, json_error_shape], headers=headers)


# --- schemathesis: every operation of the document ----------------------------------------------

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
staff_api = schema.exclude(path_regex=r"^/api/v1/(public|auth)/")
public_api = schema.include(path_regex=r"^/api/v1/(public|auth)/")

# Values this city knows. Random strings almost never name a real class, grid or department, so a
# drawn subset of these replaces the generated values of the same name to get past validation.
GRID_LONS = st.floats(min_value=119.9501, max_value=119.9529)
GRID_LATS = st.floats(min_value=30.0501, max_value=30.0529)
KNOWN = {
    "class_code": st.sampled_from(["E0102", "C0101"]),
    "lon": GRID_LONS,
    "lat": GRID_LATS,
    "crs": st.sampled_from(["wgs84", "gcj02", "bd09", "WGS84"]),
    "city": st.sampled_from(["330100", ""]),
    "grid_code": st.sampled_from(["330111001001005", "330111001001001"]),
    "grid": st.sampled_from(["330111001001005", "330111001001009"]),
    "community": st.just("330111001001"),
    "street": st.just("330111001"),
    "parent": st.sampled_from(["330111", "330111001"]),
    "level": st.sampled_from(["district", "street", "community"]),
    "kind": st.sampled_from(["event", "component"]),
    "department": st.sampled_from(["D0101", "D06", "D9001"]),
    "state": st.sampled_from(sorted(workflow.ALL_STATES)),
    "light": st.sampled_from(["green", "yellow", "red"]),
    "source": st.sampled_from(["inspector", "public", "hotline", "media", "leader"]),
    "bbox": st.sampled_from(["119.95,30.05,119.953,30.053", "119.9,30.0,120.0,30.1", "120,30,119,29"]),
    "address": st.sampled_from(["江滨路 1 号", ""]),
    "urgency": st.sampled_from(["normal", "urgent"]),
    "variant": st.sampled_from(["original", "public", "thumb"]),
    "username": st.sampled_from(ROLES),
    "password": st.just(PASSWORD),
    "score": st.integers(min_value=1, max_value=5),
    "self_handled": st.booleans(),
}
known_values = st.fixed_dictionaries({}, optional=KNOWN)
real_cases = st.none() | st.integers(min_value=0, max_value=1_000)


def aim(case, city: FuzzCity, real_case: int | None, known: dict) -> None:
    """Point a generated case at real data: a real case number, known codes and places."""
    if real_case is not None and "number" in (case.path_parameters or {}):
        case.path_parameters["number"] = city.numbers[real_case % len(city.numbers)]
    if isinstance(case.query, dict):
        case.query.update({k: v for k, v in known.items() if k in case.query})
    if isinstance(case.body, dict):
        case.body.update(known)


@staff_api.parametrize()
@FUZZ
@staff_api.given(
    who=st.sampled_from(ROLES), real_case=real_cases, known=known_values, language=st.sampled_from(LANGUAGES)
)
def test_staff_api_never_answers_5xx(case, who, real_case, known, language, fuzz_city):
    aim(case, fuzz_city, real_case, known)
    headers = {"Authorization": f"Bearer {fuzz_city.tokens[who]}", "Accept-Language": language}
    response = case.call(headers=headers)
    check_answer(case, response, fuzz_city, headers)


@public_api.parametrize()
@FUZZ
@public_api.given(real_case=real_cases, known=known_values, language=st.sampled_from(LANGUAGES))
def test_public_api_never_answers_5xx(case, real_case, known, language, fuzz_city):
    """Anonymous: the public pages' endpoints and the token endpoint, with no Authorization."""
    aim(case, fuzz_city, real_case, known)
    headers = {"Accept-Language": language}
    response = case.call(headers=headers)
    check_answer(case, response, fuzz_city, headers)


# --- hypothesis: the body of POST /cases/{number}/actions/{operation} --------------------------

CURRENT_VERSION = object()  # stands for the case's version at the time of the request
USERS_OF_ROLE = {
    "inspector": ["inspector", "inspector2"],
    "volunteer": ["volunteer"],
    "operator": ["operator"],
    "shiftlead": ["shiftlead"],
    "dispatcher": ["dispatcher"],
    "leader": ["leader"],
    "department": ["dept-D0101", "dept-D06"],
    "reporter": ["inspector"],
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "normal", "urgent", "E0102", "C0101", "D0101", "D06", "D9001", "inspector",
                       "wgs84", "gcj02", "bd09", "2030-01-01T09:00:00+08:00", "2020-01-01T09:00:00+08:00",
                       "2030-01-01T09:00:00", "tomorrow", "已清理", "x" * 2100])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
FIELDS = {
    "valid": st.booleans() | json_values,
    "fixed": st.booleans() | json_values,
    "approve": st.booleans() | json_values,
    "minutes": st.integers(min_value=-10, max_value=600_000) | json_values,
    "reason": st.text(max_size=40) | json_values,
    "result": st.text(max_size=40) | json_values,
    "note": st.text(max_size=40) | json_values,
    "department": KNOWN["department"] | st.just("NOPE") | json_values,
    "deadline": json_values,
    "into": json_values,
    "inspector": st.sampled_from(["inspector", "inspector2", "operator"]) | json_values,
    "class_code": st.sampled_from(["E0102", "C0101", "X9999"]) | json_values,
    "urgency": json_values,
    "address": json_values,
    "description": json_values,
    "crs": json_values,
    "lon": GRID_LONS | st.floats(allow_nan=False, allow_infinity=False) | json_values,
    "lat": GRID_LATS | st.floats(allow_nan=False, allow_infinity=False) | json_values,
    "attachments": st.lists(st.integers(min_value=-5, max_value=10**12), max_size=3) | json_values,
}
bodies = (
    st.fixed_dictionaries({"version": st.just(CURRENT_VERSION)}, optional=FIELDS)
    | st.fixed_dictionaries({}, optional={"version": json_values, **FIELDS})
    | st.dictionaries(st.text(max_size=10), json_values, max_size=4)
)
raw_bodies = st.sampled_from([b"", b"{", b"[]", b"null", b"42", b'"text"', b"\xff\xfe", b'{"version": NaN}'])
operations = st.sampled_from([*workflow.OPERATIONS, "nope", "", "report", "DISPATCH"])


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), operation=operations, body=bodies | raw_bodies)
def test_case_actions_never_answer_5xx(fuzz_city, data, operation, body):
    """Every operation on real cases in many states, by permitted and other roles, with any body."""
    numbers = fuzz_city.numbers
    number = data.draw(st.sampled_from(numbers), label="number")
    rule = workflow.TABLE.get(operation)
    permitted = sorted({name for role in (rule.roles if rule else ()) for name in USERS_OF_ROLE.get(role, [])})
    users = st.sampled_from(permitted) | st.sampled_from(ROLES) if permitted else st.sampled_from(ROLES)
    who = data.draw(users, label="who")
    if isinstance(body, dict):
        if body.get("version") is CURRENT_VERSION:
            body["version"] = Case.objects.get(number=number).version
        if operation == "merge" and data.draw(st.booleans(), label="into a real case"):
            body["into"] = data.draw(st.sampled_from(numbers), label="into")
        payload = json.dumps(body).encode()
    else:
        payload = body
    path = f"/api/v1/cases/{number}/actions/{operation}"
    response = fuzz_city.client.post(
        path,
        data=payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {fuzz_city.tokens[who]}"},
    )
    request = f"POST {path} as {who} with body {payload[:500]!r}"
    assert response.status_code < 500, (
        f"{response.status_code} answer to {request}\n\nserver traceback:\n{fuzz_city.last_traceback()}"
    )
    if response.status_code >= 400:
        assert_error_shape(response.status_code, response.get_data(), request)
