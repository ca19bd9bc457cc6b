"""Routes of the citizens' portal under /public/."""

from django.urls import path

from chengguan.cases.pages import public_geo, public_report, public_reporter
from chengguan.cases.pages.public import home, lookup, rate, thanks, track

urlpatterns = [
    path("", home, name="public-home"),
    path("report/", public_report.report, name="public-report"),
    path("cases/", lookup, name="public-lookup"),
    path("cases/<str:number>/", track, name="public-case"),
    path("cases/<str:number>/thanks/", thanks, name="public-thanks"),
    path("cases/<str:number>/rating", rate, name="public-rate"),
    path("cases/<str:number>/follow-up", public_reporter.follow_up, name="public-follow-up"),
    path("cases/<str:number>/not-fixed", public_reporter.not_fixed, name="public-not-fixed"),
    path("mine/", public_reporter.mine, name="public-mine"),
    path("geo/locate", public_geo.locate, name="public-locate"),
    path("geo/regions", public_geo.regions, name="public-regions"),
    path("geo/grids", public_geo.grids, name="public-grids"),
]
