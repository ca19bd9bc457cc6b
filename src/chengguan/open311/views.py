"""Open311 GeoReport v2 views: parse leniently, call one service, answer in XML or JSON.

Every refusal is the spec's error list (`errors` → `error` with `code` and `description`),
with HTTP 400, 403 or 404 as the spec says, and 405/413/429 where the spec has nothing to say.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from chengguan.cases import workflow
from chengguan.cases.models import Case, Event
from chengguan.catalog.models import SmallClass
from chengguan.errors import DomainError, Invalid, Malformed, NotFound, TooLarge
from chengguan.geo.services import parse_bbox
from chengguan.open311 import present, services
from chengguan.open311.params import Params
from chengguan.open311.render import errors, respond
from chengguan.ratelimit import client_address, hit

FORMATS = ("xml", "json")
WINDOW = timedelta(days=90)  # the spec's longest start_date..end_date window, and its default
UPDATES_WINDOW = timedelta(days=1)  # servicerequestupdates without dates: the last day
MAX_PAGE_SIZE = 1000  # the spec's "first 1000 requests"
# Field names of our services, as Open311 calls them.
FIELD_NAMES = {"lon": "long", "class_code": "service_code", "address": "address_string", "file": "media",
               "city": "jurisdiction_id", "component_code": "attribute[component_code]"}


class Refused(Exception):
    """An answer decided before the view runs (wrong method, body too large)."""

    def __init__(self, status: int, description: str, allow: str = ""):
        self.status, self.description, self.allow = status, description, allow


def _format(request: HttpRequest, fmt: str | None) -> str:
    if fmt:
        return fmt.lower()
    wanted = (request.GET.get("format") or "").strip().lower()
    return wanted or "xml"


def _language(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", "zh-hans") or "zh-hans"


def _describe(error: DomainError, language: str) -> str:
    field = FIELD_NAMES.get(error.field or "", error.field)
    message = error.message(language)
    return f"{field}: {message}" if field and field not in message else message


def _http_status(error: DomainError) -> int:
    if error.status in (403, 404, 413, 429):
        return error.status
    if error.status == 401:
        return 403
    return 400


def _body_limit() -> int:
    return settings.PHOTO_MAX_BYTES * services.MAX_MEDIA_FILES + 1024 * 1024


def endpoint(*methods: str):
    """Wrap a view: method check, rate limit per address, format, and errors in the spec's shape."""

    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def run(request: HttpRequest, *args, fmt: str | None = None, **kwargs) -> HttpResponse:
            fmt = _format(request, fmt)
            shown = fmt if fmt in FORMATS else "xml"
            language = _language(request)
            try:
                if fmt not in FORMATS:
                    raise Invalid(f"不支持的格式：{fmt[:10]}（应为 xml 或 json）",
                                  f"Unsupported format '{fmt[:10]}' (use xml or json)", field="format")
                if request.method not in allowed:
                    raise Refused(405, f"Method {request.method} is not allowed here", ", ".join(methods))
                limit = settings.PUBLIC_RATE_PER_MINUTE * 10
                hit("open311", client_address(request), limit=limit, window_seconds=60)
                if request.method == "POST":
                    _read_body(request)
                return view(request, *args, fmt=fmt, language=language, **kwargs)
            except Refused as refused:
                response = errors(shown, refused.status, [(refused.status, refused.description)])
                if refused.allow:
                    response["Allow"] = refused.allow
                return response
            except DomainError as error:
                status = _http_status(error)
                response = errors(shown, status, [(status, _describe(error, language))])
                if status == 429:
                    response["Retry-After"] = "60"
                return response

        return run

    return wrap


def _read_body(request: HttpRequest) -> None:
    """Parse the form body now, refusing oversized or malformed ones with a clear answer."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > _body_limit():
        raise TooLarge("请求体过大", f"The request body is larger than {_body_limit() // (1024 * 1024)} MB",
                       field="body")
    try:
        request.POST  # noqa: B018  (parses form and files)
        request.FILES  # noqa: B018
    except RequestDataTooBig:
        raise TooLarge("请求体过大", "The request body is too large", field="body") from None
    except (TooManyFieldsSent, MultiPartParserError, SuspiciousOperation, UnicodeDecodeError):
        raise Malformed("请求体无法解析", "The request body could not be read", field="body") from None


def _media(request: HttpRequest) -> list[services.MediaFile]:
    names = ["media", "media[]", *(f"photo{i}" for i in range(1, services.MAX_MEDIA_FILES + 2))]
    files = [f for name in names for f in request.FILES.getlist(name)]
    if len(files) > services.MAX_MEDIA_FILES:
        raise Invalid(f"最多上传 {services.MAX_MEDIA_FILES} 张照片", f"At most {services.MAX_MEDIA_FILES} photos",
                      field="media")
    found = []
    for upload in files:
        if upload.size and upload.size > settings.PHOTO_MAX_BYTES:
            limit = settings.PHOTO_MAX_BYTES // (1024 * 1024)
            raise TooLarge(f"照片超过 {limit} MB", f"The photo is larger than {limit} MB", field="media")
        found.append(services.MediaFile(upload.read(), upload.name or "media"))
    return found


# --- discovery and services -----------------------------------------------------------------


def _changeset() -> str:
    """Changes whenever a service is added or (de)activated: clients then refresh their lists."""
    facts = SmallClass.objects.filter(active=True).aggregate(n=Count("id"), last=Max("id"))
    return f"{facts['n'] or 0:05d}-{facts['last'] or 0:08d}"


@endpoint("GET")
def discovery(request: HttpRequest, *, fmt: str, language: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    return respond(fmt, "discovery", present.discovery(base, _changeset(), language))


@endpoint("GET")
def service_list(request: HttpRequest, *, fmt: str, language: str) -> HttpResponse:
    services.jurisdiction(Params(request).get("jurisdiction_id"))
    classes = SmallClass.objects.filter(active=True).select_related("major").order_by("code")
    return respond(fmt, "services", [present.service(c, language) for c in classes])


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, *, fmt: str, language: str) -> HttpResponse:
    services.jurisdiction(Params(request).get("jurisdiction_id"))
    return respond(fmt, "service_definition", present.service_definition(services.small_class(code), language))


# --- requests -----------------------------------------------------------------------------------


@endpoint("GET", "POST")
def requests(request: HttpRequest, *, fmt: str, language: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt, language)
    params = Params(request)
    city = services.jurisdiction(params.get("jurisdiction_id"))
    qs = _filtered(params, city)
    page = params.number("page", default=1, low=1, high=100_000)
    size = params.number("page_size", default=MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    rows = present.with_relations(qs.order_by("-reported_at", "-id"))[(page - 1) * size: page * size]
    extensions = params.flag("extensions")
    absolute = request.build_absolute_uri
    return respond(fmt, "service_requests", [
        present.request_row(c, language=language, absolute=absolute, extensions=extensions) for c in rows
    ])


def _window(params: Params, zone: str, start_name: str, end_name: str, *, default: timedelta | None):
    start, end = params.instant(start_name, zone), params.instant(end_name, zone)
    if default is None and start is None and end is None:
        return None, None
    span = default or WINDOW
    if end is None:
        end = start + span if start else timezone.now()
    if start is None:
        start = end - span
    if start > end:
        raise Invalid(f"{start_name} 晚于 {end_name}", f"{start_name} is after {end_name}", field=start_name)
    if end - start > WINDOW:
        raise Invalid(f"{start_name} 到 {end_name} 不能超过 90 天",
                      f"{start_name} to {end_name} may not exceed 90 days", field=end_name)
    return start, end


def _filtered(params: Params, city):
    qs = Case.objects.filter(city=city)
    ids = params.csv("service_request_id")
    if ids:  # overrides every other filter, as the spec says
        return qs.filter(number__in=[i[:24] for i in ids[:MAX_PAGE_SIZE]])
    codes = params.csv("service_code")
    if codes:
        qs = qs.filter(class_code__in=[c[:8] for c in codes])
    statuses = {s.lower() for s in params.csv("status")}
    if statuses - {"open", "closed"}:
        raise Invalid("status 应为 open、closed 或 open,closed", "status must be open, closed or open,closed",
                      field="status")
    if statuses == {"open"}:
        qs = qs.exclude(state__in=workflow.END_STATES)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=workflow.END_STATES)
    after, before = _window(params, city.timezone, "updated_after", "updated_before", default=None)
    if after is not None:
        qs = qs.filter(updated_at__gte=after, updated_at__lte=before)
    # A change feed (updated_after/before) needs no window on requested_datetime unless one is asked for.
    start, end = _window(params, city.timezone, "start_date", "end_date", default=None if after else WINDOW)
    if start is not None:
        qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
    bbox = params.get("bbox")
    if bbox:
        min_lon, min_lat, max_lon, max_lat = parse_bbox(bbox)
        qs = qs.filter(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)
    return qs


def _post_request(request: HttpRequest, fmt: str, language: str) -> HttpResponse:
    params = Params(request)
    api_key = _key(request, params)
    city = services.jurisdiction(params.get("jurisdiction_id"))
    case = services.post_request(
        api_key=api_key,
        city=city,
        service_code=params.get("service_code"),
        lat=params.get("lat"),
        long=params.get("long"),
        address_string=params.get("address_string"),
        address_id=params.get("address_id"),
        description=params.get("description"),
        first_name=params.get("first_name"),
        last_name=params.get("last_name"),
        phone=params.get("phone"),
        email=params.get("email"),
        device_id=params.get("device_id") or params.get("deviceid"),
        account_id=params.get("account_id"),
        media_url=params.getlist("media_url"),
        attributes=params.attributes(),
        media=_media(request),
    )
    notice = ("Received. An inspector will verify it on site before it is dispatched."
              if present.english(language) else "已受理，将由监督员现场核实后派遣处置。")
    return respond(fmt, "service_requests", [
        {"service_request_id": case.number, "service_notice": notice, "account_id": None}
    ], status=201)


def _key(request: HttpRequest, params: Params):
    """The caller's key (403 otherwise); failures count against the address, uses against the key."""
    try:
        api_key = services.check_key(params.get("api_key"))
    except DomainError:
        hit("open311-bad-key", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)
        raise
    hit("open311-key", str(api_key.pk), limit=api_key.rate_per_minute, window_seconds=60)
    return api_key


@endpoint("GET")
def service_request(request: HttpRequest, request_id: str, *, fmt: str, language: str) -> HttpResponse:
    city = services.jurisdiction(Params(request).get("jurisdiction_id"))
    found = list(present.with_relations(Case.objects.filter(city=city, number=request_id[:24])))
    if not found:
        short = request_id[:24]
        raise NotFound(f"未知的 service_request_id：{short}", f"Unknown service_request_id '{short}'",
                       field="service_request_id")
    extensions = Params(request).flag("extensions")
    row = present.request_row(found[0], language=language, absolute=request.build_absolute_uri, extensions=extensions)
    return respond(fmt, "service_requests", [row])


@endpoint("GET")
def token(request: HttpRequest, token: str, *, fmt: str, language: str) -> HttpResponse:
    city = services.jurisdiction(Params(request).get("jurisdiction_id"))
    link = services.token_request(token, city)
    return respond(fmt, "service_requests", [{"service_request_id": link.case.number, "token": link.token}])


# --- FixMyStreet's servicerequestupdates ------------------------------------------------------


@endpoint("GET", "POST")
def request_updates(request: HttpRequest, *, fmt: str, language: str) -> HttpResponse:
    params = Params(request)
    city = services.jurisdiction(params.get("jurisdiction_id"))
    if request.method == "POST":
        api_key = _key(request, params)
        update = services.post_update(
            api_key=api_key,
            city=city,
            service_request_id=params.get("service_request_id"),
            update_id=params.get("update_id"),
            status=params.get("status"),
            description=params.get("description"),
            updated_datetime=params.instant("updated_datetime", city.timezone),
            first_name=params.get("first_name"),
            last_name=params.get("last_name"),
            email=params.get("email"),
            media_url=params.getlist("media_url"),
            media=_media(request),
        )
        return respond(fmt, "service_request_updates", [{"update_id": str(update.pk)}], status=201)
    start, end = _window(params, city.timezone, "start_date", "end_date", default=UPDATES_WINDOW)
    page = params.number("page", default=1, low=1, high=100_000)
    size = params.number("page_size", default=MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    events = (
        Event.objects.filter(case__city=city, operation__in=present.PUBLIC_EVENTS, internal=False,
                             at__gte=start, at__lte=end)
        .order_by("at", "id")
        .values_list("pk", "case_id")[(page - 1) * size: page * size]
    )
    pairs = list(events)
    cases = {c.pk: c for c in present.with_relations(Case.objects.filter(pk__in={case_id for _, case_id in pairs}))}
    by_id = {e.pk: e for c in cases.values() for e in c.public_events}
    absolute = request.build_absolute_uri
    return respond(fmt, "service_request_updates", [
        present.request_update(cases[case_id], by_id[pk], language=language, absolute=absolute)
        for pk, case_id in pairs if pk in by_id
    ])


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request: HttpRequest, *, fmt: str, language: str, **kwargs) -> HttpResponse:
    raise NotFound("没有这个 Open311 资源", f"No such Open311 resource: {request.path[:200]}", field="path")

