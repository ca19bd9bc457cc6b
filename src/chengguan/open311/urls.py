"""Open311 GeoReport v2 under /open311/v2/.

Lenient paths, as real clients send them: `.xml`/`.json` or no suffix (then `?format=`), `//`
anywhere, a trailing `/`, and `service/{code}` beside `services/{code}`.
"""

from django.urls import re_path

from chengguan.open311 import views

SUFFIX = r"(?:\.(?P<fmt>[A-Za-z0-9]{1,10}))?/?$"
ID_SUFFIX = r"(?:\.(?P<fmt>xml|json|XML|JSON))?/?$"

urlpatterns = [
    re_path(r"^(?:/+)?discovery" + SUFFIX, views.discovery, name="open311-discovery"),
    re_path(r"^(?:/+)?services" + SUFFIX, views.service_list, name="open311-services"),
    re_path(r"^(?:/+)?services?/+(?P<code>[^/]+?)" + ID_SUFFIX, views.service_definition, name="open311-service"),
    re_path(r"^(?:/+)?requests" + SUFFIX, views.requests, name="open311-requests"),
    re_path(r"^(?:/+)?requests/+(?P<request_id>[^/]+?)" + ID_SUFFIX, views.service_request, name="open311-request"),
    re_path(r"^(?:/+)?tokens/+(?P<token>[^/]+?)" + ID_SUFFIX, views.token, name="open311-token"),
    re_path(r"^(?:/+)?servicerequestupdates" + SUFFIX, views.request_updates, name="open311-updates"),
    re_path(r"^(?P<rest>.*?)" + ID_SUFFIX, views.not_found, name="open311-not-found"),
]
