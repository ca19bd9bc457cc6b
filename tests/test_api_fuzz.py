"""Property-based tests of API v1: whatever a client sends, the answer is never a 5xx.

Schemathesis generates requests from the OpenAPI document (`/api/v1/openapi.json`) and sends them
in-process to the real WSGI application (`chengguan.wsgi.application`), against the test database
seeded with the small city of `chengguan.cases.tests.conftest.World`. Every 4xx must keep the JSON
error shape `{"error": {"code", "message", "field"?}}`.

- every staff operation, with the token of a drawn user and often a real case number;
- the public operations and the token endpoint, anonymously;
- the geography and nearby operations with a few fixed example values (GCJ-02, BD-09, ...);
- the body of `POST /cases/{number}/actions/{operation}`, which the view reads itself (the
  document declares none): Hypothesis bodies on real cases in many states, every operation name;
  and a sweep setting each field every operation reads to values of the wrong type or shape.
"""

from __future__ import annotations

import copy
import io
import json
import os
import traceback
from dataclasses import dataclass, field
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from werkzeug.test import Client

from chengguan.cases import photos, workflow
from chengguan.cases.models import Case
from chengguan.cases.tests.conftest import PASSWORD, SH, World
from chengguan.geo.models import City
from chengguan.wsgi import application

# Schemathesis makes one test per API operation only when the file runs in a single process;
# under pytest-xdist each of its tests would pass without calling the operations. Refuse loudly.
if os.environ.get("PYTEST_XDIST_WORKER"):
    raise RuntimeError("tests/test_api_fuzz.py must run in one process (make test runs it so): pytest -p no:xdist")

ROLES = (
    "inspector", "inspector2", "volunteer", "operator", "shiftlead", "dispatcher", "leader", "dept-D0101", "dept-D06"
)
LANGUAGES = ("zh-hans", "en")
ERROR_KEYS = {"code", "message", "field"}
# No shrinking: the failure message already names the exact request, and a run stays short.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
FUZZ = hypothesis.settings(
    max_examples=40,
    deadline=None,
    database=None,
    phases=NO_SHRINK,
    suppress_health_check=list(HealthCheck),
)


# --- the city and the HTTP plumbing -------------------------------------------------------------


@dataclass
class FuzzCity:
    world: World
    client: Client
    tokens: dict[str, str] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)
    labelled: dict[str, str] = field(default_factory=dict)  # case number by state or situation
    attachments: list[tuple[str, int]] = field(default_factory=list)  # (case number, attachment id)
    server_errors: list[str] = field(default_factory=list)

    def traceback_since(self, mark: int) -> str:
        """The last server traceback recorded after `mark` (a length of `server_errors`)."""
        found = self.server_errors[mark:]
        return found[-1] if found else "(no exception recorded)"


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


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


PHOTO = small_jpeg()


@pytest.fixture
def fuzz_city(in_process_requests, settings, tmp_path) -> FuzzCity:
    # Rate limits high enough not to answer every public request with 429, counted in this
    # process's memory rather than the shared cache; photos in a temporary directory.
    settings.PUBLIC_RATE_PER_MINUTE = 1_000_000
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fuzz"}}
    settings.MEDIA_ROOT = tmp_path
    world = World()
    client = Client(application)
    city = FuzzCity(world=world, client=client, server_errors=in_process_requests)

    # Cases in every state, walked by the real services an hour ago.
    start = timezone.now().astimezone(SH) - timedelta(hours=1)
    stamp = start.strftime("%Y-%m-%d %H:%M")
    later = start + timedelta(minutes=30)

    def keep(label: str, case: Case) -> None:
        city.labelled[label] = case.number
        city.numbers.append(case.number)

    for state in ("reported", "registered", "dispatched", "handling", "checking", "closable", "closed"):
        keep(state, world.make_case(state, start=stamp))
        city.numbers.append(world.make_case(state, start=stamp).number)
    keep("component", world.make_case("handling", start=stamp, class_code="C0101", grid=0))
    keep("verifying", world.report(actor=None, now=start, grid=1))
    keep("self_handled", world.report(now=start, self_handled=True, grid=7))
    public = world.report(actor=None, now=start, grid=2)
    keep("pending", world.act(public, "verify", world.inspector, later, valid=True))
    keep("rejected", world.act(world.make_case("reported", start=stamp), "reject", world.operator, later,
                               reason="重复"))
    keep("cancelled", world.act(world.make_case("handling", start=stamp), "cancel", world.shiftlead, later,
                                reason="误报"))
    for label, request, fields in (("extension", "request_extension", {"minutes": 60, "reason": "材料未到"}),
                                   ("return", "return", {"reason": "不属本单位"}),
                                   ("suspension", "suspend", {"reason": "等待配合"})):
        case = world.make_case("handling", start=stamp)
        keep(label, world.act(case, request, world.department_user(case), later, **fields))
    suspended = world.act(world.make_case("handling", start=stamp), "suspend", world.sanitation_user, later,
                          reason="等待配合")
    keep("suspended", world.act(suspended, "decide_suspend", world.dispatcher, later, approve=True))
    City.objects.filter(pk=world.city.pk).update(auto_request_check=False)  # to stop in `handled`
    keep("handled", world.act(world.make_case("handling", start=stamp), "feedback", world.sanitation_user, later,
                              result="已清理"))
    City.objects.filter(pk=world.city.pk).update(auto_request_check=True)
    for label, stage in (("reported", "report"), ("closed", "handle"), ("closed", "follow_up")):
        number = city.labelled[label]
        photo = photos.add_photo(Case.objects.get(number=number), data=PHOTO, filename="a.jpg", stage=stage,
                                 actor=world.inspector)
        city.attachments.append((number, photo.pk))

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


def call_and_check(case, city: FuzzCity, headers: dict) -> None:
    __tracebackhide__ = True
    mark = len(city.server_errors)
    response = case.call(headers=headers)
    if response.status_code >= 500:
        raise AssertionError(
            f"{response.status_code} answer to\n{case.as_curl_command(headers=headers)}\n\n"
            f"server traceback:\n{city.traceback_since(mark)}"
        )
    case.validate_response(response, checks=[not_a_server_error, json_error_shape], headers=headers)


# --- schemathesis: every operation of the document ----------------------------------------------

# Example values of query parameters, added to a copy of the document so that Schemathesis'
# examples phase sends them on every run (Chinese map clients speak GCJ-02 and BD-09 as often as
# WGS84). Schema examples cannot be combined with `given`, so that copy has its own test.
PARAMETER_EXAMPLES = {
    "crs": ["gcj02", "bd09"],
    "community": ["330111001001"],
    "class_code": ["E0102"],
    "lon": [119.9515],
    "lat": [30.0515],
    "level": ["street"],
}


def with_examples(document: dict) -> dict:
    document = copy.deepcopy(document)
    for operation in (op for path in document["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", []):
            values = PARAMETER_EXAMPLES.get(parameter["name"])
            if values and parameter["in"] == "query":
                parameter["examples"] = {f"example{i}": {"value": value} for i, value in enumerate(values)}
    return document


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
examples_only = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": False}, "fuzzing": {"enabled": False}}}
)
documented = schemathesis.openapi.from_dict(with_examples(schema.raw_schema), config=examples_only)
documented.app = application
documented = documented.include(path_regex=r"^/api/v1/(geo/|cases/nearby)")
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
    "crs": st.sampled_from(["gcj02", "bd09", "wgs84", "WGS84"]),
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
    "bbox": st.sampled_from(
        ["119.95,30.05,119.953,30.053", "119.9,30.0,120.0,30.1", "120,30,119,29", "-180,-90,180,90", "0,0,0,0"]
    ),
    "address": st.sampled_from(["江滨路 1 号", ""]),
    "urgency": st.sampled_from(["normal", "urgent"]),
    "variant": st.sampled_from(["original", "public", "thumb"]),
    "stage": st.sampled_from(["report", "handle", "check", "follow_up", "other"]),
    "username": st.sampled_from(ROLES),
    "password": st.just(PASSWORD),
    "score": st.integers(min_value=1, max_value=5),
    "self_handled": st.booleans(),
    "client_uuid": st.none() | st.uuids().map(str),
    "limit": st.integers(min_value=1, max_value=5000),
    "page_size": st.integers(min_value=1, max_value=200),
}
known_values = st.fixed_dictionaries({}, optional=KNOWN) | st.fixed_dictionaries(KNOWN)
real_cases = st.none() | st.integers(min_value=0, max_value=1_000)


def aim(case, city: FuzzCity, real_case: int | None, known: dict, fill: bool) -> None:
    """Point a generated case at real data: a real case number, known codes and places.

    Known values replace generated ones of the same name; with `fill`, they are also added as
    query parameters the operation declares but the case left out.
    """
    if real_case is not None and "number" in (case.path_parameters or {}):
        case.path_parameters["number"] = city.numbers[real_case % len(city.numbers)]
        if "attachment_id" in case.path_parameters:
            number, attachment_id = city.attachments[real_case % len(city.attachments)]
            case.path_parameters.update(number=number, attachment_id=attachment_id)
    if fill and case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        case.body["file"] = PHOTO
    declared = {parameter.name for parameter in case.operation.query}
    wanted = {k: v for k, v in known.items() if v is not None and k in declared}
    if isinstance(case.query, dict):
        case.query.update({k: v for k, v in wanted.items() if fill or k in case.query})
    elif fill and wanted:
        case.query = wanted
    if isinstance(case.body, dict):
        case.body.update(known)


@staff_api.parametrize()
@FUZZ
@staff_api.given(
    who=st.sampled_from(ROLES),
    real_case=real_cases,
    known=known_values,
    fill=st.booleans(),
    language=st.sampled_from(LANGUAGES),
)
def test_staff_api_never_answers_5xx(case, who, real_case, known, fill, language, fuzz_city):
    aim(case, fuzz_city, real_case, known, fill)
    headers = {"Authorization": f"Bearer {fuzz_city.tokens[who]}", "Accept-Language": language}
    call_and_check(case, fuzz_city, headers)


@public_api.parametrize()
@FUZZ
@public_api.given(
    real_case=real_cases, known=known_values, fill=st.booleans(), language=st.sampled_from(LANGUAGES)
)
def test_public_api_never_answers_5xx(case, real_case, known, fill, language, fuzz_city):
    """Anonymous: the public pages' endpoints and the token endpoint, with no Authorization."""
    aim(case, fuzz_city, real_case, known, fill)
    headers = {"Accept-Language": language}
    call_and_check(case, fuzz_city, headers)


@documented.parametrize()
@FUZZ
def test_documented_values_never_answer_5xx(case, fuzz_city):
    """The example values above, sent by a user who may read the whole city."""
    headers = {"Authorization": f"Bearer {fuzz_city.tokens['operator']}"}
    call_and_check(case, fuzz_city, headers)


# --- the body of POST /cases/{number}/actions/{operation} ---------------------------------------

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
# The body fields each operation reads (besides version, note and attachments, read by the view).
READS = {
    "verify": ["valid"],
    "amend": ["class_code", "lon", "lat", "crs", "urgency", "address", "description"],
    "register": [],
    "reject": ["reason"],
    "dispatch": ["department", "deadline"],
    "sign": [],
    "feedback": ["result"],
    "request_extension": ["minutes", "reason"],
    "decide_extension": ["approve", "minutes"],
    "return": ["reason"],
    "decide_return": ["approve"],
    "suspend": ["reason"],
    "decide_suspend": ["approve"],
    "resume": [],
    "request_check": ["inspector"],
    "check": ["fixed"],
    "close": ["reason"],
    "reopen": ["reason"],
    "dispute": ["reason"],
    "follow_up": [],
    "supervise": [],
    "cancel": ["reason"],
    "merge": ["into"],
}
VIEW_FIELDS = ["version", "note", "attachments"]

# Timestamps shaped like ISO 8601 whose fields may be out of range (month 13, hour 99, ...).
iso_like = st.from_regex(
    r"\A[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9](:[0-6][0-9])?([+-][01][0-9]:[0-5][0-9]|Z)?\Z"
)
# Values of the wrong type or shape for almost any field.
ODD_VALUES = [
    None, True, False, 0, -1, 10**20, 1.5, 1e308, "", " ", "x" * 3000, "E0102", [], ["E0102"], [1, 2], {},
    {"code": "E0102"}, "2031-13-45T09:00:00+08:00", "0000-01-01T00:00:00Z", "2031-02-30T09:00",
]
scalars = (
    st.none()
    | iso_like
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
odd_values = st.sampled_from(ODD_VALUES) | json_values
words = st.text(min_size=1, max_size=40)
# Fields with values an honest client might send, then the same fields with anything at all.
PLAUSIBLE = {
    "valid": st.booleans(),
    "fixed": st.booleans(),
    "approve": st.booleans(),
    "minutes": st.integers(min_value=-10, max_value=600_000),
    "reason": words,
    "result": words,
    "note": words,
    "department": st.sampled_from(["D0101", "D06", "D9001", "NOPE"]),
    "deadline": st.sampled_from(["2031-01-01T09:00:00+08:00", "2020-01-01T09:00:00+08:00", "2031-01-01T09:00"])
    | iso_like,
    "into": st.sampled_from(["20200101000001", ""]),
    "inspector": st.sampled_from(["inspector", "inspector2", "operator"]),
    "class_code": st.sampled_from(["E0102", "C0101", "X9999"]),
    "urgency": st.sampled_from(["normal", "urgent", "later"]),
    "address": words,
    "description": words,
    "crs": KNOWN["crs"],
    "lon": GRID_LONS | st.floats(allow_nan=False, allow_infinity=False),
    "lat": GRID_LATS | st.floats(allow_nan=False, allow_infinity=False),
    "attachments": st.just([]),
}
WILD = {name: values | json_values for name, values in PLAUSIBLE.items()}
WILD["attachments"] = st.lists(st.integers(min_value=-5, max_value=10**12), max_size=2) | json_values
honest_body = st.fixed_dictionaries({"version": st.just(CURRENT_VERSION)}, optional=PLAUSIBLE)
BODIES = {
    "honest": honest_body,
    "wild values": st.fixed_dictionaries({"version": st.just(CURRENT_VERSION)}, optional=WILD),
    "any version": st.fixed_dictionaries({}, optional={"version": json_values, **WILD}),
    "any keys": st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    "not an object": st.sampled_from([b"", b"{", b"[]", b"null", b"42", b'"text"', b"\xff\xfe", b'{"version": NaN}']),
}
# Mostly well-formed bodies with the right version, so that operations succeed and cases move on;
# "one odd field" is an honest body with one field the operation reads set to anything.
body_kinds = st.sampled_from(
    ["honest", "honest", "one odd field", "one odd field", "one odd field", "wild values", "any version", "any keys",
     "not an object"]
)
any_operation = st.sampled_from([*workflow.OPERATIONS, "nope", "", "report", "DISPATCH"])


def rightful_user(case: Case, rule: workflow.Rule | None) -> str | None:
    """A user who may apply `rule` to `case` and can see it, if there is one."""
    if rule is None:
        return None
    for role in sorted(rule.roles):
        if role == "department":
            # A department without an account of its own here (the street office) has no rightful user.
            if case.department_id and f"dept-{case.department.code}" in ROLES:
                return f"dept-{case.department.code}"
        elif role == workflow.REPORTER:
            if case.reporter is not None and case.reporter.username in ROLES:
                return case.reporter.username
        elif role == workflow.CITIZEN:
            continue  # the public portal's role: no staff account holds it
        else:
            return USERS_OF_ROLE[role][0]
    return None


def post_action(city: FuzzCity, number: str, operation: str, who: str, payload: bytes) -> str | None:
    """Send one action; the description of a failure (5xx or error shape), or None."""
    path = f"/api/v1/cases/{number}/actions/{operation}"
    mark = len(city.server_errors)
    response = city.client.post(
        path, data=payload, content_type="application/json", headers={"Authorization": f"Bearer {city.tokens[who]}"}
    )
    request = f"POST {path} as {who} with body {payload[:500]!r}"
    if response.status_code >= 500:
        return f"{response.status_code} answer to {request}\n\nserver traceback:\n{city.traceback_since(mark)}"
    if response.status_code >= 400:
        try:
            assert_error_shape(response.status_code, response.get_data(), request)
        except AssertionError as error:
            return str(error)
    return None


@hypothesis.settings(
    max_examples=600, deadline=None, database=None, phases=NO_SHRINK, suppress_health_check=list(HealthCheck)
)
@given(
    operation=any_operation,
    pick=st.integers(min_value=0, max_value=10_000),
    rightful=st.integers(min_value=0, max_value=3),
    who=st.sampled_from(ROLES),
    kind=body_kinds,
    data=st.data(),
    into=st.none() | st.integers(min_value=0, max_value=1_000),
    keep=st.booleans(),
)
def test_case_actions_never_answer_5xx(fuzz_city, operation, pick, rightful, who, kind, data, into, keep):
    """Every operation on real cases in many states, by rightful and other users, with any body.

    About half the examples keep their effects, so cases move on through the workflow; the
    others are rolled back, so that cases in every state remain. What is drawn never depends on
    the database (Hypothesis replays draws): the drawn index picks one of the cases whose current
    state allows the operation.
    """
    numbers = fuzz_city.numbers
    cases = list(Case.objects.filter(number__in=numbers).select_related("department", "reporter").order_by("number"))
    rule = workflow.TABLE.get(operation)
    fitting = [c for c in cases if rule is not None and c.state in rule.from_states] or cases
    case = fitting[pick % len(fitting)]
    entitled = rightful_user(case, rule)
    if rightful and entitled is not None:
        who = entitled
    if kind == "one odd field":
        body = data.draw(honest_body, label="body")
        name = data.draw(st.sampled_from(READS.get(operation) or VIEW_FIELDS), label="field")
        body[name] = data.draw(odd_values, label="value")
    else:
        body = data.draw(BODIES[kind], label="body")
    if isinstance(body, dict):
        if body.get("version") is CURRENT_VERSION:
            body["version"] = case.version
        if operation == "merge" and into is not None:
            body["into"] = numbers[into % len(numbers)]
        payload = json.dumps(body).encode()
    else:
        payload = body
    with transaction.atomic():
        failure = post_action(fuzz_city, case.number, operation, who, payload)
        transaction.set_rollback(not keep)
    if failure:
        pytest.fail(failure, pytrace=False)


# Each operation once on a case in a state that allows it, by a user entitled to it, with an honest
# body: (case label, user, or None for the case's department, fields).
HONEST_ACTIONS = {
    "verify": ("verifying", "inspector", {"valid": True}),
    "amend": ("registered", "operator", {"lon": 119.9515, "lat": 30.0515}),
    "register": ("reported", "operator", {}),
    "reject": ("reported", "operator", {"reason": "重复"}),
    "dispatch": ("registered", "dispatcher", {}),
    "sign": ("dispatched", None, {}),
    "feedback": ("handling", None, {"result": "已清理"}),
    "request_extension": ("handling", None, {"minutes": 60, "reason": "材料未到"}),
    "decide_extension": ("extension", "dispatcher", {"approve": True}),
    "return": ("handling", None, {"reason": "不属本单位"}),
    "decide_return": ("return", "dispatcher", {"approve": True}),
    "suspend": ("handling", None, {"reason": "等待配合"}),
    "decide_suspend": ("suspension", "dispatcher", {"approve": True}),
    "resume": ("suspended", "dispatcher", {}),
    "request_check": ("handled", "operator", {}),
    "check": ("checking", "inspector", {"fixed": True}),
    "close": ("closable", "operator", {}),
    "reopen": ("closed", "operator", {"reason": "复发"}),
    # The reporter's "not fixed" goes through the public portal: staff asking for it get a 4xx.
    "dispute": ("closed", "operator", {"reason": "仍未解决"}),
    "follow_up": ("handling", "inspector", {"note": "补充"}),
    "supervise": ("handling", "leader", {"note": "尽快处理"}),
    "cancel": ("handling", "shiftlead", {"reason": "误报"}),
    "merge": ("registered", "operator", {"into": "reported"}),  # the label of the surviving case
}


def test_every_action_field_of_the_wrong_type(fuzz_city):
    """Each field each operation reads, set in turn to every value of ODD_VALUES.

    Every request starts from the same cases: it runs in a savepoint that is rolled back.
    """
    assert set(HONEST_ACTIONS) == set(workflow.OPERATIONS) == set(READS), "a new operation: describe it above"
    failures: dict[str, list[str]] = {}  # by the exception's last line
    for operation, (label, user, honest) in HONEST_ACTIONS.items():
        case = Case.objects.select_related("department").get(number=fuzz_city.labelled[label])
        who = user or f"dept-{case.department.code}"
        fields = {**honest}
        if "into" in fields:
            fields["into"] = fuzz_city.labelled[fields["into"]]
        names = READS[operation] + (VIEW_FIELDS if operation == "follow_up" else [])
        for name in names:
            for value in ODD_VALUES:
                payload = json.dumps({**fields, "version": case.version, name: value}).encode()
                with transaction.atomic():
                    failure = post_action(fuzz_city, case.number, operation, who, payload)
                    transaction.set_rollback(True)
                if failure:
                    failures.setdefault(failure.strip().splitlines()[-1], []).append(failure)
    report = [
        f"{len(found)} request(s) failing with {error}; the first:\n{found[0]}\nall of them:\n"
        + "\n".join(f.splitlines()[0] for f in found)
        for error, found in failures.items()
    ]
    if failures:
        pytest.fail("\n\n".join(report), pytrace=False)
