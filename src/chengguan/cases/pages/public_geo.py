"""The public map's data: the public may not call the staff API, so the portal answers these itself."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from chengguan.cases.pages.public import _city, _json_error, _place_names
from chengguan.errors import DomainError, Invalid
from chengguan.geo import services as geo
from chengguan.ratelimit import client_address, hit


def _limit_reads(request) -> None:
    hit("public-map", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE * 10, window_seconds=60)


@require_GET
def locate(request):
    """Which street and community a point is in; 422 naming `lon` outside the city's grids."""
    try:
        _limit_reads(request)
        try:
            lon, lat = float(request.GET.get("lon", "")), float(request.GET.get("lat", ""))
        except ValueError:
            raise Invalid("请提供经纬度 lon、lat", "Give lon and lat", field="lon") from None
        found = geo.locate_codes(_city(request), lon, lat, crs=request.GET.get("crs") or "wgs84")
    except DomainError as err:
        return _json_error(request, err)
    names = _place_names([found.district_code, found.street_code, found.community_code])
    return JsonResponse({
        "district": names.get(found.district_code, ""),
        "street": names.get(found.street_code, ""),
        "community": names.get(found.community_code, ""),
        "lon": found.lon,
        "lat": found.lat,
    }, json_dumps_params={"ensure_ascii": False})


@require_GET
def regions(request):
    """The district and street boundaries (WGS84 GeoJSON): the map without background tiles."""
    try:
        _limit_reads(request)
    except DomainError as err:
        return _json_error(request, err)
    city = _city(request)
    features = [geo.region_feature(r) for r in geo.regions_of(city).filter(level__in=("district", "street"))]
    response = JsonResponse(geo.feature_collection(features), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=600"
    return response


@require_GET
def grids(request):
    """Unit grids in a box (`bbox=minlon,minlat,maxlon,maxlat`), at most 400: shown when zoomed in."""
    try:
        _limit_reads(request)
        box = geo.parse_bbox(request.GET.get("bbox"))
        found, truncated = geo.grids_in_bbox(_city(request), box, limit=400)
    except DomainError as err:
        return _json_error(request, err)
    features = [
        {"type": "Feature", "geometry": g.geometry, "properties": {"code": g.code}} for g in found
    ]
    return JsonResponse(geo.feature_collection(features, truncated=truncated))
