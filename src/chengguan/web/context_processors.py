from django.conf import settings

from chengguan.web.roles import nav_for


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "nav": nav_for(user) if user is not None else [],
        "map_tiles": {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION,
                      "crs": settings.MAP_TILE_CRS},
    }
