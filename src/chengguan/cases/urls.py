"""Pages of the cases app: each room keeps its own module under cases/pages/."""

from django.urls import include, path

from chengguan.cases.pages import actions

urlpatterns = [
    path("cases/<str:number>/act/<str:operation>", actions.act, name="case-act"),
    path("center/", include("chengguan.cases.pages.center")),
    path("center/map/", include("chengguan.cases.pages.maps")),
    path("inbox/", include("chengguan.cases.pages.inbox")),
    path("m/", include("chengguan.cases.pages.mobile")),
    path("public/", include("chengguan.cases.pages.public_urls")),
]
