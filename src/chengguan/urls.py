from django.contrib import admin
from django.urls import include, path, re_path

from chengguan.api import api
from chengguan.open311.views import discovery as open311_discovery
from chengguan.web.views import LoginView, LogoutView, healthz, home

urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("chengguan.cases.urls")),
    path("dashboard/", include("chengguan.web.dashboard")),
    path("open311/v2/", include("chengguan.open311.urls")),
    # Where Chicago's and other deployments publish discovery: outside the versioned prefix.
    re_path(r"^open311/discovery\.(?P<fmt>xml|json)$", open311_discovery),
    path("", include("chengguan.evaluation.urls")),
]
