"""Open311 use cases: keys, the jurisdiction of a call, new requests and posted updates.

A new request becomes a case through `cases.services.report_case` (source `open311`, no actor):
it enters the loop as a public report awaiting verification. Everything is checked before the
first row is written, and the whole intake is one transaction, so a refusal stores nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chengguan.cases import photos, services
from chengguan.cases.models import Case
from chengguan.catalog.models import SmallClass
from chengguan.errors import Forbidden, Invalid, NotFound, TooLarge
from chengguan.geo.models import City, Grid, Region
from chengguan.open311 import present
from chengguan.open311.models import ApiKey, Open311Request, ReceivedUpdate

MAX_MEDIA_FILES = 5
MAX_MEDIA_URLS = 10
MAX_URL_LENGTH = 2000
# Control characters have no place in a report (and XML 1.0 cannot carry them).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class MediaFile:
    data: bytes
    name: str


# --- keys -------------------------------------------------------------------------------------


def issue_key(name: str, *, key: str | None = None, contact: str = "", rate_per_minute: int = 60) -> ApiKey:
    """A new key for a client system; `key` fixes its value (the demo's), else a random one."""
    fields = {"name": name, "contact": contact, "rate_per_minute": rate_per_minute}
    if key:
        fields["key"] = key
    return ApiKey.objects.create(**fields)


def revoke_key(api_key: ApiKey, *, now: datetime | None = None) -> ApiKey:
    """Refuse the key from now on; requests it already posted stay as they are."""
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    api_key.refresh_from_db()
    return api_key


def check_key(key: str | None, *, now: datetime | None = None) -> ApiKey:
    """The active key with this value, or 403 as the spec wants."""
    found = ApiKey.objects.filter(key=key, revoked_at__isnull=True).first() if key and len(key) <= 64 else None
    if found is None:
        raise Forbidden("api_key 缺失或无效", "Missing or invalid api_key", field="api_key")
    ApiKey.objects.filter(pk=found.pk).update(last_used_at=now or timezone.now())
    return found


# --- jurisdiction -----------------------------------------------------------------------------


def jurisdiction(code: str | None) -> City:
    """The city a call is about.

    `jurisdiction_id` names it (404 when unknown). Without one: the city named by the
    `OPEN311_DEFAULT_JURISDICTION` setting if there is one, else the deployment's first city
    (the oldest: the home city or the demo city, never a foreign city imported later).
    """
    if code:
        city = City.objects.filter(code=code).first()
        if city is None:
            raise NotFound(f"未知的 jurisdiction_id：{code}", f"Unknown jurisdiction_id '{code}'",
                           field="jurisdiction_id")
        return city
    default = getattr(settings, "OPEN311_DEFAULT_JURISDICTION", "")
    city = City.objects.filter(code=default).first() if default else City.objects.order_by("id").first()
    if city is None:
        raise NotFound("尚未配置任何城市", "No jurisdiction has been set up", field="jurisdiction_id")
    return city


def small_class(code: str | None) -> SmallClass:
    if not code:
        raise Invalid("缺少必填字段：service_code", "service_code is required", field="service_code")
    found = SmallClass.objects.filter(code=code, active=True).select_related("major").first()
    if found is None:
        raise NotFound(f"未知的 service_code：{code[:20]}", f"Unknown service_code '{code[:20]}'", field="service_code")
    return found


# --- places -----------------------------------------------------------------------------------


def geocode(city: City, text: str) -> Grid | None:
    """Our modest geocoder: a grid code in the text, or the exact name of a grid or region."""
    text = text.strip()
    codes = re.findall(r"\d{9,20}", text)
    if codes:
        grid = Grid.objects.filter(city=city, code__in=codes).order_by("code").first()
        if grid is not None:
            return grid
    grid = Grid.objects.filter(city=city, name=text).exclude(name="").order_by("code").first()
    if grid is not None:
        return grid
    region = Region.objects.filter(city=city, name=text).order_by("code").first()
    if region is None:
        return None
    grids = Grid.objects.filter(city=city).order_by("code")
    if region.level == Region.Level.COMMUNITY:
        return grids.filter(community=region).first()
    if region.level == Region.Level.STREET:
        return grids.filter(street_code=region.code).first()
    return grids.filter(district_code=region.code).first()


def _coordinate(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise Invalid(f"{name} 不是数字", f"{name} is not a number", field=name) from None


def _location(city: City, *, lat, long, address_string, address_id) -> dict:
    """report_case's location arguments from Open311's lat+long, address_id or address_string."""
    lat_value, long_value = _coordinate(lat, "lat"), _coordinate(long, "long")
    if lat_value is not None or long_value is not None:
        if lat_value is None or long_value is None:
            missing = "lat" if lat_value is None else "long"
            raise Invalid(f"缺少 {missing}：lat 与 long 须同时提供", f"{missing} is required together with "
                          f"{'long' if missing == 'lat' else 'lat'}", field=missing)
        return {"lon": long_value, "lat": lat_value}
    if address_id:
        grid = Grid.objects.filter(city=city, code=address_id).first()
        if grid is None:
            raise Invalid(
                f"无法识别 address_id：{address_id[:40]}（应为网格编码），请改用 lat 与 long",
                f"address_id '{address_id[:40]}' is not a grid code here; send lat and long instead",
                field="address_id",
            )
        # report_case wants an address with a grid; the grid is all we know of the place.
        return {"grid_code": grid.code, "address": address_string or grid.name or f"网格 {grid.code}"}
    if address_string:
        grid = geocode(city, address_string)
        if grid is None:
            raise Invalid(
                "无法根据 address_string 确定位置，请同时提供 lat 与 long",
                "address_string could not be located; send lat and long as well",
                field="address_string",
            )
        return {"grid_code": grid.code}
    raise Invalid("须提供位置：lat 与 long，或 address_string，或 address_id",
                  "A location is required: lat and long, address_string or address_id", field="lat")


def _plain(value: str | None, name: str, limit: int) -> str:
    value = (value or "").strip()
    if _CONTROL.search(value):
        raise Invalid(f"{name} 含有控制字符", f"{name} contains control characters", field=name)
    if len(value) > limit:
        raise Invalid(f"{name} 过长（最多 {limit} 字）", f"{name} is too long (max {limit} characters)", field=name)
    return value


def _media_urls(urls: list[str]) -> list[str]:
    found = []
    for url in urls:
        for part in url.split(","):
            part = part.strip()
            if not part:
                continue
            if len(part) > MAX_URL_LENGTH or urlsplit(part).scheme not in ("http", "https") or _CONTROL.search(part):
                raise Invalid("media_url 应为 http(s) 链接", "media_url must be an http(s) URL", field="media_url")
            found.append(part)
    if len(found) > MAX_MEDIA_URLS:
        raise Invalid(f"media_url 最多 {MAX_MEDIA_URLS} 个", f"At most {MAX_MEDIA_URLS} media_url values",
                      field="media_url")
    return found


def check_media(files: list[MediaFile]) -> None:
    """Every file a photo we take, before anything is stored (`add_photo` checks them again)."""
    if len(files) > MAX_MEDIA_FILES:
        raise Invalid(f"最多上传 {MAX_MEDIA_FILES} 张照片", f"At most {MAX_MEDIA_FILES} photos", field="media")
    for media in files:
        if len(media.data) > settings.PHOTO_MAX_BYTES:
            limit = settings.PHOTO_MAX_BYTES // (1024 * 1024)
            raise TooLarge(f"照片超过 {limit} MB", f"The photo is larger than {limit} MB", field="media")
        if not media.data:
            raise Invalid("照片文件为空", "The media file is empty", field="media")
        try:
            photos.read_photo(media.data)
        except Invalid:
            raise Invalid("media 只接受 JPEG、PNG 或 WebP 图片", "media must be a JPEG, PNG or WebP image",
                          field="media") from None


def _attributes(small: SmallClass, given: dict) -> dict:
    definition = {a["code"]: a for a in present.attributes(small, "en") if a["variable"]}
    for code, attribute in definition.items():
        if attribute["required"] and not given.get(code):
            raise Invalid(f"缺少必填属性：attribute[{code}]", f"attribute[{code}] is required",
                          field=f"attribute[{code}]")
    kept = {}
    for code, value in given.items():
        if code not in definition:
            continue  # unknown attributes are ignored, as clients send their own
        if not isinstance(value, str):
            raise Invalid(f"attribute[{code}] 只取一个值", f"attribute[{code}] takes one value",
                          field=f"attribute[{code}]")
        kept[code] = _plain(value, f"attribute[{code}]", 20 if code == "component_code" else 200)
    return kept


# --- requests ---------------------------------------------------------------------------------


def post_request(
    *,
    api_key: ApiKey,
    city: City,
    service_code: str | None,
    lat: str | None = None,
    long: str | None = None,
    address_string: str | None = None,
    address_id: str | None = None,
    description: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    device_id: str | None = None,
    account_id: str | None = None,
    media_url: list[str] | None = None,
    attributes: dict | None = None,
    media: list[MediaFile] | None = None,
    now: datetime | None = None,
) -> Case:
    """POST Service Request: a new case from a client system, or a refusal that stores nothing."""
    now = now or timezone.now()
    small = small_class(service_code)
    location = _location(city, lat=lat, long=long, address_string=address_string, address_id=address_id)
    description = _plain(description, "description", services.TEXT_LIMITS["description"])
    location.setdefault("address", _plain(address_string, "address_string", services.TEXT_LIMITS["address"]))
    names = [_plain(first_name, "first_name", 40), _plain(last_name, "last_name", 40)]
    reporter_name = " ".join(n for n in names if n and n != "-")
    reporter_phone = _plain(phone, "phone", 32)
    email = _plain(email, "email", 254)
    extra = {"device_id": _plain(device_id, "device_id", 120), "account_id": _plain(account_id, "account_id", 120)}
    urls = _media_urls(media_url or [])
    kept = _attributes(small, attributes or {})
    files = media or []
    check_media(files)
    with transaction.atomic():
        try:
            case, _ = services.report_case(
                actor=None, source="open311", city=city, class_code=small.code,
                description=description, reporter_name=reporter_name, reporter_phone=reporter_phone,
                component_code=kept.get("component_code", "") if small.kind == "component" else "",
                now=now, **location,
            )
        except Invalid as error:
            raise _open311_error(error, city) from None
        Open311Request.objects.create(
            case=case, api_key=api_key, token=uuid.uuid4().hex, media_url="\n".join(urls), email=email,
            attributes=kept, received_at=now, **extra,
        )
        for file in files:
            photos.add_photo(case, data=file.data, filename=file.name, stage="report", actor=None, now=now)
    return case


def _open311_error(error: Invalid, city: City) -> Invalid:
    """report_case's refusals, in Open311's names."""
    if error.field in ("lon", "lat") and "outside" in error.en:
        return Invalid(
            f"lat/long 不在辖区（{present.city_label(city)}）范围内",
            f"lat/long is outside jurisdiction {city.code} ({city.name_en or city.name})",
            field="long",
        )
    return error


def token_request(token: str, city: City) -> Open311Request:
    found = Open311Request.objects.filter(token=token[:40], case__city=city).select_related("case").first()
    if found is None:
        raise NotFound(f"未知的 token：{token[:40]}", f"Unknown token '{token[:40]}'", field="token")
    return found


# --- updates ----------------------------------------------------------------------------------


def post_update(
    *,
    api_key: ApiKey,
    city: City,
    service_request_id: str | None,
    update_id: str | None,
    status: str | None = None,
    description: str | None = None,
    updated_datetime: datetime | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    media_url: list[str] | None = None,
    media: list[MediaFile] | None = None,
    now: datetime | None = None,
) -> ReceivedUpdate:
    """FixMyStreet's POST servicerequestupdates: a comment on one of our requests.

    Kept as received (for the admin) and written to the case as a `follow_up` event, so that the
    department reads it beside the reporter's own follow-ups.
    """
    now = now or timezone.now()
    if not service_request_id:
        raise Invalid("缺少必填字段：service_request_id", "service_request_id is required", field="service_request_id")
    update_id = _plain(update_id, "update_id", 120)
    if not update_id:
        raise Invalid("缺少必填字段：update_id", "update_id is required", field="update_id")
    case = Case.objects.filter(number=service_request_id[:24], city=city).first()
    if case is None:
        raise NotFound(f"未知的 service_request_id：{service_request_id[:24]}",
                       f"Unknown service_request_id '{service_request_id[:24]}'", field="service_request_id")
    description = _plain(description, "description", services.TEXT_LIMITS["note"])
    files = media or []
    urls = _media_urls(media_url or [])
    if not description and not files and not urls:
        raise Invalid("缺少必填字段：description", "description is required", field="description")
    check_media(files)
    names = [_plain(first_name, "first_name", 40), _plain(last_name, "last_name", 40)]
    try:
        with transaction.atomic():
            update = ReceivedUpdate.objects.create(
                api_key=api_key, case=case, external_id=update_id, status=_plain(status, "status", 40).upper(),
                description=description, media_url="\n".join(urls),
                author_name=" ".join(n for n in names if n and n != "-"), email=_plain(email, "email", 254),
                updated_at=updated_datetime or now, received_at=now,
            )
            ids = [
                photos.add_photo(case, data=file.data, filename=file.name, stage="follow_up", actor=None, now=now).pk
                for file in files
            ]
            # The department sees it where it sees the reporter's own follow-ups: as a case event.
            note = "\n".join(part for part in [description, *urls] if part) or "（附照片）"
            services.apply_as_citizen(case, "follow_up", now=now, note=note, attachments=ids)
    except IntegrityError:
        raise Invalid(f"update_id {update_id} 已提交过", f"update_id {update_id} was already posted",
                      field="update_id") from None
    return update
