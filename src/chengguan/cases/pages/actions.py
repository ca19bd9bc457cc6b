"""Apply an operation from a page form: the same service as the API, with form fields typed.

`POST /cases/<number>/act/<operation>` with the form's fields, `version`, optional `note`,
optional photos (`photos`, several), and `next` (where to go back). Errors come back as a
message on the page (or, for HTMX requests, as a 4xx fragment naming the field).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chengguan.cases import photos, queries, services, workflow
from chengguan.errors import DomainError, Invalid

BOOLEAN_FIELDS = {"valid", "fixed", "approve", "self_handled"}
INTEGER_FIELDS = {"minutes"}
TEXT_FIELDS = {"reason", "result", "department", "deadline", "into", "inspector", "class_code", "urgency",
               "address", "description", "crs"}
FLOAT_FIELDS = {"lon", "lat"}
PHOTO_STAGE = {"feedback": "handle", "check": "check", "follow_up": "follow_up", "verify": "check"}


def language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", "zh-hans") or "zh-hans"


def form_fields(post) -> dict:
    """Typed operation fields from a form: booleans, minutes, coordinates and text."""
    fields: dict = {}
    for name in BOOLEAN_FIELDS:
        if name in post:
            value = post.get(name, "").strip().lower()
            if value not in {"true", "false", "1", "0", "on", "yes", "no"}:
                raise Invalid(f"字段 {name} 应为是或否", f"Field '{name}' must be yes or no", field=name)
            fields[name] = value in {"true", "1", "on", "yes"}
    for name in INTEGER_FIELDS:
        if post.get(name, "").strip():
            try:
                fields[name] = int(post[name])
            except ValueError:
                raise Invalid(f"字段 {name} 应为整数", f"Field '{name}' must be a whole number", field=name) from None
    for name in FLOAT_FIELDS:
        if post.get(name, "").strip():
            try:
                fields[name] = float(post[name])
            except ValueError:
                raise Invalid(f"字段 {name} 应为数字", f"Field '{name}' must be a number", field=name) from None
    for name in TEXT_FIELDS:
        if post.get(name, "").strip():
            fields[name] = post[name].strip()
    if "deadline" in fields:
        fields["deadline"] = _with_offset(fields["deadline"])
    return fields


def _with_offset(text: str) -> str:
    """A deadline typed as local wall time (datetime-local inputs send no offset) in the city's zone."""
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    try:
        when = parse_datetime(text)
    except ValueError:  # shaped like a date, but no such day or hour
        when = None
    if when is None:
        raise Invalid("deadline 应为日期时间，例如 2026-11-30 17:30", "Field 'deadline' must be a date and time",
                      field="deadline")
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_current_timezone())
    return when.isoformat()


def _back(request, number: str) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or f"/center/cases/{number}/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = f"/center/cases/{number}/"
    return target


@login_required
@require_POST
def act(request, number: str, operation: str):
    back = _back(request, number)
    try:
        case = queries.get_case_for_user(request.user, number)
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            raise Invalid("缺少案件版本号，请刷新页面", "The form has no case version; reload the page",
                          field="version") from None
        fields = form_fields(request.POST)
        attachment_ids = [
            photos.add_photo(case, data=upload.read(), filename=upload.name,
                             stage=PHOTO_STAGE.get(operation, "follow_up"), actor=request.user).pk
            for upload in request.FILES.getlist("photos")
        ]
        services.apply_operation(case, operation, actor=request.user, version=version,
                                 note=request.POST.get("note", ""), attachments=attachment_ids, fields=fields)
    except DomainError as err:
        text = err.message(language(request))
        if request.headers.get("HX-Request"):
            return HttpResponse(f'<p class="error" role="alert">{escape(text)}</p>', status=err.status)
        messages.error(request, text)
        return redirect(back)
    label_zh, label_en = workflow.TABLE[operation].label_zh, workflow.TABLE[operation].label_en
    done = f"已{label_zh}：{number}" if not language(request).startswith("en") else f"{label_en}: {number}"
    messages.success(request, done)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = back
        return response
    return redirect(back)
