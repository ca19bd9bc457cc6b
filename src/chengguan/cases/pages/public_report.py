"""The citizen's report form: classes to pick from, photos, checks, and the report itself.

Part of the citizens' portal (`public.py` holds the shared helpers; `public_urls.py` routes).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from chengguan.cases import citizens, photos, services
from chengguan.cases.models import Source
from chengguan.cases.pages.public import (
    COMMON,
    EMAIL,
    FIELD_LABELS,
    LIMITS,
    MAX_PHOTOS,
    PHONE,
    SERVICE_FIELDS,
    _city,
    _english,
    _lang,
    _pick,
)
from chengguan.catalog.models import SmallClass
from chengguan.errors import DomainError, Invalid
from chengguan.geo import services as geo
from chengguan.geo.models import City
from chengguan.ratelimit import client_address, hit


def _class_choices(request) -> tuple[list[dict], list[dict]]:
    """The common problems by group (those the catalog has), and every other active class."""
    english = _english(request)
    classes = {s.code: s for s in SmallClass.objects.filter(active=True).order_by("code")}
    groups, common = [], set()
    for key, zh, en, items in COMMON:
        chips = []
        for code, label_zh, label_en, words in items:
            small = classes.get(code)
            if small is None:
                continue
            common.add(code)
            chips.append({
                "code": code,
                "label": label_en if english else label_zh,
                "standard": small.name_en if english and small.name_en else small.name,
                "search": " ".join([label_zh, label_en, small.name, small.name_en, small.pinyin_initials, words,
                                    code]).lower(),
            })
        if chips:
            groups.append({"key": key, "label": en if english else zh, "chips": chips})
    others = [
        {
            "code": s.code,
            "label": (s.name_en or s.name) if english else s.name,
            "standard": "",
            "search": " ".join([s.name, s.name_en, s.pinyin_initials, s.code]).lower(),
        }
        for code, s in classes.items()
        if code not in common
    ]
    return groups, others


def _render_report(request, city: City, values: dict, errors: dict, *, status: int = 200):
    groups, others = _class_choices(request)
    summary = [(field, _pick(request, FIELD_LABELS.get(field, (field, field))), message)
               for field, message in errors.items()]
    context = {
        "city": city,
        "groups": groups,
        "others": others,
        "values": values,
        "errors": errors,
        "error_summary": summary,
        "max_photos": MAX_PHOTOS,
        "max_mb": settings.PHOTO_MAX_BYTES // (1024 * 1024),
        "limits": LIMITS,
        "strings": _script_strings(request),
    }
    return render(request, "cases/public/report.html", context, status=status)


def _script_strings(request) -> dict:
    pairs = {
        "locating": ("正在确认位置…", "Checking the place…"),
        "outside": ("这个位置不在本市城市管理网格范围内，请在地图上重新选择。",
                    "This point is outside the city's grids: choose another place on the map."),
        "chosen": ("已选位置", "Place chosen"),
        "noGeo": ("无法获取您的位置：请允许浏览器定位，或直接在地图上点选。",
                  "Your position is not available: allow location access, or tap the map."),
        "finding": ("正在获取您的位置…", "Finding your position…"),
        "needPlace": ("请在地图上点选问题所在的位置。", "Tap the map where the problem is."),
        "needClass": ("请选择问题类别。", "Choose the kind of problem."),
        "needWords": ("请简单描述问题，或上传一张照片。", "Describe the problem in a few words, or add a photo."),
        "tooMany": (f"最多上传 {MAX_PHOTOS} 张照片。", f"At most {MAX_PHOTOS} photos."),
        "notImage": ("只能上传照片（JPEG、PNG 或 WebP）。", "Only photos can be added (JPEG, PNG or WebP)."),
        "sending": ("正在提交…", "Sending…"),
        "failed": ("提交没有成功，请检查网络后重试。",
                   "The report could not be sent: check the connection and try again."),
        "remove": ("删除", "Remove"),
        "fix": ("请修改以下内容：", "Please correct:"),
        "noMatch": ("没有找到，可以换个说法，或选“其他问题”。",
                    "Nothing found: try other words, or choose “Something else”."),
    }
    return {key: _pick(request, pair) for key, pair in pairs.items()}


def _text_value(post, name: str) -> str:
    return (post.get(name) or "").strip()


def _read_photos(request, refuse) -> tuple[list, list[tuple[bytes, str]], bool]:
    """The uploaded photos, each checked: (uploads, (bytes, name) pairs, whether one was too large)."""
    uploads = [f for f in request.FILES.getlist("photos") if f.name or f.size]
    shots: list[tuple[bytes, str]] = []
    if len(uploads) > MAX_PHOTOS:
        refuse("photos", f"最多上传 {MAX_PHOTOS} 张照片", f"At most {MAX_PHOTOS} photos")
        return uploads, shots, False
    limit_mb = settings.PHOTO_MAX_BYTES // (1024 * 1024)
    for upload in uploads:
        if upload.size > settings.PHOTO_MAX_BYTES:
            refuse("photos", f"照片 {upload.name} 超过 {limit_mb} MB", f"Photo {upload.name} is over {limit_mb} MB")
            return uploads, shots, True
        data = upload.read()
        try:
            photos.read_photo(data)
        except Invalid:
            refuse("photos", f"{upload.name} 不是照片：只接受 JPEG、PNG 或 WebP 图片",
                   f"{upload.name} is not a photo: only JPEG, PNG or WebP images are accepted")
            break
        shots.append((data, upload.name or "photo.jpg"))
    return uploads, shots, False


def _read_report(request, city: City) -> tuple[dict, dict, list[tuple[bytes, str]], int]:
    """Check every field before anything is stored: (values, errors by field, photos, status)."""
    post = request.POST
    values = {name: _text_value(post, name) for name in
              ("class_code", "lon", "lat", "crs", "address", "description", "reporter_name", "reporter_phone",
               "reporter_email", "client_uuid")}
    english = _english(request)
    errors: dict[str, str] = {}
    status = 422

    def refuse(field: str, zh: str, en: str) -> None:
        errors.setdefault(field, en if english else zh)

    for name in ("description", "address", "reporter_name", "reporter_phone", "reporter_email"):
        if len(values[name]) > LIMITS[name]:
            label = FIELD_LABELS[name]
            refuse(name, f"{label[0]}太长了（最多 {LIMITS[name]} 字）",
                   f"{label[1]} is too long (at most {LIMITS[name]} characters)")
    if values["reporter_phone"] and not PHONE.match(values["reporter_phone"]):
        refuse("reporter_phone", "电话号码格式不对", "That does not look like a phone number")
    if values["reporter_email"] and not EMAIL.match(values["reporter_email"]):
        refuse("reporter_email", "电子邮箱格式不对", "That does not look like an e-mail address")
    code = values["class_code"]
    if not code:
        refuse("class_code", "请选择问题类别", "Choose the kind of problem")
    elif not SmallClass.objects.filter(code=code, active=True).exists():
        refuse("class_code", "没有这个问题类别，请重新选择", "Unknown kind of problem: choose again")
    if not values["lon"] or not values["lat"]:
        refuse("location", "请在地图上点选问题所在的位置", "Tap the map where the problem is")
    else:
        try:
            geo.locate_codes(city, float(values["lon"]), float(values["lat"]), crs=values["crs"] or "wgs84")
        except ValueError:
            refuse("location", "位置坐标无效，请在地图上重新点选", "The position is not valid: tap the map again")
        except Invalid:
            refuse("location", "这个位置不在本市城市管理网格范围内，请在地图上重新选择",
                   "This point is outside the city's grids: choose another place on the map")
    uploads, shots, too_large = _read_photos(request, refuse)
    if too_large:
        status = 413
    if not values["description"] and not uploads and "description" not in errors:
        refuse("description", "请简单描述问题，或上传一张照片", "Describe the problem in a few words, or add a photo")
    if status == 413 and len(errors) > 1:
        status = 422
    return values, errors, shots, status


@require_http_methods(["GET", "POST"])
def report(request):
    city = _city(request)
    if request.method == "GET":
        return _render_report(request, city, {}, {})
    wants_json = "application/json" in request.headers.get("Accept", "")

    def refused(errors: dict, status: int, values: dict):
        if wants_json:
            return JsonResponse({"errors": errors}, status=status, json_dumps_params={"ensure_ascii": False})
        return _render_report(request, city, values, errors, status=status)

    if request.POST.get("website"):  # the honeypot: people never see this field, form-filling robots do
        message = _pick(request, ("提交未通过校验，请刷新页面后重试",
                                  "The form did not pass its checks: reload and try again"))
        return refused({"form": message}, 400, {})
    try:
        hit("public-report", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)
    except DomainError as err:
        return refused({"form": err.message(_lang(request))}, err.status, {})
    values, errors, shots, status = _read_report(request, city)
    if errors:
        return refused(errors, status, values)
    try:
        with transaction.atomic():
            case, created = services.report_case(
                actor=None,
                city=city,
                source=Source.PUBLIC,
                class_code=values["class_code"],
                lon=float(values["lon"]),
                lat=float(values["lat"]),
                crs=values["crs"] or "wgs84",
                address=values["address"],
                description=values["description"],
                reporter_name=values["reporter_name"],
                reporter_phone=values["reporter_phone"],
                reporter_email=values["reporter_email"],
                reporter_language=_lang(request),
                client_uuid=values["client_uuid"] or None,
            )
            if created:  # a repeated submission (same client_uuid) returns the first case as it was
                for data, name in shots:
                    photos.add_photo(case, data=data, filename=name, stage="report", actor=None)
    except DomainError as err:
        field = SERVICE_FIELDS.get(err.field or "", err.field or "form")
        return refused({field: err.message(_lang(request))}, err.status, values)
    if created:  # shown once, on the thanks page of this browser
        codes = request.session.get("reporter_codes", {})
        codes[case.number] = citizens.reporter_code(case.number)
        request.session["reporter_codes"] = dict(list(codes.items())[-20:])
    url = reverse("public-thanks", kwargs={"number": case.number})
    if wants_json:
        return JsonResponse({"number": case.number, "url": url}, status=201 if created else 200)
    return redirect(url)
