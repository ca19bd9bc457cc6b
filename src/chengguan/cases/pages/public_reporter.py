"""The reporter's own actions on the public portal: follow-ups, "not fixed", and my cases.

Part of the citizens' portal (`public.py` holds the pages these answer on; `public_urls.py` routes).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from chengguan.cases import citizens, photos, present, services
from chengguan.cases.citizens import MINE_LIMIT
from chengguan.cases.pages.public import (
    CITIZEN_FIELDS,
    LIMITS,
    PLAIN,
    _class_name,
    _lang,
    _missing,
    _pick,
    _public_case,
    _track,
)
from chengguan.cases.pages.public_report import _read_photos
from chengguan.errors import DomainError, Invalid, TooLarge
from chengguan.ratelimit import client_address, hit


def _citizen_values(request) -> dict:
    post = request.POST
    return {"note": (post.get("note") or "").strip(), "phone": (post.get("phone") or "").strip()[:40],
            "code": (post.get("code") or "").strip()[:40]}


def _citizen_refused(request, number: str, form: str, err: DomainError, values: dict):
    field = CITIZEN_FIELDS.get(err.field or "", err.field or "form")
    values = {**values, "code": ""}  # a code typed wrong is not echoed back
    return _track(request, number, status=err.status, citizen_form=form,
                  citizen_errors={field: err.message(_lang(request))}, citizen_values=values)


def _check_note(note: str, *, required: bool) -> None:
    if len(note) > LIMITS["note"]:
        raise Invalid(f"内容太长了（最多 {LIMITS['note']} 字）",
                      f"That is too long (at most {LIMITS['note']} characters)", field="note")
    if required and not note:
        raise Invalid("请写下要补充的情况，或附上照片", "Write what to add, or add a photo", field="note")


@require_POST
def follow_up(request, number: str):
    """The reporter adds a note and photos: a `follow_up` event the department sees and is told of."""
    case = _public_case(number)
    if case is None:
        return _missing(request, number)
    values = _citizen_values(request)
    errors: dict[str, tuple[str, str]] = {}

    def refuse(field: str, zh: str, en: str) -> None:
        errors.setdefault(field, (zh, en))

    try:
        hit("public-follow-up", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)
        citizens.limit_attempts(request, case.number)
        citizens.check_reporter(case, phone=values["phone"], code=values["code"])
        _, shots, too_large = _read_photos(request, refuse)
        if errors:
            (zh, en), = errors.values()
            raise (TooLarge if too_large else Invalid)(zh, en, field="photos")
        _check_note(values["note"], required=not shots)
        with transaction.atomic():
            ids = [photos.add_photo(case, data=data, filename=name, stage="follow_up", actor=None).pk
                   for data, name in shots]
            services.apply_as_citizen(case, "follow_up", note=values["note"], attachments=ids)
    except DomainError as err:
        return _citizen_refused(request, number, "follow_up", err, values)
    return redirect(reverse("public-case", kwargs={"number": case.number}) + "?done=follow_up#citizen")


@require_POST
def not_fixed(request, number: str):
    """The reporter says a closed case is not fixed: `dispute` puts it back before the call-taker."""
    case = _public_case(number)
    if case is None:
        return _missing(request, number)
    values = _citizen_values(request)
    try:
        hit("public-dispute", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)
        citizens.limit_attempts(request, case.number)
        citizens.check_reporter(case, phone=values["phone"], code=values["code"])
        if not values["note"]:
            raise Invalid("请说明哪里没有解决", "Say what is not fixed", field="note")
        _check_note(values["note"], required=True)
        services.apply_as_citizen(case, "dispute", note=values["note"])
    except DomainError as err:
        return _citizen_refused(request, number, "dispute", err, values)
    return redirect(reverse("public-case", kwargs={"number": case.number}) + "?done=dispute#citizen")


@require_http_methods(["GET", "POST"])
def mine(request):
    """My cases: phone number plus one case number → every case reported with that phone."""
    values = {"phone": "", "number": request.GET.get("number", "")[:40]}
    errors: dict[str, str] = {}
    items = None
    masked = ""
    status = 200
    if request.method == "POST":
        values = {"phone": (request.POST.get("phone") or "").strip()[:40],
                  "number": (request.POST.get("number") or "").strip()[:40]}
        try:
            _, found = citizens.find_my_cases(request, phone=values["phone"], number=values["number"])
        except DomainError as err:
            errors[err.field or "form"] = err.message(_lang(request))
            status = err.status
        else:
            masked = present.mask_phone(citizens.phone_key(values["phone"]))
            items = [{"number": c.number, "class_name": _class_name(request, c.small_class),
                      "headline": _pick(request, PLAIN[c.state][:2]), "tone": PLAIN[c.state][2],
                      "reported_at": c.reported_at, "closed_at": c.closed_at} for c in found]
            values["phone"] = ""  # not written back into the page
    context = {"values": values, "errors": errors, "items": items, "masked": masked, "limit": MINE_LIMIT}
    return render(request, "cases/public/mine.html", context, status=status)
