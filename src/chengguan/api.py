"""The native API v1: one NinjaAPI, one router per app, every error in one JSON shape."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language_from_request
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from chengguan.errors import DomainError
from chengguan.org.auth import TokenAuth

api = NinjaAPI(
    title="chengguan API",
    version="1",
    description="数字城管 chengguan 原生接口 · the native API of chengguan",
    auth=TokenAuth(),
    urls_namespace="api-v1",
)


def request_language(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", None) or get_language_from_request(request) or "zh-hans"


def error_response(
    request: HttpRequest, status: int, code: str, zh: str, en: str, field: str | None = None
) -> HttpResponse:
    body: dict = {"code": code, "message": en if request_language(request).startswith("en") else zh}
    if field:
        body["field"] = field
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(request_language(request)), status=exc.status)


_STRUCTURAL = {"body", "payload", "query", "path", "form", "file", "files", "data", "params"}


def _field_name(loc: list) -> str | None:
    parts = [str(p) for p in loc if str(p) not in _STRUCTURAL and not isinstance(p, int)]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    field = _field_name(list(first.get("loc", [])))
    kind = first.get("type", "")
    detail = first.get("msg", "")
    if kind == "missing":
        zh, en = f"缺少必填字段：{field}", f"Field '{field}' is required"
    else:
        zh, en = f"字段 {field} 的值无效（{detail}）", f"Field '{field}' is invalid: {detail}"
    return error_response(request, 422, "invalid", zh, en, field)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        401,
        "unauthenticated",
        "请先登录：缺少或无效的令牌",
        "Authentication required: missing or invalid token",
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return error_response(request, 400, "malformed", "请求体不是有效的 JSON", "The request body is not valid JSON")
    if exc.status_code == 429:
        return error_response(
            request, 429, "throttled", "请求过于频繁，请稍后再试", "Too many requests, try again later"
        )
    return error_response(request, exc.status_code, "error", str(exc), str(exc))


def _register_routers() -> None:
    from chengguan.cases.api import public_router
    from chengguan.cases.api import router as cases_router
    from chengguan.catalog.api import router as catalog_router
    from chengguan.evaluation.api import router as evaluation_router
    from chengguan.evaluation.bulletin_api import router as bulletin_router
    from chengguan.geo.api import router as geo_router
    from chengguan.org.api import router as org_router

    api.add_router("/auth", org_router)
    api.add_router("/geo", geo_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/cases", cases_router)
    api.add_router("/public", public_router)
    api.add_router("/evaluation", evaluation_router)
    api.add_router("/bulletins", bulletin_router)


_register_routers()
