"""Which page is each role's home, and a guard for role-only pages."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden
from django.template.loader import render_to_string

ROLE_HOME = {
    "inspector": "/m/",
    "volunteer": "/m/",
    "operator": "/center/",
    "shiftlead": "/center/",
    "dispatcher": "/center/",
    "department": "/inbox/",
    "leader": "/dashboard/",
    "evaluator": "/dashboard/",
    "admin": "/admin/",
}

# The navigation each role sees: (path, 中文, English).
NAV = {
    "center": ("/center/", "指挥中心", "Command center"),
    "map": ("/center/map/", "地图", "Map"),
    "inbox": ("/inbox/", "待办任务", "Inbox"),
    "mobile": ("/m/", "城管通", "Field"),
    "dashboard": ("/dashboard/", "领导驾驶舱", "Dashboard"),
    "evaluation": ("/evaluation/", "综合评价", "Evaluation"),
    "appeals": ("/evaluation/appeals/", "申诉核减", "Appeals"),
    "bulletins": ("/bulletins/", "四个一通报", "Bulletins"),
    "public": ("/public/", "市民服务", "Citizens"),
    "admin": ("/admin/", "系统管理", "Admin"),
}
ROLE_NAV = {
    "inspector": ["mobile"],
    "volunteer": ["mobile"],
    "operator": ["center", "map"],
    "shiftlead": ["center", "map", "dashboard", "evaluation", "bulletins"],
    "dispatcher": ["center", "map"],
    "department": ["inbox", "evaluation", "appeals"],
    "leader": ["dashboard", "bulletins", "evaluation", "center", "map"],
    "evaluator": ["dashboard", "evaluation", "bulletins", "appeals"],
    "admin": ["admin", "center", "map", "dashboard", "evaluation", "bulletins", "appeals"],
}


def home_for(user) -> str:
    if user.is_superuser:
        return "/admin/"
    return ROLE_HOME.get(user.role, "/public/")


def nav_for(user) -> list[tuple[str, str, str]]:
    if not user.is_authenticated:
        return [NAV["public"]]
    keys = ROLE_NAV.get(user.role, [])
    if user.is_superuser and "admin" not in keys:
        keys = ["admin", *keys]
    return [NAV[k] for k in keys]


def role_required(*roles: str):
    """Only these roles (and superusers) may open the page; others get a 403 page, strangers the login."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in roles and not user.is_superuser:
                html = render_to_string("web/forbidden.html", {"home": home_for(user)}, request=request)
                return HttpResponseForbidden(html)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
