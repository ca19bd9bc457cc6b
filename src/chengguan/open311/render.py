"""Open311 documents as XML (built with ElementTree, so every text is escaped) and as JSON.

A document is Python data: dicts keep their key order; a list under a key becomes that key's
container with one child per item, named by `ITEM_NAMES` (`services` → `service`), as the
spec's XML↔JSON convention has it. At the top, a list is a bare JSON array and an XML root of
the same name. `None` is an empty element / `null`; booleans are `true`/`false`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET  # builds only; nothing is parsed here

from django.http import HttpResponse

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"

ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
    "service_request_updates": "request_update",
}

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _child(element, key, child)
    elif isinstance(value, list):
        item = ITEM_NAMES[element.tag]
        for child in value:
            _child(element, item, child)
    else:
        element.text = _text(value)


def _child(parent: ET.Element, name: str, value: Any) -> None:
    _fill(ET.SubElement(parent, name), value)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def to_json(data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Valid JSON either way; escaped, no text can ever be read as markup by a careless page.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")


def respond(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    if fmt == "json":
        response = HttpResponse(to_json(data), status=status, content_type=JSON_TYPE)
    else:
        response = HttpResponse(to_xml(root, data), status=status, content_type=XML_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def errors(fmt: str, status: int, items: list[tuple[int, str]]) -> HttpResponse:
    """The spec's error list: `<errors><error><code/><description/></error></errors>` or `[{code, description}]`."""
    return respond(fmt, "errors", [{"code": code, "description": text} for code, text in items], status=status)
