"""Case endpoints of API v1: thin — parse, fetch through queries, call one service, present."""

from __future__ import annotations

import json
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from chengguan.cases import citizens, photos, present, queries, services
from chengguan.cases.models import Attachment
from chengguan.errors import Invalid, Malformed, NotFound, TooLarge
from chengguan.geo.models import City
from chengguan.ratelimit import client_address, hit

router = Router(tags=["cases"])
public_router = Router(tags=["public"], auth=None)


class ReporterIn(Schema):
    name: str = Field("", max_length=80)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)


class CaseIn(Schema):
    class_code: str = Field(..., min_length=1, max_length=8)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: str = "wgs84"
    grid_code: str | None = None
    address: str = ""
    description: str = ""
    urgency: str | None = None
    component_code: str = ""
    self_handled: bool = False
    reporter: ReporterIn | None = None
    client_uuid: str | None = None
    source: str | None = None
    city: str | None = None


class PublicCaseIn(Schema):
    class_code: str = Field(..., min_length=1, max_length=8)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: str = "wgs84"
    address: str = ""
    description: str = ""
    reporter: ReporterIn | None = None
    client_uuid: str | None = None
    city: str | None = None


class CaseFilters(Schema):
    state: str | None = None
    department: str | None = None
    grid: str | None = None
    community: str | None = None
    street: str | None = None
    class_code: str | None = None
    light: str | None = None
    source: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    supervised: bool | None = None
    q: str | None = None
    cursor: str | None = None
    page_size: int = 50
    with_count: bool = False


class RatingIn(Schema):
    score: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


def _city(code: str | None) -> City | None:
    if not code:
        return None
    city = City.objects.filter(code=code).first()
    if city is None:
        raise Invalid(f"未知的城市：{code}", f"Unknown city '{code}'", field="city")
    return city


def _json_object(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("请求体不是有效的 JSON", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Malformed("请求体应为 JSON 对象", "The request body must be a JSON object")
    return body


def _with_relations(number: str, user):
    return queries.get_case_for_user(user, number)


@router.post("", response={200: dict, 201: dict})
def create_case(request: HttpRequest, payload: CaseIn):
    reporter = payload.reporter or ReporterIn()
    case, created = services.report_case(
        actor=request.user,
        city=_city(payload.city),
        class_code=payload.class_code,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        grid_code=payload.grid_code,
        address=payload.address,
        description=payload.description,
        urgency=payload.urgency,
        component_code=payload.component_code,
        self_handled=payload.self_handled,
        reporter_name=reporter.name,
        reporter_phone=reporter.phone,
        client_uuid=payload.client_uuid,
        source=payload.source,
    )
    return Status(201 if created else 200, present.case_detail(case))


@router.get("", response=dict)
def list_cases(request: HttpRequest, filters: Query[CaseFilters]):
    qs = queries.filter_cases(
        queries.visible_cases(request.user),
        queries.Filters(**filters.dict(exclude={"cursor", "page_size", "with_count"})),
    )
    rows, next_cursor = queries.page(
        qs.select_related("small_class", "department"), cursor=filters.cursor, page_size=filters.page_size
    )
    now = timezone.now()
    body = {"items": [present.case_summary(c, now=now) for c in rows], "next": next_cursor}
    if filters.with_count:
        body["count"] = qs.count()
    return body


@router.get("/nearby", response=dict)
def nearby_cases(
    request: HttpRequest, class_code: str, lon: float, lat: float, crs: str = "wgs84", city: str | None = None
):
    """Open cases of this class near a point: the duplicate warning before a report is sent."""
    from chengguan.geo.coords import to_wgs84
    from chengguan.geo.services import check_point

    target = _city(city) or services._default_city(request.user)
    lon, lat = check_point(lon, lat)
    wlon, wlat = to_wgs84(lon, lat, crs)
    found = queries.nearby(
        target.pk,
        class_code,
        float(wlon),
        float(wlat),
        timezone.now(),
        target.duplicate_radius_m,
        timezone.timedelta(hours=target.duplicate_window_hours),
    )
    visible = set(queries.visible_cases(request.user).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True))
    return {
        "items": [
            {**present.case_summary(c), "distance_m": c.distance_m}
            for c in found
            if c.pk in visible or request.user.role in ("inspector", "volunteer")
        ]
    }


@router.get("/{number}", response=dict)
def get_case(request: HttpRequest, number: str):
    return present.case_detail(_with_relations(number, request.user))


@router.post("/{number}/actions/{operation}", response=dict)
def act_on_case(request: HttpRequest, number: str, operation: str):
    body = _json_object(request)
    case = _with_relations(number, request.user)
    version = body.pop("version", None)
    note = body.pop("note", "") or ""
    attachments = body.pop("attachments", None) or []
    if not isinstance(attachments, list):
        raise Invalid("attachments 应为附件编号列表", "Field 'attachments' must be a list of ids", field="attachments")
    if not isinstance(note, str):
        raise Invalid("note 应为文字", "Field 'note' must be text", field="note")
    case = services.apply_operation(
        case, operation, actor=request.user, version=version, note=note, attachments=attachments, fields=body
    )
    return present.case_detail(case)


def _upload(request: HttpRequest, file: UploadedFile | None) -> bytes:
    if file is None:
        raise Invalid("缺少必填字段：file", "Field 'file' is required", field="file")
    if file.size and file.size > settings.PHOTO_MAX_BYTES:
        limit = settings.PHOTO_MAX_BYTES // (1024 * 1024)
        raise TooLarge(f"图片超过 {limit} MB", f"The photo is larger than {limit} MB", field="file")
    return file.read()


@router.post("/{number}/attachments", response={201: dict})
def upload_attachment(request: HttpRequest, number: str, file: File[UploadedFile] = None, stage: Form[str] = "report"):
    case = _with_relations(number, request.user)
    attachment = photos.add_photo(
        case, data=_upload(request, file), filename=file.name, stage=stage, actor=request.user
    )
    return Status(
        201, {"id": attachment.pk, "stage": attachment.stage, **present.attachment_urls(case, attachment, public=False)}
    )


def _serve(attachment: Attachment, variant: str) -> FileResponse:
    field = {"original": attachment.file, "public": attachment.public_file, "thumb": attachment.thumb}.get(variant)
    if field is None:
        raise Invalid(
            "variant 应为 original、public 或 thumb",
            "Field 'variant' must be original, public or thumb",
            field="variant",
        )
    content_type = "image/jpeg" if variant == "thumb" else attachment.content_type
    response = FileResponse(field.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@router.get("/{number}/attachments/{attachment_id}")
def get_attachment(request: HttpRequest, number: str, attachment_id: int, variant: str = "public"):
    case = _with_relations(number, request.user)
    attachment = case.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("附件不存在", "Attachment not found", field="attachment_id")
    return _serve(attachment, variant)


@router.get("/{number}/duplicates", response=dict)
def duplicates(request: HttpRequest, number: str):
    case = _with_relations(number, request.user)
    found = queries.nearby_open_cases(case)
    return {"items": [{**present.case_summary(c), "distance_m": c.distance_m} for c in found]}


# --- public ---------------------------------------------------------------------------------


def _limit(request: HttpRequest, scope: str) -> None:
    hit(scope, client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)


@public_router.post("/cases", response={200: dict, 201: dict})
def create_public_case(request: HttpRequest, payload: PublicCaseIn):
    _limit(request, "public-report")
    reporter = payload.reporter or ReporterIn()
    case, created = services.report_case(
        actor=None,
        city=_city(payload.city),
        class_code=payload.class_code,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        address=payload.address,
        description=payload.description,
        reporter_name=reporter.name,
        reporter_phone=reporter.phone,
        reporter_email=_email(reporter.email),
        reporter_language="en" if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en") else "zh-hans",
        client_uuid=payload.client_uuid,
        source="public",
    )
    body = present.public_case(case)
    if created:  # given once: with the number it lets the reporter add to the case or dispute its closure
        body["reporter_code"] = citizens.reporter_code(case.number)
    return Status(201 if created else 200, body)


def _email(value: str) -> str:
    value = (value or "").strip()
    if value and ("@" not in value or " " in value or "." not in value.rsplit("@", 1)[-1]):
        raise Invalid("电子邮箱格式不对", "Field 'reporter.email' is not an e-mail address", field="reporter.email")
    return value


@public_router.get("/cases/{number}", response=dict)
def get_public_case(request: HttpRequest, number: str):
    _limit(request, "public-read")
    return present.public_case(queries.get_public_case(number))


@public_router.get("/cases/{number}/attachments/{attachment_id}")
def get_public_attachment(request: HttpRequest, number: str, attachment_id: int, variant: str = "public"):
    case = queries.get_public_case(number)
    attachment = case.attachments.filter(pk=attachment_id, stage__in=["report", "handle", "check"]).first()
    if attachment is None or variant == "original":
        raise NotFound("附件不存在", "Attachment not found", field="attachment_id")
    return _serve(attachment, variant)


@public_router.post("/cases/{number}/rating", response=dict)
def rate_case(request: HttpRequest, number: str, payload: RatingIn):
    _limit(request, "public-rating")
    case = services.rate_case(queries.get_public_case(number), score=payload.score, comment=payload.comment)
    return present.public_case(case)


# --- the reporter ---------------------------------------------------------------------------


def _citizen_body(request: HttpRequest) -> tuple[dict, list]:
    """A JSON object, or a multipart form with `photos` (follow-ups may carry photos)."""
    if request.content_type == "multipart/form-data":
        return {key: request.POST.get(key) for key in request.POST}, request.FILES.getlist("photos")
    return _json_object(request), []


def _field_text(body: dict, name: str, limit: int = 2000) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"字段 {name} 应为文字", f"Field '{name}' must be text", field=name)
    value = value.strip()
    if len(value) > limit:
        raise Invalid(f"字段 {name} 过长（最多 {limit} 字）", f"Field '{name}' is too long (max {limit})", field=name)
    return value


def _as_reporter(request: HttpRequest, number: str, body: dict):
    _limit(request, "public-citizen")
    case = queries.get_public_case(number)
    citizens.limit_attempts(request, case.number)
    citizens.check_reporter(case, phone=_field_text(body, "phone", 40), code=_field_text(body, "code", 40))
    return case


MAX_FOLLOW_UP_PHOTOS = 4


@public_router.post(
    "/cases/{number}/follow-ups",
    response={201: dict},
    openapi_extra={"description": "JSON `{note, phone | code}`, or multipart with `photos` (up to 4)."},
)
def follow_up_public_case(request: HttpRequest, number: str):
    """The reporter adds a note (and photos) for the department: a `follow_up` event."""
    body, files = _citizen_body(request)
    case = _as_reporter(request, number, body)
    note = _field_text(body, "note")
    if len(files) > MAX_FOLLOW_UP_PHOTOS:
        raise Invalid(f"最多 {MAX_FOLLOW_UP_PHOTOS} 张照片", f"At most {MAX_FOLLOW_UP_PHOTOS} photos", field="photos")
    if not note and not files:
        raise Invalid("缺少必填字段：note", "Field 'note' is required", field="note")
    with transaction.atomic():
        ids = [
            photos.add_photo(case, data=_upload(request, f), filename=f.name, stage="follow_up", actor=None).pk
            for f in files
        ]
        case = services.apply_as_citizen(case, "follow_up", note=note, attachments=ids)
    return Status(201, present.public_case(case))


@public_router.post("/cases/{number}/not-fixed", response=dict)
def dispute_public_case(request: HttpRequest, number: str):
    """The reporter says a closed case is not fixed (`dispute`): back to the call-taker for review."""
    body, _ = _citizen_body(request)
    case = _as_reporter(request, number, body)
    note = _field_text(body, "note")
    if not note:
        raise Invalid("缺少必填字段：note（哪里没有解决）", "Field 'note' is required: what is not fixed", field="note")
    return present.public_case(services.apply_as_citizen(case, "dispute", note=note))


class ByPhoneIn(Schema):
    phone: str = Field(..., max_length=40)
    number: str = Field(..., max_length=40)


@public_router.post("/my-cases", response=dict)
def cases_by_phone(request: HttpRequest, payload: ByPhoneIn):
    """Every case reported with `phone`, proven by `number`, one case reported with it.

    A phone number alone lists nothing; the phone comes back masked (138****5678).
    """
    _, found = citizens.find_my_cases(request, phone=payload.phone, number=payload.number)
    return {
        "phone": present.mask_phone(citizens.phone_key(payload.phone)),
        "items": [
            {"number": c.number, "state": c.state, "state_name": c.get_state_display(), "class_code": c.class_code,
             "class_name": c.small_class.name, "reported_at": present.iso(c.reported_at),
             "closed_at": present.iso(c.closed_at)}
            for c in found
        ],
    }
