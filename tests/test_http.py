"""Real HTTP against a running server: a client that knows only the API walks a case to closure."""

import json
import urllib.error
import urllib.request

import pytest

from chengguan.cases.tests.conftest import PASSWORD, World


@pytest.fixture
def live_world(transactional_db):
    return World()


def call(base, method, path, body=None, token=None, language="zh-hans"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept-Language", language)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_it_walks_a_case_over_real_http(live_server, live_world):
    base = live_server.url
    tokens = {}
    for name in ("inspector", "operator", "dispatcher", "dept-D0101"):
        status, body = call(base, "POST", "/api/v1/auth/token", {"username": name, "password": PASSWORD})
        assert status == 200
        tokens[name] = body["token"]
    grid = live_world.grids[2]
    status, case = call(base, "POST", "/api/v1/cases", {"class_code": "E0102", "lon": grid.center_lon,
                                                        "lat": grid.center_lat, "address": "江滨路"},
                        tokens["inspector"])
    assert status == 201
    number = case["number"]
    steps = [("operator", "register", {}), ("dispatcher", "dispatch", {}), ("dept-D0101", "sign", {}),
             ("dept-D0101", "feedback", {"result": "已清理"}), ("inspector", "check", {"fixed": True}),
             ("operator", "close", {})]
    for who, operation, fields in steps:
        status, case = call(base, "POST", f"/api/v1/cases/{number}/actions/{operation}",
                            {"version": case["version"], **fields}, tokens[who])
        assert status == 200, case
    assert case["state"] == "closed"
    status, stale = call(base, "POST", f"/api/v1/cases/{number}/actions/reopen",
                         {"version": 1, "reason": "x"}, tokens["operator"], language="en")
    assert status == 409 and stale["error"]["field"] == "version" and "reload" in stale["error"]["message"]
    status, public = call(base, "GET", f"/api/v1/public/cases/{number}")
    assert status == 200 and public["status"] == "closed"
