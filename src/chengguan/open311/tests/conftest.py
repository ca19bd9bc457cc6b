"""Open311 tests: the cases' small real city, one issued key, and a strict reader of our XML."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from PIL import Image

from chengguan.cases.tests.conftest import SH, World
from chengguan.open311.services import issue_key

KEY = "test-open311-key"
BASE = "/open311/v2"

# The spec's element names under each root (section 1 of the reference), without extensions.
SPEC_ELEMENTS = {
    "discovery": {"discovery", "changeset", "contact", "key_service", "endpoints", "endpoint", "specification",
                  "url", "type", "formats", "format"},
    "services": {"services", "service", "service_code", "service_name", "description", "metadata", "type",
                 "keywords", "group"},
    "service_definition": {"service_definition", "service_code", "attributes", "attribute", "variable", "code",
                           "datatype", "required", "datatype_description", "order", "description", "values",
                           "value", "key", "name"},
    "service_requests": {"service_requests", "request", "service_request_id", "token", "service_notice",
                         "account_id", "status", "status_notes", "service_name", "service_code", "description",
                         "agency_responsible", "requested_datetime", "updated_datetime", "expected_datetime",
                         "address", "address_id", "zipcode", "lat", "long", "media_url"},
    "errors": {"errors", "error", "code", "description"},
    "service_request_updates": {"service_request_updates", "request_update", "update_id", "service_request_id",
                                "status", "updated_datetime", "description", "media_url", "external_status_code"},
}


def strict_xml(body: bytes, root: str, *, extensions: bool = False) -> ET.Element:
    """Parse our XML strictly: the declaration, the root, and only the spec's element names."""
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), body[:80]
    element = ET.fromstring(body)  # noqa: S314  (our own server's output)
    assert element.tag == root, element.tag
    assert not element.attrib
    if not extensions:
        unknown = {e.tag for e in element.iter()} - SPEC_ELEMENTS[root]
        assert not unknown, unknown
    return element


def xml_errors(response) -> list[tuple[str, str]]:
    root = strict_xml(response.content, "errors")
    return [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")]


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def photo(fmt: str = "JPEG", size=(64, 48), name: str = "photo.jpg") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    out.seek(0)
    out.name = name
    return out


def recently(days: float = 2) -> datetime:
    """A recent instant inside the default 90-day window, on a whole minute (Shanghai)."""
    return (timezone.now() - timedelta(days=days)).astimezone(SH).replace(second=0, microsecond=0)


def minute(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def api_key(db):
    return issue_key("测试客户端", key=KEY)


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def post_body(world, **extra) -> dict:
    grid = world.grids[4]
    body = {"api_key": KEY, "service_code": "E0102", "lat": f"{grid.center_lat:.7f}",
            "long": f"{grid.center_lon:.7f}", "description": "Rubbish piled at the gate",
            "address_string": "富春路 88 号", "first_name": "Li", "last_name": "Lei", "phone": "13800001234",
            "email": "li@example.org"}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}
