"""Keep every API answer in the JSON error shape, including Django's own 400/404/405/500 pages."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

MESSAGES = {
    400: ("bad_request", "请求无效", "Bad request"),
    403: ("forbidden", "无权访问", "Forbidden"),
    404: ("not_found", "接口不存在", "No such endpoint"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
    413: ("too_large", "请求体过大", "Request body too large"),
    500: ("server_error", "服务器内部错误", "Server error"),
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(("/api/", "/open311/")) or response.status_code not in MESSAGES:
            return response
        if response.get("Content-Type", "").startswith(("application/json", "text/xml", "application/xml")):
            return response
        code, zh, en = MESSAGES[response.status_code]
        language = getattr(request, "LANGUAGE_CODE", "zh-hans") or "zh-hans"
        body = {"error": {"code": code, "message": en if language.startswith("en") else zh}}
        shaped = HttpResponse(json.dumps(body, ensure_ascii=False), status=response.status_code,
                              content_type="application/json; charset=utf-8")
        if "Allow" in response:
            shaped["Allow"] = response["Allow"]
        return shaped
